"""The RESET button on a real device: Mode 1 and Mode 2, exactly as the seed says."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from openstation.testing import STRONG, DeviceProcess, openstation
from tests.e2e.configured import (
    BOB,
    CAROL,
    EXPECTED_RULES,
    Observed,
    configure_everything,
    is_mode1_done,
    is_untouched,
    volume_digest,
)

Factory = Callable[..., DeviceProcess]


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def login(device: DeviceProcess, user: str, password: str) -> dict[str, Any]:
    return dict(device.api("SYNO.API.Auth", "login", 6, account=user, passwd=password))


def configured_device(device_factory: Factory, data: Path, **options: Any) -> DeviceProcess:
    first = device_factory(data)
    assert first.install("nas1", "alice", STRONG).returncode == 0
    first.stop()
    configure_everything(data)
    return device_factory(data, **options)


def test_mode_1_restores_exactly_the_ten_items(device_factory: Factory, tmp_path: Path
                                               ) -> None:
    data = tmp_path / "data"
    listeners_can_move = port_free(5000) and port_free(5001) and \
        port_free(5050) and port_free(5051)
    device = configured_device(device_factory, data, ephemeral_ports=not listeners_can_move)
    if listeners_can_move:
        assert {k: device.runtime["ports"][k] for k in ("http", "https")} == {
            "http": 5050, "https": 5051}
    before = Observed.read(data)
    assert is_untouched(before)
    volume_before = volume_digest(data / "volume1")
    bob_sid = login(device, *BOB)["data"]["sid"]

    result = openstation("panel", "reset", "--mode", "1", "--data-dir", str(data), "--json",
                         timeout=90)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["mode"] == 1 and report["trigger"] == "button"
    assert len(report["plan"]) == 10

    after = Observed.read(data)
    assert is_mode1_done(after), after.ten_items
    assert after.kept == before.kept  # other users, hashes, shares, rules, lists: untouched
    assert after.kept["rules"] == EXPECTED_RULES
    assert volume_digest(data / "volume1") == volume_before
    device.refresh()
    if listeners_can_move:
        assert {k: device.runtime["ports"][k] for k in ("http", "https")} == {
            "http": 5000, "https": 5001}
    assert device.api("SYNO.DSM.Info", "getinfo", _sid=bob_sid)["error"]["code"] == 119

    # Seed steps 3-5: admin with a blank password, a strong password, sign in with it.
    blank = login(device, "admin", "")
    assert blank["success"] and blank["data"]["must_change_password"]
    sid = blank["data"]["sid"]
    assert device.api("SYNO.Core.User", "list", _sid=sid)["error"]["code"] == 410
    weak = device.api("SYNO.Core.User", "set", _sid=sid, name="admin", password="admin")
    assert weak["error"]["code"] == 120
    done = device.api("SYNO.Core.User", "set", _sid=sid, name="admin", password="N3w!secret")
    assert done["success"], done
    assert login(device, "admin", "N3w!secret")["success"]
    # Steps 6-9: another administrator resets its password and disables admin.
    bob = login(device, *BOB)["data"]["sid"]
    assert device.api("SYNO.Core.User", "set", _sid=bob, name="alice",
                      password="Al1ce!again")["success"]
    assert device.api("SYNO.Core.User", "set", _sid=bob, name="admin", expired="now")["success"]
    listed = device.api("SYNO.Core.User", "list", _sid=bob)["data"]["users"]
    assert {u["name"]: u["expired"] for u in listed}["admin"] == "now"
    assert login(device, *CAROL)["success"]

    log = json.loads(openstation("log", "--data-dir", str(data), "--resets", "--json",
                                 check=True).stdout)
    assert log[0]["detail"]["mode"] == 1 and log[0]["detail"]["trigger"] == "button"
    assert "$argon2" not in json.dumps(log)


def test_mode_2_wipes_the_system_partition_and_keeps_volume1(device_factory: Factory,
                                                             tmp_path: Path) -> None:
    data = tmp_path / "data"
    device = configured_device(device_factory, data)
    identity = json.loads(openstation("status", "--data-dir", str(data), "--json",
                                      check=True).stdout)
    volume_before = volume_digest(data / "volume1")

    result = openstation("panel", "reset", "--mode", "2", "--data-dir", str(data), "--json",
                         timeout=90)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["mode"] == 2

    panel = json.loads(openstation("panel", "status", "--data-dir", str(data), "--json",
                                   check=True).stdout)
    assert panel["status"] == "Configuration lost" and panel["status_code"] == 0
    assert panel["status_led"] == {"color": "orange", "mode": "blinking"}
    reasons = [b["reason"] for b in panel["beeps"]]
    assert "RESET held 4 s" in reasons and "RESET held again 4 s" in reasons
    assert [b["count"] for b in panel["beeps"] if b["reason"] == "RESET held again 4 s"] == [3]
    status = json.loads(openstation("status", "--data-dir", str(data), "--json",
                                    check=True).stdout)
    assert status["server_name"] == "DiskStation"
    for key in ("serial", "mac", "model"):
        assert status[key] == identity[key]
    after = Observed.read(data)
    assert after.kept["users"] == ["admin", "guest"]
    assert after.kept["shares"] == {}
    assert volume_digest(data / "volume1") == volume_before

    device.refresh()
    reinstall = device.install("nas2", "dora", "D0ra!pass")
    assert reinstall.returncode == 0, reinstall.stderr
    assert volume_digest(data / "volume1") == volume_before
    final = Observed.read(data)
    assert set(final.kept["shares"]) == {"photos", "vault"}
    assert final.kept["state"] == "ready" and final.kept["server_name"] == "nas2"
    assert login(device, "dora", "D0ra!pass")["success"]
    assert login(device, *BOB)["error"]["code"] == 400
    log = json.loads(openstation("log", "--data-dir", str(data), "--resets", "--json",
                                 check=True).stdout)
    assert log[0]["detail"]["mode"] == 2


@pytest.mark.parametrize("status", ["Not installed"])
def test_a_reset_on_a_device_that_is_not_installed_is_refused(device_factory: Factory,
                                                              tmp_path: Path,
                                                              status: str) -> None:
    data = tmp_path / "data"
    device_factory(data)
    result = openstation("panel", "reset", "--mode", "1", "--data-dir", str(data), timeout=90)
    assert result.returncode == 1 and "Not installed" in result.stderr
    panel = json.loads(openstation("panel", "status", "--data-dir", str(data), "--json",
                                   check=True).stdout)
    assert panel["status"] == status
