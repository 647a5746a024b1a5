"""The notifications' applier: it follows the audit log as it commits (audit_follower.py),
and for each entry a rule names, sends mail and calls the webhook, one at a time.

Each send's outcome is kept for Control Panel (`recent`), not written to the store: a
failure to notify must not itself become a notification. A send that fails, however it
fails, is an outcome, never the end of the notifications."""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable
from typing import Any

from openstation.audit_follower import AuditFollower
from openstation.config.sections import General, NotifyEvent
from openstation.config.store import AuditEntry, ConfigStore
from openstation.errors import StoreError
from openstation.notify import rules, sender
from openstation.notify.service import NotificationService

KEEP = 50
QUEUE_LIMIT = 100  # notifications waiting to be sent; more are dropped (and counted)


class Notifier(AuditFollower):
    name = "notifier"

    def __init__(self, store: ConfigStore, service: NotificationService,
                 clock: Callable[[], float]) -> None:
        super().__init__(store, QUEUE_LIMIT)
        self.service = service
        self.clock = clock
        self.recent: deque[dict[str, Any]] = deque(maxlen=KEEP)

    def wants(self, entry: AuditEntry) -> bool:
        settings = self.service.settings()
        if not (settings.mail_enabled or settings.webhook_enabled):
            return False
        event = rules.classify(entry)
        return event is not None and event in settings.events

    async def handle(self, entry: AuditEntry) -> None:
        event = rules.classify(entry)
        if event is not None:
            await self.send(event, entry)

    async def send(self, event: NotifyEvent, entry: AuditEntry) -> dict[str, Any]:
        """Send one notification by every enabled way; what happened, per way."""
        settings = self.service.settings()
        server = self.server_name()
        subject, body = rules.message(event, entry, server, settings.subject_prefix)
        return await self._deliver(event.value, subject, body, {
            "event": event.value, "server": server, "subject": subject, "text": body,
            "time": int(entry.at), "actor": entry.actor}, mail=settings.mail_enabled)

    async def test(self) -> dict[str, Any]:
        """Control Panel's "Send a test message": by mail to the server as set, even
        before mail is switched on, and to the webhook if it is on."""
        settings = self.service.settings()
        server = self.server_name()
        subject = f"{settings.subject_prefix} {server}: test message".strip()
        body = f"This is a test message from {server}. Its notifications reach you."
        return await self._deliver("test", subject, body, {
            "event": "test", "server": server, "subject": subject, "text": body,
            "time": int(self.clock())}, mail=bool(settings.smtp_server))

    async def mail_to(self, address: str, subject: str, body: str) -> str | None:
        """One mail to `address` through the SMTP server as set (a scheduled task's own
        address); None when the server took it, else why not."""
        settings = self.service.settings()
        if not settings.smtp_server:
            return "no SMTP server is set (Control Panel > Notification)"
        try:
            password = self.service.password()
        except StoreError:
            return "the SMTP password was sealed by another machine key: enter it again"
        server = self.server_name()
        return await sender.send_mail(dataclasses.replace(settings, recipients=[address]),
                                      password, f"{settings.subject_prefix} {server}: "
                                      f"{subject}".strip(), body, server)

    def server_name(self) -> str:
        return self.store.get(General).server_name or "openstation"

    async def _deliver(self, event: str, subject: str, body: str, payload: dict[str, Any],
                       *, mail: bool) -> dict[str, Any]:
        settings = self.service.settings()
        outcome: dict[str, Any] = {"time": self.clock(), "event": event, "subject": subject}
        if mail:
            try:
                password = self.service.password()
            except StoreError:
                outcome["mail"] = "the SMTP password was sealed by another machine key: " \
                                  "enter it again"
            else:
                outcome["mail"] = await sender.send_mail(
                    settings, password, subject, body, self.server_name()) or "sent"
        if settings.webhook_enabled:
            outcome["webhook"] = await sender.post_webhook(settings.webhook_url,
                                                           payload) or "sent"
        self.recent.appendleft(outcome)
        return outcome
