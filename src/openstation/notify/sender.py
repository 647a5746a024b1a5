"""Sending one notification: mail through the configured SMTP server (aiosmtplib: asyncio,
no thread), or a JSON POST to the webhook (aiohttp). Each is bounded in time, and a
failure comes back as words, never as a traceback."""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from typing import Any

import aiohttp
import aiosmtplib

from openstation import system_cas
from openstation.config.sections import MailSecurity, Notifications

TIMEOUT = 20.0  # seconds, for the whole conversation


async def send_mail(settings: Notifications, password: str, subject: str, body: str,
                    local_name: str) -> str | None:
    """Send to every recipient; None when the server took it, else why not. `local_name`
    is the name the device greets the server with (no lookup of the host's own name)."""
    if not settings.recipients:
        return "no recipient is set"
    mail = EmailMessage()
    sender = settings.sender or f"openstation@{settings.smtp_server}"
    try:
        mail["From"] = sender
        mail["To"] = ", ".join(settings.recipients)
        mail["Subject"] = subject
        mail.set_content(body)
    except ValueError as exc:  # a header the mail library refuses
        return f"the message cannot be made: {exc}"[:300]
    secure = settings.security is not MailSecurity.NONE
    options: dict[str, Any] = {
        "hostname": settings.smtp_server, "port": settings.smtp_port, "timeout": TIMEOUT,
        "sender": sender, "recipients": list(settings.recipients),
        "local_hostname": local_name, "use_tls": settings.security is MailSecurity.TLS,
        "start_tls": settings.security is MailSecurity.STARTTLS,
        "tls_context": await system_cas.tls_context() if secure else None}
    if settings.smtp_user:
        options.update(username=settings.smtp_user, password=password)
    try:
        await aiosmtplib.send(mail, **options)
    except (aiosmtplib.SMTPException, OSError, ssl.SSLError, TimeoutError,
            ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


async def post_webhook(url: str, payload: dict[str, Any]) -> str | None:
    """POST the event as JSON; None on a 2xx answer, else why not."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as http, \
                http.post(url, json=payload, allow_redirects=False) as response:
            if 200 <= response.status < 300:
                return None
            return f"HTTP {response.status}"
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
