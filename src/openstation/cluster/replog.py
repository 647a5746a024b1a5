"""The active server's replication log: changes in commit order, each with a sequence
number, until the passive acknowledges them; and the waits that make a write's answer
follow its replication.

Appends may come from any thread (the store's commit listener); everything else runs on the
device's event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

Entry = dict[str, Any]


class ReplicationLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[tuple[int, Entry]] = deque()
        self._next = 1
        self.acked = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._progress: asyncio.Condition | None = None

    def attach(self) -> None:
        """Bind to the running event loop (the device's)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()

    @property
    def pending(self) -> int:
        return len(self._entries)

    @property
    def last(self) -> int:
        """The sequence number of the newest entry ever appended."""
        return self._next - 1

    def append(self, entry: Entry) -> int:
        with self._lock:
            seq = self._next
            self._entries.append((seq, entry))
            self._next += 1
        self.kick()
        return seq

    def first(self) -> tuple[int, Entry] | None:
        with self._lock:
            return self._entries[0] if self._entries else None

    async def acknowledge(self, seq: int) -> None:
        """The passive applied the first entry."""
        with self._lock:
            if self._entries and self._entries[0][0] == seq:
                self._entries.popleft()
        self.acked = seq
        await self.release()

    def clear(self) -> int:
        """Drop every entry (a full resync carries them); returns the last sequence number."""
        with self._lock:
            self._entries.clear()
            return self._next - 1

    def restart(self) -> None:
        """A new active, a new numbering (the passive is told where it starts)."""
        with self._lock:
            self._entries.clear()
            self._next, self.acked = 1, 0

    def kick(self) -> None:
        """Wake the shipper, from any thread."""
        if self._loop is None or self._wake is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def work(self) -> None:
        """Wait for the next kick."""
        assert self._wake is not None
        await self._wake.wait()
        self._wake.clear()

    async def acknowledged(self, still_replicating: Callable[[], bool]) -> None:
        """Wait until everything appended so far is acknowledged, or replication stopped."""
        if self._progress is None:
            return
        target = self.last
        async with self._progress:
            await self._progress.wait_for(
                lambda: self.acked >= target or not still_replicating())

    async def release(self) -> None:
        """Let waiters look again (after an acknowledgement or a failure)."""
        if self._progress is not None:
            async with self._progress:
                self._progress.notify_all()
