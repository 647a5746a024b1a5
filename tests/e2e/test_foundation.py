"""The real `openstation run` process: boot, install, stop, restart, and bad input."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

from openstation.accounts.service import AccountService
from openstation.config.sections import User
from openstation.config.store import ConfigStore
from openstation.hardware import load_or_create
from openstation.testing import STRONG, DeviceProcess, get_json, openstation

Factory = Callable[..., DeviceProcess]


def status_json(data_dir: Path) -> dict[str, object]:
    result = openstation("status", "--data-dir", str(data_dir), "--json", check=True)
    loaded: dict[str, object] = json.loads(result.stdout)
    return loaded


def test_boot_install_stop_restart_keeps_status_accounts_and_data(device_factory: Factory,
                                                                  tmp_path: Path) -> None:
    data = tmp_path / "data"
    device = device_factory(data, "--model", "DS3617xs")
    info = device.api("SYNO.API.Info", "query", query="SYNO.API.Info")
    assert info["success"] is True and "SYNO.API.Info" in info["data"]
    assert get_json(f"{device.https_url}/webapi/query.cgi?api=SYNO.API.Info&version=1"
                    "&method=query")["success"] is True
    first = status_json(data)
    assert (first["status"], first["status_code"], first["running"]) == (
        "Not installed", 2, True)
    assert first["model"] == "DS3617xs" and first["server_name"] == "DiskStation"
    assert first["version"] == "DSM 6.2.3-25426"

    result = device.install("nas1", "alice", STRONG)
    assert result.returncode == 0, result.stderr
    assert "Installed" in result.stdout
    payload = b"family photos " * 1000
    (data / "volume1" / "note.bin").write_bytes(payload)
    assert status_json(data)["status"] == "Ready"

    code, out, err = device.stop()
    assert code == 0 and "stopped" in out and "Traceback" not in err
    stopped = status_json(data)
    assert (stopped["status"], stopped["running"], stopped["server_name"]) == (
        "Ready", False, "nas1")

    device_factory(data)
    again = status_json(data)
    assert again["status"] == "Ready" and again["running"] is True
    for key in ("serial", "mac", "model"):
        assert again[key] == first[key]
    assert hashlib.sha256((data / "volume1" / "note.bin").read_bytes()).digest() == \
        hashlib.sha256(payload).digest()
    store = ConfigStore.open_readonly(data / "system" / "config.db",
                                      load_or_create(data / "hardware.json", None))
    try:
        alice = store.record(User, "alice")
        assert alice is not None and not alice.disabled
        assert asyncio.run(AccountService(store).check_login("alice", STRONG)) is not None
        assert store.record(User, "admin").disabled  # type: ignore[union-attr]
    finally:
        store.close()


def test_a_weak_password_is_refused_naming_each_rule(device_factory: Factory,
                                                      tmp_path: Path) -> None:
    device = device_factory()
    result = device.install("nas1", "alice", "alice")
    assert result.returncode == 1
    for rule in ("8 characters", "upper and lower", "digit", "special", "user name"):
        assert rule in result.stderr
    assert "Traceback" not in result.stderr
    assert status_json(tmp_path / "data")["status"] == "Not installed"


def test_installing_a_ready_device_is_refused(device_factory: Factory) -> None:
    device = device_factory()
    assert device.install().returncode == 0
    again = device.install("other", "bob", STRONG)
    assert again.returncode == 1 and "Ready" in again.stderr


def test_panel_status_through_the_control_socket(device_factory: Factory,
                                                 tmp_path: Path) -> None:
    device = device_factory()
    sock = tmp_path / "data" / "system" / "panel.sock"
    assert stat.S_ISSOCK(sock.stat().st_mode) and stat.S_IMODE(sock.stat().st_mode) == 0o600
    result = openstation("panel", "status", "--data-dir", str(tmp_path / "data"), "--json",
                         check=True)
    panel = json.loads(result.stdout)
    assert panel["status"] == "Not installed"
    assert panel["status_led"] == {"color": "orange", "mode": "blinking"}
    assert panel["power_led"] == {"color": "blue", "mode": "solid"}
    assert [b["reason"] for b in panel["beeps"]] == ["boot complete"]
    device.install()
    panel = json.loads(openstation("panel", "status", "--data-dir", str(tmp_path / "data"),
                                   "--json", check=True).stdout)
    assert panel["status_led"] == {"color": "green", "mode": "solid"}


def test_panel_status_of_a_stopped_device_says_so(tmp_path: Path) -> None:
    result = openstation("panel", "status", "--data-dir", str(tmp_path))
    assert result.returncode == 1 and "no device is running" in result.stderr


def test_a_busy_port_is_one_line_naming_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = openstation("run", "--data-dir", str(tmp_path / "d"), "--http-port", str(port),
                             "--https-port", "0", "--no-mdns")
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "in use" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_unusable_data_directory_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = openstation("run", "--data-dir", str(blocker / "data"), "--no-mdns")
    assert result.returncode == 1 and "not usable" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_corrupt_database_is_refused_not_reinitialised(tmp_path: Path,
                                                         device_factory: Factory) -> None:
    data = tmp_path / "data"
    device_factory(data).stop()
    db = data / "system" / "config.db"
    for leftover in data.glob("system/config.db-*"):
        leftover.unlink()
    garbage = b"\x00garbage" * 512
    db.write_bytes(garbage)
    result = openstation("run", "--data-dir", str(data), "--http-port", "0", "--https-port",
                         "0", "--no-mdns")
    assert result.returncode == 1 and "not a valid configuration database" in result.stderr
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == garbage


def test_a_newer_schema_is_refused(tmp_path: Path, device_factory: Factory) -> None:
    data = tmp_path / "data"
    device_factory(data).stop()
    conn = sqlite3.connect(data / "system" / "config.db")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    result = openstation("run", "--data-dir", str(data), "--http-port", "0", "--https-port",
                         "0", "--no-mdns")
    assert result.returncode == 1 and "newer openstation" in result.stderr
    status = openstation("status", "--data-dir", str(data))
    assert status.returncode == 1 and "newer" in status.stderr


def test_status_of_an_empty_directory_is_a_clear_error(tmp_path: Path) -> None:
    result = openstation("status", "--data-dir", str(tmp_path / "nothing"))
    assert result.returncode == 1 and "holds no device" in result.stderr


def test_a_conflicting_model_is_refused(tmp_path: Path, device_factory: Factory) -> None:
    data = tmp_path / "data"
    device_factory(data, "--model", "DS918+").stop()
    result = openstation("run", "--data-dir", str(data), "--model", "RS1221+", "--no-mdns")
    assert result.returncode == 1 and "DS918+" in result.stderr
