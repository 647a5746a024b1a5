"""Appliers that follow the audit log as it commits (Log Center's events): notifications,
log sending.

The store calls `saw` after each commit with its audit entries, under its lock and in the
committing thread (a worker thread, for a reset). The entries a follower `wants` (decided
there: cheaply) are handed to the loop and `handle`d one at a time by a task of its own, so
a slow mail or syslog server never holds a commit. The queue is bounded: beyond it,
entries are dropped and counted."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from openstation.config.store import AuditEntry, ConfigStore

log = logging.getLogger(__name__)
QUEUE_LIMIT = 1000


class AuditFollower:
    name = "audit follower"

    def __init__(self, store: ConfigStore, limit: int = QUEUE_LIMIT) -> None:
        self.store = store
        self.dropped = 0
        self._queue: asyncio.Queue[AuditEntry] = asyncio.Queue(limit)
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[None] | None = None

    def wants(self, entry: AuditEntry) -> bool:
        """(Any thread, under the store's lock.) Whether to `handle` this entry."""
        raise NotImplementedError

    async def handle(self, entry: AuditEntry) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self.store.audit_listeners.append(self.saw)
        self._task = self._loop.create_task(self._run(), name=self.name)

    async def close(self) -> None:
        with contextlib.suppress(ValueError):
            self.store.audit_listeners.remove(self.saw)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def saw(self, entries: list[AuditEntry]) -> None:
        for entry in entries:
            if self.wants(entry):
                self._loop.call_soon_threadsafe(self._enqueue, entry)

    def _enqueue(self, entry: AuditEntry) -> None:
        try:
            self._queue.put_nowait(entry)
        except asyncio.QueueFull:
            self.dropped += 1

    async def _run(self) -> None:
        while True:
            entry = await self._queue.get()
            try:
                await self.handle(entry)
            except Exception:  # one entry's failure must not end the follower
                log.exception("%s: entry %s", self.name, entry.id)
            finally:
                self._queue.task_done()

    async def drain(self) -> None:
        """Wait until every queued entry has been handled (tests)."""
        await self._queue.join()
