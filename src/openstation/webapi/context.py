"""What the Web API handlers reach: the device's services, passed explicitly (no globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from openstation.accounts.login import LoginService
from openstation.accounts.service import AccountService
from openstation.accounts.sessions import Sessions
from openstation.config.store import ConfigStore
from openstation.datadir import DataDir
from openstation.hardware import Hardware
from openstation.lifecycle.state import DeviceState
from openstation.storage.service import StorageService
from openstation.webapi.login_crypto import LoginCrypto


@dataclass
class WebContext:
    """The services of one device, for the handlers."""

    store: ConfigStore
    hardware: Hardware
    data_dir: DataDir
    state: DeviceState
    clock: Callable[[], float]
    sessions: Sessions
    login: LoginService
    accounts: AccountService
    storage: StorageService
    crypto: LoginCrypto
    booted_at: float
