"""Volume 1's use against the notifications' warning percentage: once a minute (and at
once when the percentage changes), the file system is asked (off the loop); going over
writes a "volume_full" audit entry — Log Center shows it, the notifier mails it — and
coming back under by HYSTERESIS points clears it, so a volume hovering at the mark does not
warn again and again."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from openstation import offload
from openstation.config.sections import Notifications
from openstation.config.store import ConfigStore
from openstation.errors import OpenStationError

EVERY = 60.0
HYSTERESIS = 2  # percentage points


def crossed(over: bool, used: float, warning: int) -> tuple[bool, str | None]:
    """(over now, the entry to write: "volume_full", "volume_ok" or None) (pure)."""
    if not over and used >= warning:
        return True, "volume_full"
    if over and used < warning - HYSTERESIS:
        return False, "volume_ok"
    return over, None


class VolumeWatch:
    def __init__(self, store: ConfigStore, volume: Path,
                 used_percent: Callable[[Path], float] | None = None) -> None:
        self.store = store
        self.volume = volume
        self.over = False
        self._used = used_percent or _used_percent
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="volume watch")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def check(self, _event: object = None) -> None:
        try:
            used = await offload.run(self._used, self.volume)
        except OSError:
            return
        warning = self.store.get(Notifications).volume_warning_percent
        self.over, action = crossed(self.over, used, warning)
        if action is not None:  # (an HA passive refuses: its active warns)
            with contextlib.suppress(OpenStationError, sqlite3.Error), \
                    self.store.transaction("system", "storage") as tx:
                tx.audit(action, "storage", "volume1",
                         {"used_percent": round(used, 1), "warning_percent": warning})

    async def _run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(EVERY)


def _used_percent(volume: Path) -> float:
    usage = shutil.disk_usage(volume)
    return 100.0 * (usage.total - usage.free) / usage.total if usage.total else 0.0
