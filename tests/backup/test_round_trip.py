"""Back up, reset with Mode 2, reinstall, restore — on real processes; and power loss
during a restore."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from openstation.config.sections import KeyEntry, PPPoE
from openstation.panel import control
from openstation.security.machine_key import MachineKey
from openstation.testing import STRONG, DeviceProcess, openstation, wait_for_status
from tests.e2e.configured import BOB, Observed, configure_everything, open_store, volume_digest

Factory = Callable[..., DeviceProcess]


def panel(data: Path, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return asyncio.run(control.call(data / "system" / "panel.sock",
                                    "POST" if payload is not None else "GET", path, payload))


def everything(data: Path) -> str:
    """Every backed-up section of the configuration, as text (secrets in the clear)."""
    from openstation.config.restore import export

    store = open_store(data, readonly=True)
    try:
        content = export(store, MachineKey.load_or_create(data / "system" / "machine.key"),
                         with_secrets=True)
    finally:
        store.close()
    for user in content["collections"]["users"]:
        user.pop("password_changed", None)
    return json.dumps(content, sort_keys=True)


def configured_running(device_factory: Factory, data: Path) -> DeviceProcess:
    first = device_factory(data)
    assert first.install("nas1", "alice", STRONG).returncode == 0
    first.stop()
    configure_everything(data)
    device = device_factory(data)
    openstation("config", "set", "pppoe", "password=isp-secret", "--data-dir", str(data),
                check=True)
    return device


def test_backup_mode2_reinstall_restore_brings_everything_back(device_factory: Factory,
                                                               tmp_path: Path) -> None:
    data = tmp_path / "data"
    device = configured_running(device_factory, data)
    before, observed_before = everything(data), Observed.read(data)
    volume = volume_digest(data / "volume1")
    backup = tmp_path / "nas1.backup"
    openstation("config", "backup", "-o", str(backup), "--passphrase", "pw!", "--data-dir",
                str(data), check=True)
    assert b"isp-secret" not in backup.read_bytes()

    assert panel(data, "/reset", {"mode": 2})["accepted"]
    wait_for_status(data, "Configuration lost")
    device.refresh()
    assert device.install("fresh", "dora", "D0ra!pass").returncode == 0
    wrong = openstation("config", "restore", str(backup), "--passphrase", "nope", "--yes",
                        "--data-dir", str(data))
    assert wrong.returncode == 1 and "passphrase" in wrong.stderr
    result = openstation("config", "restore", str(backup), "--passphrase", "pw!", "--yes",
                         "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert "users" in result.stdout  # the per-section preview was shown

    after = everything(data)
    restored = json.loads(after)
    expected = json.loads(before)
    expected["collections"]["keys"] = [k for k in expected["collections"]["keys"]
                                       if k["protection"] != "machine"]
    assert restored == expected
    assert Observed.read(data).kept == observed_before.kept
    assert volume_digest(data / "volume1") == volume
    assert device.api("SYNO.API.Auth", "login", 6, account=BOB[0], passwd=BOB[1])["success"]
    store = open_store(data, readonly=True)
    try:
        key = MachineKey.load_or_create(data / "system" / "machine.key")
        assert key.open(store.get(PPPoE).password, "pppoe") == "isp-secret"
        assert store.record(KeyEntry, "archive") is not None
        assert store.record(KeyEntry, "vault") is None  # machine-key entries never travel
    finally:
        store.close()


def test_reinstall_can_restore_the_newest_automatic_snapshot(device_factory: Factory,
                                                             tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = device_factory(data)
    assert first.install("nas1", "alice", STRONG).returncode == 0
    first.stop()
    configure_everything(data)
    device_factory(data).stop()  # a boot of a Ready device writes today's snapshot
    listed = openstation("config", "backups", "--data-dir", str(data), check=True).stdout
    assert "@config-backups/config-" in listed
    device = device_factory(data)
    assert panel(data, "/reset", {"mode": 2})["accepted"]
    wait_for_status(data, "Configuration lost")
    device.refresh()
    result = openstation("install", "--url", device.url, "--server-name", "x",
                         "--admin-user", "dora", "--password", "D0ra!pass", "--restore-latest")
    assert result.returncode == 0, result.stderr
    assert device.api("SYNO.API.Auth", "login", 6, account=BOB[0], passwd=BOB[1])["success"]
    status = json.loads(openstation("status", "--data-dir", str(data), "--json",
                                    check=True).stdout)
    assert status["server_name"] == "nas1"


@pytest.fixture(scope="module")
def restore_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A configured device, its backup, then changes a restore must undo."""
    data = tmp_path_factory.mktemp("restore") / "data"
    device = DeviceProcess(data).start()
    assert device.install("nas1", "alice", STRONG).returncode == 0
    device.stop()
    configure_everything(data)
    device = DeviceProcess(data).start()
    raw = base64.b64decode(panel(data, "/op", {"op": "backup.export"})["result"]["file"])
    openstation("config", "set", "ports", "http=6000", "https=6001", "--data-dir", str(data),
                check=True)
    openstation("user", "delete", "carol", "--data-dir", str(data), check=True)
    openstation("config", "set", "autoblock", "enabled=false", "--data-dir", str(data),
                check=True)
    device.stop()
    return data, raw


POINTS = ["restore-journaled", "restore-sections", "restore-committed"]


def run_restore(data: Path, raw: bytes) -> None:
    answer = panel(data, "/op", {"op": "backup.restore",
                                 "args": {"file": base64.b64encode(raw).decode()}})
    assert "error" not in answer, answer


@pytest.mark.parametrize("point", POINTS)
def test_power_loss_during_a_restore_finishes_it_at_boot(
        restore_template: tuple[Path, bytes], tmp_path: Path, point: str) -> None:
    template, raw = restore_template
    data = tmp_path / "data"
    shutil.copytree(template, data)
    volume = volume_digest(data / "volume1")
    device = DeviceProcess(data, env={"OPENSTATION_FAILPOINT": point}).start()
    with contextlib.suppress(Exception):  # the process dies mid-answer
        run_restore(data, raw)
    assert device.proc is not None
    device.proc.wait(20)
    assert device.proc.returncode == -signal.SIGKILL
    DeviceProcess(data).start().stop()
    after = Observed.read(data)
    assert after.ten_items["ports"] == [5050, 5051] and "carol" in after.kept["users"]
    assert after.ten_items["autoblock"] is True
    assert volume_digest(data / "volume1") == volume


def test_random_power_loss_during_restores_leaves_old_or_new(
        restore_template: tuple[Path, bytes], tmp_path: Path) -> None:
    template, raw = restore_template
    rng = random.Random(7)
    outcomes = {"old": 0, "restored": 0}
    for attempt in range(8):
        data = tmp_path / str(attempt) / "data"
        shutil.copytree(template, data)
        old = everything(data)
        device = DeviceProcess(data).start()
        assert device.proc is not None
        with contextlib.suppress(Exception):
            asyncio.run(asyncio.wait_for(control.call(
                data / "system" / "panel.sock", "POST", "/op",
                {"op": "backup.restore", "args": {"file": base64.b64encode(raw).decode()}}),
                rng.uniform(0.0, 0.05)))
        device.proc.send_signal(signal.SIGKILL)
        device.proc.communicate()
        DeviceProcess(data).start().stop()
        now = everything(data)
        observed = Observed.read(data)
        restored = observed.ten_items["ports"] == [5050, 5051] and \
            "carol" in observed.kept["users"]
        assert restored or now == old, attempt
        outcomes["restored" if restored else "old"] += 1
    print(f"random kills during restore: {outcomes}")


def test_a_backup_larger_than_a_form_restores_through_a_running_device(
        device_factory: Factory, tmp_path: Path) -> None:
    """`config restore` sends the file over the control socket, base64 in JSON: a backup of
    a few MiB (many accounts) must get through it, as on the Web API."""
    from openstation.testing import Web

    data = tmp_path / "data"
    device = device_factory(data)
    assert device.install("nas1", "alice", STRONG).returncode == 0
    web = Web(device.url).login()
    for n in range(12):
        web.ok("SYNO.Core.User", "create", name=f"user{n}", password="Us3r!secret",
               description="d" * 120_000)
    backup = tmp_path / "big.backup"
    d = ("--data-dir", str(data))
    openstation("config", "backup", "-o", str(backup), *d, check=True)
    assert backup.stat().st_size > 1_400_000  # more than aiohttp's default 1 MiB, base64'd
    web.ok("SYNO.Core.User", "delete", name="user3")
    restored = openstation("config", "restore", str(backup), "--yes", *d)
    assert restored.returncode == 0, restored.stderr
    names = [u["name"] for u in json.loads(openstation("user", "list", "--json", *d,
                                                       check=True).stdout)]
    assert "user3" in names
