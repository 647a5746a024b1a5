"""Configuration Backup and restore for one boot of the device, and the daily snapshots.

A restore is journaled (`restore-journal.json`) before its one transaction, so a power cut
is finished at boot (`reset_engine.finish_restore`); then every session ends. Sealing and
opening a backup file (scrypt, AES) run in the worker pool. What the restored settings mean
for the running device (listeners, firewall, announcements) is the appliers' business.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from openstation import offload
from openstation.config import auto_backup
from openstation.config import restore as restores
from openstation.config.backup import open_backup, seal
from openstation.config.store import ConfigStore
from openstation.datadir import DataDir
from openstation.errors import BackupError
from openstation.failpoints import failpoint
from openstation.hardware import Hardware
from openstation.lifecycle.state import DeviceState
from openstation.lifecycle.status import Status
from openstation.security.machine_key import MachineKey

log = logging.getLogger(__name__)

DAY = 86400.0
T = TypeVar("T")


class ConfigBackups:
    """Back up, preview and restore the configuration of a running device."""

    def __init__(self, store: ConfigStore, hardware: Hardware, data_dir: DataDir,
                 machine_key: MachineKey, state: DeviceState, clock: Callable[[], float],
                 signed_out: Callable[[], None], settle: Callable[[], Awaitable[None]]
                 ) -> None:
        self.store = store
        self.hardware = hardware
        self.data_dir = data_dir
        self.machine_key = machine_key
        self.state = state
        self.clock = clock
        self.signed_out = signed_out  # every session ends after a restore
        self.settle = settle  # wait until the appliers have made the restore real
        self._timer: asyncio.TimerHandle | None = None

    async def backup(self, passphrase: str | None) -> bytes:
        """A backup file (secrets only inside a passphrase-encrypted one)."""
        return await offload.run(self._backup_now, passphrase)

    def _backup_now(self, passphrase: str | None) -> bytes:
        content = self._read(lambda reader: restores.export(
            reader, self.machine_key, with_secrets=bool(passphrase)))
        return seal(content, self.hardware.model_name, self.clock(), passphrase)

    def _read(self, work: Callable[[ConfigStore], T]) -> T:
        """`work` on a read-only connection of its own (in a worker thread): a consistent
        snapshot, whatever the device commits meanwhile (WAL)."""
        reader = ConfigStore.open_readonly(self.data_dir.config_db, self.hardware)
        try:
            return work(reader)
        finally:
            reader.close()

    async def preview(self, raw: bytes, passphrase: str | None,
                      sections: list[str] | None) -> dict[str, Any]:
        """What restoring would change; changes nothing."""
        header, content = await self._open(raw, passphrase)
        changes = await offload.run(self._read,
                                    lambda reader: restores.plan(reader, content, sections))
        return {"model": header["model"], "created": header["created"], "changes": changes}

    async def restore(self, raw: bytes, passphrase: str | None, sections: list[str] | None,
                      actor: str) -> dict[str, Any]:
        """Restore a backup: journaled, one transaction, sessions ended, settings live."""
        _, content = await self._open(raw, passphrase)
        # Refuses a bad backup before any change.
        await offload.run(self._read, lambda reader: restores.plan(reader, content, sections))
        self.store.check_writes("restore")
        restore_id = restores.new_restore_id()
        await offload.run(restores.write_journal, self.data_dir.restore_journal, restore_id,
                          content, sections, actor)
        failpoint("restore-journaled")
        # In the pool: 10,000 users take a second. Meanwhile the loop's own reads may see
        # the restore half applied; every session ends right after it anyway.
        report = await offload.run(restores.apply, self.store, content, sections,
                                   self.machine_key, actor, restore_id)
        failpoint("restore-committed")
        self.data_dir.restore_journal.unlink()
        self.signed_out()
        await self.settle()
        return report

    async def restore_latest(self, actor: str) -> str:
        """The reinstall wizard's offer: restore the newest snapshot found on volume1."""
        found = auto_backup.snapshots(self.data_dir.volume)
        if not found:
            raise BackupError("no automatic configuration snapshot on volume1")
        raw = await offload.run(found[0].read_bytes)
        await self.restore(raw, None, None, actor)
        return found[0].name

    def start_daily(self, spawn: Callable[[Coroutine[Any, Any, Any]], None]) -> None:
        """Today's snapshot on volume1 (Ready devices only), and again every 24 hours;
        `spawn` runs the write as a task the device waits for when it stops."""
        self.stop_daily()
        if self.state.status is Status.READY:
            spawn(self._write_daily())
        self._timer = asyncio.get_running_loop().call_later(DAY, self.start_daily, spawn)

    def next_daily(self) -> float | None:
        """When the next daily snapshot is written (the device's clock), if scheduled."""
        if self._timer is None:
            return None
        return self.clock() + max(0.0, self._timer.when() - asyncio.get_running_loop().time())

    def stop_daily(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def refresh_daily(self) -> None:
        """Write today's snapshot again (a secret a reset must not take was just kept)."""
        await self._write_daily(refresh=True)

    async def _write_daily(self, refresh: bool = False) -> None:
        try:
            await offload.run(self._read, lambda reader: auto_backup.write_daily(
                reader, self.machine_key, self.data_dir.volume, self.clock(), refresh))
        except OSError as exc:
            log.error("automatic configuration backup failed: %s", exc)

    async def _open(self, raw: bytes, passphrase: str | None
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if self.state.status is not Status.READY:
            raise BackupError(f"the device is {self.state.status.label}: install it first, "
                              "then restore")
        header, content = await offload.run(open_backup, raw, passphrase)
        if header["model"] != self.hardware.model_name:
            raise BackupError(f"the backup is from a {header['model']}; this device is a "
                              f"{self.hardware.model_name}")
        return header, content
