"""One boot's file services: SMB, SFTP with rsync, and WebDAV, built, started, subscribed
and stopped together."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openstation.accounts.login import LoginService
from openstation.config.store import ConfigStore
from openstation.errors import OpenStationError
from openstation.events import ConfigChanged, EventBus
from openstation.fileserv import smb
from openstation.fileserv.daemon import Event
from openstation.fileserv.service import FileServicesService
from openstation.fileserv.sftp import SftpService
from openstation.fileserv.webdav import WebDavService
from openstation.filestation.service import FileStation
from openstation.security.machine_key import MachineKey
from openstation.storage.service import StorageService


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
            self._smb_failed(wiring.login, wiring.clock),
            self._logged("smbd"), wiring.clock, smb.Changes(wiring.changed, wiring.renamed))
        self.sftp = SftpService(
            wiring.store, FileStation(wiring.storage), wiring.login,
            wiring.system / "ssh_host_ed25519_key", wiring.hosts, wiring.sftp_port,
            wiring.admits, wiring.storage.volume, wiring.changed, wiring.renamed)
        self.webdav = WebDavService(
            wiring.store, FileStation(wiring.storage), wiring.login, wiring.hosts,
            wiring.webdav_ports, wiring.admits, wiring.tls, wiring.changed, wiring.renamed)

    @staticmethod
    def _smb_failed(login: LoginService, clock: Callable[[], float]
                    ) -> Callable[[str, str], bool]:
        def failed(ip: str, _account: str) -> bool:
            now = clock()
            login.failed(ip, now)
            return login.refuses(ip, now)
        return failed

    async def start(self) -> None:
        await self.smb.start()
        await self.sftp.apply()
        await self.webdav.apply()

    def subscribe(self, bus: EventBus) -> list[Callable[[], None]]:
        return [bus.subscribe(self._moving(self.smb.apply), smb.SECTIONS, "smb"),
                bus.subscribe(self._moving(self.sftp.apply), ("file_services",), "ssh"),
                bus.subscribe(self._moving(self.webdav.apply), ("file_services",), "webdav"),
                bus.subscribe(self._accounts_changed, ("users",), "file sessions")]

    def _moving(self, apply: Callable[[], Awaitable[None]]
                ) -> Callable[[ConfigChanged], Awaitable[None]]:
        """An applier that also rewrites running.json when a service's port moved."""
        async def applier(_event: ConfigChanged) -> None:
            before = self.ports()
            await apply()
            if self.ports() != before:
                await self.moved()
        return applier

    def _accounts_changed(self, event: ConfigChanged) -> None:
        """A disabled, deleted or re-passworded account's sessions end."""
        self.sftp.accounts_changed(event)
        self.webdav.end_sessions()

    async def end_sessions(self) -> None:
        """A reset: every session on every protocol ends."""
        self.sftp.end_sessions()
        self.webdav.end_sessions()
        await self.smb.end_sessions()

    async def close(self) -> None:
        await self.webdav.close()
        await self.sftp.close()
        await self.smb.close()

    def status(self) -> dict[str, Any]:
        return {"smb": self.smb.status(), **self.sftp.status(),
                "webdav": self.webdav.status()}

    def ports(self) -> dict[str, int]:
        named = {"smb": self.smb.port, "ssh": self.sftp.port, **self.webdav.ports}
        return {name: port for name, port in named.items() if port}

    def _logged(self, service: str) -> Event:
        """A daemon's life (started, exited, failed) into Log Center."""
        def event(what: str, details: dict[str, object]) -> None:
            with contextlib.suppress(OpenStationError, sqlite3.Error), \
                    self.store.transaction(service, "file_services") as tx:
                tx.audit(what, "file_services", service, dict(details))
        return event
