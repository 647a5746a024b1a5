"""A stopped device, opened by the command line to read or change its configuration.

It holds the data directory's lock for as long as it is open (a device process holds the
same lock while it runs, so the two never write at once), and builds the same services a
running device has, with the same write guard, so an operation here behaves as it would
there. Mounts and listeners exist only in a running device.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openstation.accounts.service import AccountService
from openstation.cluster import passive
from openstation.config.sections import HACluster, Lifecycle
from openstation.config.store import ConfigStore
from openstation.datadir import LOCK_WAIT, DataDir
from openstation.errors import UserInputError
from openstation.fileserv.service import FileServicesService
from openstation.hardware import load_or_create
from openstation.lifecycle.restore_engine import ConfigBackups
from openstation.lifecycle.state import DeviceState
from openstation.lifecycle.status import Status
from openstation.network.service import NetworkService
from openstation.security.machine_key import MachineKey
from openstation.security.service import SecurityService
from openstation.storage.service import StorageService


class LocalDevice:
    """The services of a stopped device (see `opened`)."""

    running = False

    def __init__(self, store: ConfigStore, data_dir: DataDir) -> None:
        self.store = store
        self.data_dir = data_dir
        self.hardware = store.hardware
        key = MachineKey.load_or_create(data_dir.machine_key)
        self.accounts = AccountService(store, machine_key=key)
        self.network = NetworkService(store, key)
        self.security = SecurityService(store)
        self.storage = StorageService(store, data_dir.volume, key)
        self.file_services = FileServicesService(store)
        state = DeviceState(Status.from_persisted(store.get(Lifecycle).state))
        self.backups = ConfigBackups(store, self.hardware, data_dir, key, state, time.time,
                                     lambda: None, self.settle)

    async def settle(self) -> None:
        """No appliers run in a stopped device."""

    def file_service_status(self) -> dict[str, Any]:
        """The settings only: no service runs while the device is stopped."""
        settings = self.file_services.settings()
        ports = {"smb": settings.smb_port, "sftp": settings.sftp_port,
                 "rsync": settings.sftp_port, "webdav": settings.webdav_port}
        return {name: {"enabled": getattr(settings, f"{name}_enabled"), "state": "stopped",
                       "port": port, "why": "the device is not running"}
                for name, port in ports.items()}

    async def change_ports(self, actor: str, http: int, https: int) -> dict[str, int]:
        """Stored only: the device listens on them when it next runs."""
        self.network.set_ports(actor, http, https)
        return {"http": http, "https": https}


@contextmanager
def opened(data_dir: Path, wait: float = LOCK_WAIT) -> Iterator[LocalDevice]:
    """The stopped device on `data_dir`, locked for as long as the block runs."""
    data = DataDir(data_dir)
    if not data.hardware_file.exists():
        raise UserInputError(f"{data_dir} holds no device (run `openstation run` first)")
    with data.lock(wait):  # first: a device that is booting may be making config.db
        if not data.config_db.exists():
            raise UserInputError(f"{data_dir} holds no device (run `openstation run` first)")
        store = ConfigStore.open(data.config_db, load_or_create(data.hardware_file, None),
                                 create=False)
        store.write_guard = passive.guard(lambda: passive.refusal(store.get(HACluster)))
        try:
            yield LocalDevice(store, data)
        finally:
            store.close()
