"""smbd supervised: killed, it comes back (and Log Center says so); unable to start, the
device stays Ready and says why; after Mode 2 and a reinstall the shares are served again
with the new accounts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openstation.testing import STRONG, DeviceProcess, Web, openstation, wait_for, wait_for_status
from tests.fileserv.conftest import needs_samba

pytestmark = needs_samba


def services(data: Path) -> dict[str, Any]:
    listed = openstation("service", "list", "--data-dir", str(data), "--json", check=True)
    return dict(json.loads(listed.stdout))


def smb_ls(port: int, share: str, user: str, password: str) -> int:
    return subprocess.run(["smbclient", f"//127.0.0.1/{share}", "-p", str(port), "-U",
                           f"{user}%{password}", "-c", "ls"], capture_output=True,
                          timeout=60).returncode


def test_a_killed_smbd_comes_back_and_log_center_says_so(
        device_factory: Callable[..., DeviceProcess], tmp_path: Path) -> None:
    device = device_factory(tmp_path / "data", file_services=True)
    assert device.install().returncode == 0
    Web(device.url).login().ok("SYNO.Core.Share", "create", name="docs")
    port = device.runtime["file_services"]["smb"]
    first = services(device.data_dir)["smb"]["pid"]
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: services(device.data_dir)["smb"].get("pid") not in (None, first), 20)
    assert services(device.data_dir)["smb"]["state"] == "running"
    wait_for(lambda: smb_ls(port, "docs", "alice", STRONG) == 0, 20)
    log = json.loads(openstation("log", "--data-dir", str(device.data_dir), "--json",
                                 check=True).stdout)
    lines = [(e["actor"], e["action"]) for e in log]
    assert ("smbd", "exited") in lines and lines.count(("smbd", "started")) >= 2


def test_smbd_that_cannot_start_leaves_the_device_ready_and_says_why(
        device_factory: Callable[..., DeviceProcess], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        device = device_factory(tmp_path / "data", "--smb-port", str(busy),
                                file_services=True)
        assert device.install().returncode == 0
        wait_for(lambda: services(device.data_dir)["smb"]["state"] == "failed", 60)
        smb = services(device.data_dir)["smb"]
        assert "exited" in smb["why"], smb
        status = json.loads(openstation("status", "--data-dir", str(device.data_dir),
                                        "--json", check=True).stdout)
        assert status["status"] == "Ready"


def test_after_mode_2_and_a_reinstall_the_shares_are_served_with_the_new_accounts(
        device_factory: Callable[..., DeviceProcess], tmp_path: Path) -> None:
    data = tmp_path / "data"
    device = device_factory(data, file_services=True)
    assert device.install("nas1", "alice", STRONG).returncode == 0
    Web(device.url).login().ok("SYNO.Core.Share", "create", name="docs")
    (data / "volume1" / "docs" / "kept.txt").write_text("kept")
    openstation("panel", "reset", "--mode", "2", "--data-dir", str(data), check=True,
                timeout=120)
    wait_for_status(data, "Configuration lost")
    device.refresh()
    assert device.install("nas2", "dora", "D0ra!pass").returncode == 0
    device.refresh()
    port = device.runtime["file_services"]["smb"]
    assert smb_ls(port, "docs", "alice", STRONG) != 0  # the old account is gone
    wait_for(lambda: smb_ls(port, "docs", "dora", "D0ra!pass") == 0, 20)
    assert (data / "volume1" / "docs" / "kept.txt").read_text() == "kept"
