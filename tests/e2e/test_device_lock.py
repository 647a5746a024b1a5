"""One writer at a time: a running device holds its data directory's lock, so the CLI goes
through the device's control socket; on a stopped device the CLI takes the lock itself."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from openstation.datadir import DataDir
from openstation.errors import DeviceBusyError
from openstation.testing import DeviceProcess, openstation

Factory = Callable[..., DeviceProcess]


def test_a_running_device_holds_the_lock_and_the_cli_goes_through_it(
        device_factory: Factory, tmp_path: Path) -> None:
    data = tmp_path / "data"
    device = device_factory(data)
    assert device.install().returncode == 0
    try:
        DataDir(data).lock(0).release()
    except DeviceBusyError:
        pass
    else:
        raise AssertionError("a running device must hold its lock")
    d = ("--data-dir", str(data))
    # Were these to open the store themselves they would wait on the lock and fail.
    openstation("user", "create", "bob", "--password", "B0b!secret", *d, check=True)
    openstation("config", "set", "login", "session_timeout_minutes=20", *d, check=True)
    rows = json.loads(openstation("log", "--json", *d, check=True).stdout)
    assert any(row["section"] == "users" and row["key"] == "bob" and row["actor"] == "cli"
               for row in rows)
    sid = device.api("SYNO.API.Auth", "login", 6, account="bob", passwd="B0b!secret")
    assert sid["success"], sid  # the device knew bob at once: no store behind its back


def test_the_cli_on_a_stopped_device_takes_the_lock(device_factory: Factory,
                                                    tmp_path: Path) -> None:
    data = tmp_path / "data"
    device = device_factory(data)
    assert device.install().returncode == 0
    device.stop()
    held = DataDir(data).lock(0)  # as a device that is still starting would
    try:
        busy = openstation("user", "create", "bob", "--password", "B0b!secret",
                           "--data-dir", str(data), timeout=30)
        assert busy.returncode == 1 and "in use by another openstation process" in busy.stderr
        assert "Traceback" not in busy.stderr
    finally:
        held.release()
    openstation("user", "create", "bob", "--password", "B0b!secret", "--data-dir", str(data),
                check=True)


def test_a_second_device_on_the_same_data_directory_is_refused(
        device_factory: Factory, tmp_path: Path) -> None:
    data = tmp_path / "data"
    device_factory(data)
    second = subprocess.run(
        [sys.executable, "-m", "openstation", "run", "--data-dir", str(data), "--http-port",
         "0", "--https-port", "0", "--findhost-port", "0", "--ssdp-port", "0", "--no-mdns",
         "--cluster-port", "0"], capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert "in use by another openstation process" in second.stderr
    assert "Traceback" not in second.stderr
