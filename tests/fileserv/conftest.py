"""A real device with SMB and SFTP on, three accounts and three shares with rights."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openstation.fileserv.smb import missing_parts
from openstation.testing import STRONG, DeviceProcess, Web, openstation
from tests.conftest import CLIENT_THREAD

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
        return int(self.device.runtime["file_services"]["ssh"])

    @property
    def volume(self) -> Path:
        return self.device.data_dir / "volume1"

    @property
    def webdav_url(self) -> str:
        return f"http://127.0.0.1:{self.device.runtime['file_services']['webdav']}"

    @property
    def webdavs_url(self) -> str:
        return f"https://127.0.0.1:{self.device.runtime['file_services']['webdavs']}"

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


def dav(url: str, method: str, user: str, body: bytes | None = None,
        password: str | None = None, **headers: str) -> tuple[int, bytes]:
    """One WebDAV request with Basic auth: (status, body)."""
    import base64
    import ssl
    import urllib.error
    import urllib.request

    token = base64.b64encode(
        f"{user}:{PASSWORDS[user] if password is None else password}".encode()).decode()
    request = urllib.request.Request(url, data=body, method=method, headers={
        "Authorization": f"Basic {token}", **{k.replace("_", "-"): v
                                              for k, v in headers.items()}})
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the device's certificate is self-signed
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def rsync(served: Served, tmp_path: Path, user: str, *args: str,
          password: str | None = None) -> subprocess.CompletedProcess[str]:
    """The rsync client over ssh, the password given as ssh asks for it (SSH_ASKPASS)."""
    askpass = tmp_path / f"askpass-{user}"
    askpass.write_text(f"#!/bin/sh\necho '{PASSWORDS[user] if password is None else password}'\n")
    askpass.chmod(0o700)
    shell = (f"ssh -p {served.sftp_port} -o StrictHostKeyChecking=no "
             "-o UserKnownHostsFile=/dev/null -o PubkeyAuthentication=no "
             "-o PreferredAuthentications=password,keyboard-interactive -o LogLevel=ERROR")
    env = {**os.environ, "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force",
           "DISPLAY": ":0"}
    return subprocess.run(["rsync", "-e", shell, *args], capture_output=True, text=True,
                           timeout=300, env=env, stdin=subprocess.DEVNULL)


def run(coro: Any) -> Any:
    """Run a client coroutine in a client thread of its own (see tests/conftest.py)."""
    with ThreadPoolExecutor(1, thread_name_prefix=CLIENT_THREAD) as pool:
        return pool.submit(asyncio.run, coro).result()


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
    admin.ok("SYNO.Backup.Service.NetworkBackup", "set", enable="true")
    admin.ok("SYNO.Core.FileServ.WebDAV", "set", enable="true")
    device.refresh()
    assert {"smb", "ssh", "webdav", "webdavs"} <= set(device.runtime["file_services"]), \
        device.runtime
    yield Served(device, admin)
