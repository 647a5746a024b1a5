"""The notifications' applier: it follows the audit log as it commits, and for each entry a
rule names, sends mail and calls the webhook, one at a time, off the committing thread.

An entry is taken in under the store's lock (possibly in a worker thread: a reset runs
there); the sending happens on the loop, queued, so a slow mail server never holds a commit.
Each send's outcome is kept for Control Panel (`recent`), not written to the store: a
failure to notify must not itself become a notification."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any

from openstation.config.sections import General, NotifyEvent
from openstation.config.store import AuditEntry, ConfigStore
from openstation.notify import rules, sender
from openstation.notify.service import NotificationService

QUEUE_LIMIT = 100  # notifications waiting to be sent; more are dropped (and counted)
KEEP = 50


class Notifier:
    def __init__(self, store: ConfigStore, service: NotificationService,
                 clock: Callable[[], float]) -> None:
        self.store = store
        self.service = service
        self.clock = clock
        self.recent: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self.dropped = 0
        self._queue: asyncio.Queue[tuple[NotifyEvent, AuditEntry]] = asyncio.Queue(QUEUE_LIMIT)
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.store.audit_listeners.append(self.saw)
        self._task = self._loop.create_task(self._run(), name="notifier")

    async def close(self) -> None:
        with contextlib.suppress(ValueError):
            self.store.audit_listeners.remove(self.saw)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def saw(self, entries: list[AuditEntry]) -> None:
        """A commit's audit entries (any thread, under the store's lock)."""
        settings = self.service.settings()
        if not (settings.mail_enabled or settings.webhook_enabled):
            return
        for entry in entries:
            event = rules.classify(entry)
            if event is not None and event in settings.events:
                self._loop.call_soon_threadsafe(self._enqueue, event, entry)

    def _enqueue(self, event: NotifyEvent, entry: AuditEntry) -> None:
        try:
            self._queue.put_nowait((event, entry))
        except asyncio.QueueFull:
            self.dropped += 1

    async def _run(self) -> None:
        while True:
            event, entry = await self._queue.get()
            await self.send(event, entry)
            self._queue.task_done()

    async def drain(self) -> None:
        """Wait until every queued notification has been sent (tests)."""
        await self._queue.join()

    async def send(self, event: NotifyEvent, entry: AuditEntry) -> dict[str, Any]:
        """Send one notification by every enabled way; what happened, per way."""
        settings = self.service.settings()
        server = self.store.get(General).server_name or "openstation"
        subject, body = rules.message(event, entry, server, settings.subject_prefix)
        return await self._deliver(event.value, subject, body, {
            "event": event.value, "server": server, "subject": subject, "text": body,
            "time": int(entry.at), "actor": entry.actor}, mail=settings.mail_enabled)

    async def test(self) -> dict[str, Any]:
        """Control Panel's "Send a test message": by mail to the server as set, even
        before mail is switched on, and to the webhook if it is on."""
        settings = self.service.settings()
        server = self.store.get(General).server_name or "openstation"
        subject = f"{settings.subject_prefix} {server}: test message".strip()
        body = f"This is a test message from {server}. Its notifications reach you."
        return await self._deliver("test", subject, body, {
            "event": "test", "server": server, "subject": subject, "text": body,
            "time": int(self.clock())}, mail=bool(settings.smtp_server))

    async def _deliver(self, event: str, subject: str, body: str, payload: dict[str, Any],
                       *, mail: bool) -> dict[str, Any]:
        settings = self.service.settings()
        outcome: dict[str, Any] = {"time": self.clock(), "event": event, "subject": subject}
        if mail:
            outcome["mail"] = await sender.send_mail(settings, self.service.password(),
                                                     subject, body) or "sent"
        if settings.webhook_enabled:
            outcome["webhook"] = await sender.post_webhook(settings.webhook_url,
                                                           payload) or "sent"
        self.recent.appendleft(outcome)
        return outcome
