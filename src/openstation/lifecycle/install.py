"""Install and reinstall: from Not installed or Configuration lost to Ready.

The whole install is one SQLite transaction (server name, administrator, shares found on
the volume, state Ready), so a power cut leaves the device either not installed or
installed. The volume is only ever read, except that a first install on an empty volume
writes the volume marker.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from openstation import offload
from openstation.accounts.policy import name_problem
from openstation.accounts.service import ADMIN, AccountService
from openstation.config.sections import General, Lifecycle
from openstation.config.store import ConfigStore
from openstation.datadir import DataDir
from openstation.errors import ConflictError, ValidationError, WeakPasswordError
from openstation.lifecycle.state import DeviceState
from openstation.lifecycle.status import Status
from openstation.storage.service import StorageService
from openstation.storage.volume import initialise_volume, volume_initialised

_SERVER_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,13}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class InstallRequest:
    """What the install wizard asks: server name, administrator name and password."""

    server_name: str
    admin_user: str
    password: str


@dataclass(frozen=True)
class Progress:
    """One step of an install, for a progress bar."""

    step: str
    fraction: float
    detail: str = ""


def server_name_problem(name: str) -> str | None:
    """Why `name` cannot be a server name (1-15 letters, digits, inner hyphens), or None."""
    if _SERVER_NAME.match(name):
        return None
    return "must be 1-15 letters, digits or hyphens, not starting or ending with a hyphen"


class Installer:
    """Runs an install on a device in Not installed or Configuration lost."""

    def __init__(self, store: ConfigStore, data_dir: DataDir, state: DeviceState,
                 accounts: AccountService | None = None) -> None:
        self.store = store
        self.data_dir = data_dir
        self.state = state
        self.accounts = accounts or AccountService(store)
        self.storage = StorageService(store, data_dir.volume)

    def validate(self, request: InstallRequest) -> None:
        """Raise a ConflictError or one ValidationError naming every bad field."""
        if not self.state.status.needs_install:
            raise ConflictError(
                f"the device is {self.state.status.label}; only a device that is Not "
                "installed or in Configuration lost can be installed"
            )
        problems: dict[str, str] = {}
        if (why := server_name_problem(request.server_name)) is not None:
            problems["server_name"] = why
        if (why := name_problem(request.admin_user)) is not None:
            problems["admin_user"] = why
        elif request.admin_user.lower() == "guest":
            problems["admin_user"] = "guest cannot be the administrator"
        weak = self.accounts.password_problems(request.admin_user, request.password)
        if weak:
            problems["password"] = ", ".join(weak)
        if problems:
            raise (WeakPasswordError if list(problems) == ["password"] else ValidationError)(
                problems
            )

    async def install(self, request: InstallRequest, actor: str = "install"
                      ) -> AsyncIterator[Progress]:
        """Install, yielding progress; validation errors are raised before any change."""
        self.validate(request)
        previous = self.state.status
        reinstall = previous is Status.CONFIGURATION_LOST
        self.state.set(Status.INSTALLING)
        committed = False
        try:
            yield Progress("Checking the volume", 0.1,
                           "keeping every file on volume1" if reinstall else "preparing volume1")
            await asyncio.sleep(0)
            if not volume_initialised(self.data_dir.volume_marker):  # fsyncs: off the loop
                await offload.run(initialise_volume, self.data_dir.volume_marker,
                                  self.store.clock())
            yield Progress("Writing the system partition", 0.3)
            await asyncio.sleep(0)
            registered: list[str] = []
            credentials = await self.accounts.credentials(request.password)  # before the tx
            with self.store.transaction(actor, "install") as tx:
                self.accounts.ensure_system_accounts(actor)
                if request.admin_user == ADMIN:
                    self.accounts.enable(tx, ADMIN, credentials, administrator=True)
                else:
                    self.accounts.add_user(tx, request.admin_user, credentials,
                                           administrator=True, description="Administrator")
                general = tx.get(General)
                general.server_name = request.server_name
                tx.put(general)
                registered, problems = self.storage.register_from_volume(tx)
                for problem in problems:
                    tx.audit("skip", "shares", "", {"problem": problem})
                lifecycle = tx.get(Lifecycle)
                lifecycle.state = Status.READY.persisted
                lifecycle.installed_at = self.store.clock()
                lifecycle.installs += 1
                tx.put(lifecycle)
            committed = True
            yield Progress("Creating the administrator account", 0.6, request.admin_user)
            yield Progress("Registering shared folders", 0.8,
                           ", ".join(registered) or "none found")
            self.state.set(Status.STARTING_SERVICES)
            await asyncio.sleep(0)
            yield Progress("Starting services", 1.0)
        except BaseException:
            # Once committed the device is installed, whoever stopped listening.
            self.state.set(Status.READY if committed else previous)
            raise
        self.state.set(Status.READY)
