"""`openstation user …` on a stopped and on a running device, through the same service."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from openstation.testing import STRONG, DeviceProcess, openstation

Factory = Callable[..., DeviceProcess]


def users(data: Path) -> dict[str, dict[str, object]]:
    rows = json.loads(openstation("user", "list", "--data-dir", str(data), "--json",
                                  check=True).stdout)
    return {row["name"]: row for row in rows}


def login(device: DeviceProcess, user: str, password: str) -> dict[str, object]:
    return dict(device.api("SYNO.API.Auth", "login", 6, account=user, passwd=password))


def test_user_commands_on_a_stopped_device(device_factory: Factory, tmp_path: Path) -> None:
    data = tmp_path / "data"
    device = device_factory(data)
    assert device.install().returncode == 0
    device.stop()
    d = ("--data-dir", str(data))
    weak = openstation("user", "create", "bob", "--password", "bob", *d)
    assert weak.returncode == 1 and "digit" in weak.stderr and "Traceback" not in weak.stderr
    assert "bob" not in users(data)
    openstation("user", "create", "bob", "--password", "B0b!secret", "--admin", *d, check=True)
    assert users(data)["bob"]["administrator"] is True
    openstation("user", "disable", "bob", *d, check=True)
    assert users(data)["bob"]["status"] == "Disabled"
    openstation("user", "enable", "bob", *d, check=True)
    openstation("user", "set", "bob", "--description", "Bob B.", *d, check=True)
    assert users(data)["bob"]["description"] == "Bob B."
    last = openstation("user", "delete", "admin", *d)
    assert last.returncode == 1 and "system account" in last.stderr
    openstation("user", "delete", "bob", *d, check=True)
    assert "bob" not in users(data)
    assert users(data)["admin"]["status"] == "Disabled"


def test_cli_changes_reach_a_running_device(device_factory: Factory, tmp_path: Path) -> None:
    data = tmp_path / "data"
    device = device_factory(data)
    assert device.install().returncode == 0
    d = ("--data-dir", str(data))
    openstation("user", "create", "carol", "--password", "C4rol!pass", *d, check=True)
    answer = login(device, "carol", "C4rol!pass")
    assert answer["success"] is True
    sid = device.api("SYNO.API.Auth", "login", 6, account="carol", passwd="C4rol!pass")[
        "data"]["sid"]
    assert device.api("SYNO.DSM.Info", "getinfo", _sid=sid)["success"]
    openstation("user", "disable", "carol", *d, check=True)
    assert device.api("SYNO.DSM.Info", "getinfo", _sid=sid)["error"]["code"] == 119
    refused = login(device, "carol", "C4rol!pass")
    assert refused["error"] == {"code": 401, "errors": {"reason": "this account is disabled"}}
    openstation("user", "enable", "carol", *d, check=True)
    assert login(device, "alice", STRONG)["success"] is True
