"""Shared-folder quotas (Control Panel > Shared Folder > Edit > "Enable shared folder
quota"): what a share may hold, what it holds, and who must stop writing.

A share's use is the bytes of its files (its recycle bin included; an encrypted share's
ciphertext), measured by a walk off the loop: every SCAN_EVERY seconds, every NEAR_EVERY
once a share is past NEAR of its quota, and at once when a quota is set. The device's own
ways in (File Station, SFTP, WebDAV, archives, copies) ask `room` before they write and
claim what they are about to write, so they never pass the quota. smbd and rsync write on
their own: the share is reported to SMB clients with its quota as its size (Explorer and
Finder refuse a copy that does not fit), and once the walk finds it full both serve it read
only until it has room again; what they write in the moments before can pass the quota by
that much. No real file system quota is used: the volume is a folder of the host's."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from openstation import background, offload
from openstation.config.sections import Share
from openstation.config.store import ConfigStore
from openstation.storage.volume import metadata_folder

log = logging.getLogger(__name__)
SCAN_EVERY = 10.0
NEAR_EVERY = 1.0
NEAR = 0.9
# A full share has room again once this much is free (of its quota), and no sooner than
# ROOM_AFTER seconds after it filled: each switch restarts smbd, which a user filling
# and emptying a share must not be able to do every second.
HYSTERESIS = 0.02
ROOM_AFTER = 15.0
WALK_SHARE = 5  # a walk every second at most takes a fifth of the time


def folder_bytes(folder: Path) -> int:
    """Bytes used by the files below `folder` (links not followed; a file with several
    names counted once)."""
    total = 0
    seen: set[tuple[int, int]] = set()
    stack = [folder]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    elif entry.is_file(follow_symlinks=False):
                        info = entry.stat(follow_symlinks=False)
                        if info.st_nlink > 1:
                            if (info.st_dev, info.st_ino) in seen:
                                continue
                            seen.add((info.st_dev, info.st_ino))
                        total += info.st_size
        except OSError:
            continue
    return total


class Quotas:
    def __init__(self, store: ConfigStore, volume: Path) -> None:
        self.store = store
        self.volume = volume
        self.used: dict[str, int] = {}  # share → bytes, at the last walk
        self.limits: dict[str, int] = {}  # share → its quota in bytes, as of the last walk
        self.claimed: dict[str, int] = {}  # share → bytes set aside by writes in flight
        self.full: frozenset[str] = frozenset()
        self._filled: dict[str, float] = {}  # share → when it was found full
        self._since_walk: dict[str, int] = {}  # written through the device during a walk
        self._walk_took = 0.0
        # Told when a share fills up or has room again (smbd's configuration follows).
        self.full_changed: list[Callable[[], Awaitable[None]]] = []
        self.scanned: list[Callable[[], Awaitable[None]]] = []  # after every walk
        self._task: asyncio.Task[None] | None = None
        self._scanning = asyncio.Lock()
        self._lock = threading.Lock()

    def room(self, name: str) -> int | None:
        """Bytes `name` may still take (None: no quota), less what is in flight. Asked
        for every SFTP packet: the quotas are read at each walk (and a change of a share
        walks at once), not from the store here."""
        limit = self.limits.get(name)
        if limit is None:
            return None
        return limit - self.used.get(name, limit) - self.claimed.get(name, 0)

    def claim(self, name: str, size: int) -> None:
        with self._lock:
            self.claimed[name] = self.claimed.get(name, 0) + size

    def release(self, name: str, size: int) -> None:
        with self._lock:
            left = self.claimed.get(name, 0) - size
            if left > 0:
                self.claimed[name] = left
            else:
                self.claimed.pop(name, None)

    def wrote(self, name: str, size: int) -> None:
        """A write through the device finished: what it changed in the share's use counted
        now, not at the next walk (and kept if a walk is under way: it may have passed
        that folder already)."""
        with self._lock:  # WebDAV's threads, copy tasks and the loop
            if name in self.used:  # (negative: a file the write replaced or truncated)
                self.used[name] = max(0, self.used[name] + size)
                self._since_walk[name] = self._since_walk.get(name, 0) + size

    # --- the walk ----------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="quotas")

    async def rescan(self, _event: object = None) -> None:
        """Walk again now (a share or its quota changed: an applier, so the change answers
        once the quota holds)."""
        await self.scan()

    async def scan(self) -> None:
        async with self._scanning:  # one walk at a time: the loop's and a rescan
            await self._scan()

    async def _scan(self) -> None:
        shares = [s for s in self.store.records(Share) if s.quota_mb]
        # a quota holds from now, with the share's use unknown (no room) until walked
        self.limits = {s.name: s.quota_mb << 20 for s in shares}
        with self._lock:
            self._since_walk = {}
        began = time.monotonic()
        sizes = await offload.run(lambda: {
            s.name: folder_bytes(metadata_folder(self.volume, s.name, s.encrypted))
            for s in shares})
        self._walk_took = time.monotonic() - began
        with self._lock:
            self.used = {name: size + self._since_walk.get(name, 0)
                         for name, size in sizes.items()}
        self._filled = {n: t for n, t in self._filled.items() if n in sizes}
        full = frozenset(s.name for s in shares if self._full(s, time.monotonic()))
        if full != self.full:
            filled, emptied = sorted(full - self.full), sorted(self.full - full)
            self.full = full
            log.info("shares full: %s; with room again: %s", filled, emptied)
            for told in list(self.full_changed):
                await told()
        for told in list(self.scanned):
            await told()

    def _full(self, share: Share, now: float) -> bool:
        limit, used = share.quota_mb << 20, self.used[share.name]
        if used >= limit:
            self._filled.setdefault(share.name, now)
            return True
        filled = self._filled.get(share.name)
        if filled is not None and (used > limit * (1 - HYSTERESIS) or
                                   now - filled < ROOM_AFTER):
            return True  # full until clearly not, and not at once
        self._filled.pop(share.name, None)
        return False

    def _near(self) -> bool:
        return any(used >= NEAR * (share.quota_mb << 20)
                   for share in self.store.records(Share) if share.quota_mb
                   for used in [self.used.get(share.name, 0)])

    async def _run(self) -> None:
        while True:
            try:
                await self.scan()
            except Exception:  # a walk that fails is tried again; the loop lives on
                log.exception("the quota walk failed")
            near = max(NEAR_EVERY, WALK_SHARE * self._walk_took)
            await asyncio.sleep(near if self._near() or self._filled else SCAN_EVERY)

    async def close(self) -> None:
        await background.ended(self._task)
        self._task = None
