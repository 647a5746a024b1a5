"""Control Panel > Notification: the mail server, the webhook and the rules (checked,
committed with their audit entry, published). The SMTP password is sealed with the machine
key and never shown again."""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from openstation.config.changes import changed
from openstation.config.sections import MailSecurity, Notifications, NotifyEvent
from openstation.config.store import ConfigStore
from openstation.security.machine_key import NOTIFY, MachineKey

ADDRESS = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,253}$")
HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$")
MAX_RECIPIENTS = 20


def problems_of(settings: Notifications) -> dict[str, str]:
    """Every problem of the settings, by field (pure)."""
    problems: dict[str, str] = {}
    for name in ("mail_enabled", "webhook_enabled"):
        if not isinstance(getattr(settings, name), bool):
            problems[name] = "true or false"
    for name in ("smtp_server", "smtp_user", "sender", "subject_prefix", "webhook_url"):
        if not isinstance(getattr(settings, name), str):
            problems[name] = "text"
    if not isinstance(settings.smtp_port, int) or isinstance(settings.smtp_port, bool) or \
            not 1 <= settings.smtp_port <= 65535:
        problems["smtp_port"] = "1 to 65535"
    if not isinstance(settings.recipients, list) or \
            not all(isinstance(r, str) for r in settings.recipients):
        problems["recipients"] = "a list of addresses"
    warning = settings.volume_warning_percent
    if not isinstance(warning, int) or isinstance(warning, bool) or not 1 <= warning <= 99:
        problems["volume_warning_percent"] = "1 to 99"
    if problems:
        return problems
    if settings.smtp_server and not HOST.match(settings.smtp_server):
        problems["smtp_server"] = "a host name or an address"
    if settings.mail_enabled:
        if not settings.smtp_server:
            problems["smtp_server"] = "needed to send mail"
        if not settings.recipients:
            problems["recipients"] = "at least one address to send to"
    if settings.sender and not ADDRESS.match(settings.sender):
        problems["sender"] = "a mail address"
    if len(settings.recipients) > MAX_RECIPIENTS:
        problems["recipients"] = f"at most {MAX_RECIPIENTS}"
    elif bad := [r for r in settings.recipients if not ADDRESS.match(r)]:
        problems["recipients"] = f"not a mail address: {', '.join(bad[:3])}"
    if len(settings.subject_prefix) > 64 or any(
            unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in settings.subject_prefix):
        problems["subject_prefix"] = "one line of at most 64 printable characters"
    if settings.webhook_url or settings.webhook_enabled:
        try:
            parts = urlsplit(settings.webhook_url)
            usable = parts.scheme in ("http", "https") and bool(parts.hostname) and \
                len(settings.webhook_url) <= 2048
        except ValueError:  # e.g. "http://[": not a URL at all
            usable = False
        if not usable:
            problems["webhook_url"] = "an http:// or https:// address"
    return problems


class NotificationService:
    """Reads and changes the notification settings."""

    def __init__(self, store: ConfigStore, machine_key: MachineKey) -> None:
        self.store = store
        self.machine_key = machine_key

    def settings(self) -> Notifications:
        return self.store.get(Notifications)

    def password(self) -> str:
        sealed = self.settings().smtp_password
        return self.machine_key.open(sealed, NOTIFY) if sealed else ""

    def set(self, actor: str, **changes: Any) -> Notifications:
        """Change some fields (None leaves one as it is; a password of "" keeps the one
        stored); every problem at once, nothing changed on any."""
        password = changes.pop("smtp_password", None)
        settings = changed(self.settings(), changes, problems_of,
                           {"security": MailSecurity, "events": NotifyEvent})
        if password:
            settings.smtp_password = self.machine_key.seal(str(password), NOTIFY)
        with self.store.transaction(actor, "notifications") as tx:
            tx.put(settings)
        return settings
