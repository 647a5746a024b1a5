"""A real device with SMB and SFTP on, three accounts and three shares with rights."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openstation.fileserv.smb import missing_parts
from openstation.testing import STRONG, DeviceProcess, Web, openstation

PASSWORDS = {"alice": STRONG, "bob": "B0b!secret", "carol": "C4rol!pass"}
# Administrators get Read/Write on every new share (DSM's default); the rest is per share.
RIGHTS = {"alpha": {"user:bob": "rw", "user:carol": "ro"},
          "beta": {"group:users": "ro", "user:bob": "na"},
          "gamma": {"user:carol": "rw", "user:alice": "na"}}
EXPECTED = {("alice", "alpha"): "rw", ("alice", "beta"): "rw", ("alice", "gamma"): "na",
            ("bob", "alpha"): "rw", ("bob", "beta"): "na", ("bob", "gamma"): "na",
            ("carol", "alpha"): "ro", ("carol", "beta"): "ro", ("carol", "gamma"): "rw"}

needs_samba = pytest.mark.skipif(missing_parts() is not None,
                                 reason=f"SMB cannot run here: {missing_parts()}")


@dataclass
class Served:
    device: DeviceProcess
    admin: Web

    @property
    def smb_port(self) -> int:
        return int(self.device.runtime["file_services"]["smb"])

    @property
    def sftp_port(self) -> int:
        return int(self.device.runtime["file_services"]["sftp"])

    @property
    def volume(self) -> Path:
        return self.device.data_dir / "volume1"

    def services(self) -> dict[str, Any]:
        return dict(self.admin.ok("SYNO.Core.FileServ.SMB", "get"))

    def refresh(self) -> None:
        self.device.refresh()


def sftp(port: int, user: str, password: str | None = None) -> Any:
    """An asyncssh SFTP client session (an async context manager's pieces)."""
    import asyncssh

    return asyncssh.connect("127.0.0.1", port, username=user,
                            password=PASSWORDS[user] if password is None else password,
                            known_hosts=None, client_keys=None, agent_path=None,
                            preferred_auth="password")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture
def served(device_factory: Callable[..., DeviceProcess]) -> Iterator[Served]:
    device = device_factory(None, file_services=True)
    assert device.install("nas1", "alice", STRONG).returncode == 0
    for user in ("bob", "carol"):
        openstation("user", "create", user, "--password", PASSWORDS[user], "--data-dir",
                    str(device.data_dir), check=True)
    admin = Web(device.url).login()
    for share, rights in RIGHTS.items():
        admin.ok("SYNO.Core.Share", "create", name=share, permissions=rights)
        (device.data_dir / "volume1" / share / "seed.txt").write_text(f"seed of {share}")
    admin.ok("SYNO.Core.FileServ.FTP.SFTP", "set", enable="true")
    device.refresh()
    assert "sftp" in device.runtime["file_services"], device.runtime
    yield Served(device, admin)
