"""One boot's file services: SMB, SFTP with rsync, and WebDAV, built, started, subscribed
and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openstation import offload
from openstation.accounts.login import LoginService
from openstation.config.sections import FileServices
from openstation.config.store import ConfigStore
from openstation.errors import OpenStationError
from openstation.events import ConfigChanged, EventBus
from openstation.fileserv import smb
from openstation.fileserv.daemon import Event
from openstation.fileserv.service import FileServicesService
from openstation.fileserv.webdav import WebDavService
from openstation.filestation.service import FileStation
from openstation.security.machine_key import MachineKey
from openstation.storage.service import StorageService

if TYPE_CHECKING:
    from openstation.fileserv.sftp import SftpService


@dataclass
class Wiring:
    """What the file services need of their device."""

    store: ConfigStore
    storage: StorageService
    login: LoginService
    machine_key: MachineKey
    system: Path
    hosts: list[str]
    admits: Callable[[str, int], bool]  # the firewall and Auto Block, at accept
    changed: Callable[[Path], None]  # a file written on volume1 (HA replication)
    renamed: Callable[[Path, Path], None]
    clock: Callable[[], float]
    moved: Callable[[], Awaitable[None]]  # a service's port changed (running.json)
    tls: tuple[Path, Path] = (Path(), Path())  # the device's certificate and key
    smb_port: int | None = None  # `run --smb-port`: instead of the configured port
    sftp_port: int | None = None
    webdav_ports: tuple[int | None, int | None] = (None, None)


class FileServers:
    """The file services of one boot."""

    def __init__(self, wiring: Wiring) -> None:
        self.settings = FileServicesService(wiring.store)
        self.moved = wiring.moved
        self.store = wiring.store
        self.smb = smb.SmbService(
            wiring.store, wiring.machine_key, wiring.system, wiring.storage.volume,
            wiring.hosts, wiring.smb_port,
            lambda ip, _account: wiring.login.failed(ip, wiring.clock()),
            self._logged("smbd"), wiring.clock, smb.Changes(wiring.changed, wiring.renamed),
            wiring.storage.is_mounted, wiring.storage.quotas)
        self.wiring = wiring
        self.sftp: SftpService | None = None  # made once SFTP or rsync is first on
        self.off = False  # powered off by the power schedule
        self._switching = asyncio.Lock()  # the power switch, and each applier's run
        self.webdav = WebDavService(
            wiring.store, FileStation(wiring.storage), wiring.login, wiring.hosts,
            wiring.webdav_ports, wiring.admits, wiring.tls, wiring.changed, wiring.renamed)

    async def power(self, on: bool) -> None:
        """The power schedule of a virtual device: off stops every file service (their
        settings stay as they are) until on starts them again."""
        async with self._switching:  # no apply is half way when it switches
            self.off = not on
            if on:
                await self.start()
            else:
                await self.close()
        await self.moved()

    async def start(self) -> None:
        if self.off:
            return
        await self.smb.start()
        await self._apply_ssh()
        await self.webdav.apply()

    async def _apply_ssh(self) -> None:
        """The SSH server (SFTP and rsync). asyncssh is imported only once one of them is
        on: it costs boot ~100 ms and `cryptography`'s memory."""
        if self.sftp is None:
            settings = self.store.get(FileServices)
            if not (settings.sftp_enabled or settings.rsync_enabled):
                return
            # Imported in a worker thread: ~100 ms that would otherwise hold the loop.
            module = await offload.run(importlib.import_module, "openstation.fileserv.sftp")
            w = self.wiring
            self.sftp = module.SftpService(
                w.store, FileStation(w.storage), w.login, w.system / "ssh_host_ed25519_key",
                w.hosts, w.sftp_port, w.admits, w.storage.volume, w.changed, w.renamed)
        await self.sftp.apply()

    def subscribe(self, bus: EventBus) -> list[Callable[[], None]]:
        smb_apply = self._moving(self.smb.apply)

        async def mounts_changed() -> None:  # smbd serves an encrypted share while mounted
            await smb_apply(ConfigChanged(frozenset(), ()))

        self.wiring.storage.mounts_changed.append(mounts_changed)
        quotas = self.wiring.storage.quotas

        async def filled() -> None:  # a full share: read only for smbd and rsync
            if self.sftp is not None:
                self.sftp.shares_filled(quotas.full)
            await mounts_changed()

        quotas.full_changed.append(filled)
        quotas.scanned.append(self.smb.quotas_scanned)
        return [lambda: self.wiring.storage.mounts_changed.remove(mounts_changed),
                lambda: quotas.full_changed.remove(filled),
                lambda: quotas.scanned.remove(self.smb.quotas_scanned),
                bus.subscribe(smb_apply, smb.SECTIONS, "smb"),
                bus.subscribe(self._moving(self._apply_ssh), ("file_services",), "ssh"),
                bus.subscribe(self._moving(self.webdav.apply), ("file_services",), "webdav"),
                bus.subscribe(self._accounts_changed, ("users",), "file sessions")]

    def _moving(self, apply: Callable[[], Awaitable[None]]
                ) -> Callable[[ConfigChanged], Awaitable[None]]:
        """An applier that also rewrites running.json when a service's port moved."""
        async def applier(_event: ConfigChanged) -> None:
            async with self._switching:
                if self.off:  # powered off: the settings apply when it is on again
                    return
                before = self.ports()
                await apply()
            if self.ports() != before:
                await self.moved()
        return applier

    def _accounts_changed(self, event: ConfigChanged) -> None:
        """A disabled, deleted or re-passworded account's sessions end."""
        if self.sftp is not None:
            self.sftp.accounts_changed(event)
        self.webdav.end_sessions()

    async def end_sessions(self) -> None:
        """A reset: every session on every protocol ends."""
        if self.sftp is not None:
            self.sftp.end_sessions()
        self.webdav.end_sessions()
        await self.smb.end_sessions()

    async def close(self) -> None:
        await self.webdav.close()
        if self.sftp is not None:
            await self.sftp.close()
        await self.smb.close()

    def status(self) -> dict[str, Any]:
        if self.off:
            enabled = self.settings.settings()
            return {name: {"enabled": getattr(enabled, f"{name}_enabled"), "state": "stopped",
                           "port": None, "sessions": 0,
                           "why": "powered off by the power schedule"}
                    for name in ("smb", "sftp", "rsync", "webdav")}
        ssh = self.sftp.status() if self.sftp is not None else {
            name: {"enabled": False, "state": "stopped", "port": None, "why": "",
                   "sessions": 0} for name in ("sftp", "rsync")}
        return {"smb": self.smb.status(), **ssh, "webdav": self.webdav.status()}

    async def connections(self) -> list[dict[str, object]]:
        """The file services' signed-in connections that can be listed and ended one by
        one (SMB sessions, SFTP and rsync over SSH; WebDAV has none: each request signs
        in)."""
        found = self.sftp.connections() if self.sftp is not None else []
        return found + (await self.smb.status_now())[0]

    async def open_files(self) -> list[dict[str, object]]:
        """The files SMB clients hold open now."""
        return (await self.smb.status_now())[1]

    async def kick(self, conn_id: str) -> bool:
        if conn_id.startswith("smb-"):
            return await self.smb.kick(conn_id)
        return self.sftp.kick(conn_id) if self.sftp is not None else False

    def ports(self) -> dict[str, int]:
        named = {"smb": self.smb.port, "ssh": self.sftp.port if self.sftp else 0,
                 **self.webdav.ports}
        return {name: port for name, port in named.items() if port}

    def _logged(self, service: str) -> Event:
        """A daemon's life (started, exited, failed) into Log Center."""
        def event(what: str, details: dict[str, object]) -> None:
            with contextlib.suppress(OpenStationError, sqlite3.Error), \
                    self.store.transaction(service, "file_services") as tx:
                tx.audit(what, "file_services", service, dict(details))
        return event
