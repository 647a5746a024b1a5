"""A Virtual Machine Manager cluster of three real device processes on loopback: create,
join (through different members), inventory and health on every member, refusals, and
members leaving by Mode 1, by Mode 2 and by `vmm leave`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openstation import netlab
from openstation.panel import control
from openstation.testing import STRONG, DeviceProcess, openstation, wait_for


def vmm(data: Path, *args: str) -> tuple[int, Any]:
    result = openstation("vmm", *args, "--data-dir", str(data), "--json", timeout=60)
    if result.returncode != 0:
        assert "Traceback" not in result.stderr
        return result.returncode, result.stderr
    return 0, json.loads(result.stdout)


def members(data: Path) -> dict[str, dict[str, Any]]:
    code, status = vmm(data, "status")
    assert code == 0
    return {host["server_name"] if "server_name" in host else host["url"]: host
            for host in status.get("members", [])}


@pytest.fixture
def three(tmp_path: Path) -> Iterator[list[DeviceProcess]]:
    devices = [DeviceProcess(tmp_path / name, "--model", "DS918+").start()
               for name in ("a", "b", "c")]
    try:
        for name, device in zip("abc", devices, strict=True):
            assert device.install(f"vm-{name}").returncode == 0
        yield devices
    finally:
        for device in devices:
            device.kill()


def test_three_hosts_form_a_cluster_report_inventory_and_a_mode_1_member_leaves(
        three: list[DeviceProcess]) -> None:
    a, b, c = three

    def join(who: DeviceProcess, via: DeviceProcess, password: str) -> tuple[int, Any]:
        return vmm(who.data_dir, "join", *via.peer(), "--peer-user", "alice",
                   "--peer-password", password)

    assert "in no VMM cluster" in join(b, a, STRONG)[1]  # a has no cluster yet
    code, created = vmm(a.data_dir, "create", "lab")
    assert code == 0 and created["cluster_name"] == "lab"
    assert "already in VMM cluster" in vmm(a.data_dir, "create", "again")[1]
    assert "refused" in join(b, a, "Wr0ng!pass")[1]
    assert vmm(b.data_dir, "status")[1] == {"member": False}

    assert join(b, a, STRONG)[0] == 0
    assert join(c, b, STRONG)[0] == 0  # through another member: everyone learns it
    assert "already in VMM cluster" in join(c, a, STRONG)[1]

    names = {"vm-a", "vm-b", "vm-c"}
    for device in three:
        wait_for(lambda d=device: set(members(d.data_dir)) == names and all(
            host["health"] == "healthy" for host in members(d.data_dir).values()))
        for host in members(device.data_dir).values():
            assert host["model"] == "DS918+" and host["status"] == "Ready"
            assert host["cpu"]["cores"] >= 1
            assert 0 < host["memory"]["available"] <= host["memory"]["total"]
            assert 0 < host["storage"]["free"] <= host["storage"]["total"]

    # A stopped member shows as unreachable on the others, and healthy again once back.
    c.stop()
    wait_for(lambda: members(a.data_dir)["vm-c"]["health"] == "unreachable"
             if "vm-c" in members(a.data_dir) else False)
    c.start()

    # Mode 1 on c: it leaves, and a and b drop it; nothing else changes.
    answer = asyncio.run(control.call(c.data_dir / "system" / "panel.sock", "POST", "/reset",
                                      {"mode": 1}))
    assert answer["accepted"]
    wait_for(lambda: vmm(c.data_dir, "status")[1] == {"member": False})
    for device in (a, b):
        wait_for(lambda d=device: set(members(d.data_dir)) == {"vm-a", "vm-b"})
    assert vmm(a.data_dir, "status")[1]["cluster_name"] == "lab"

    # Mode 2 on b does the same before it wipes the system partition.
    answer = asyncio.run(control.call(b.data_dir / "system" / "panel.sock", "POST", "/reset",
                                      {"mode": 2}))
    assert answer["accepted"]
    wait_for(lambda: set(members(a.data_dir)) == {"vm-a"})
    wait_for(lambda: vmm(b.data_dir, "status")[1] == {"member": False})

    code, left = vmm(a.data_dir, "leave")
    assert code == 0 and left == {"left": "lab", "told": [], "not_told": []}
    assert "in no VMM cluster" in vmm(a.data_dir, "leave")[1]


@pytest.mark.skipif(not netlab.available(), reason="needs root and iproute2 (CI runs as root)")
def test_members_on_a_namespaced_lan_know_each_other_by_their_lan_addresses(
        tmp_path: Path) -> None:
    with netlab.lab(3) as lab:
        spaces = list(lab.hosts)
        devices: list[DeviceProcess] = []
        try:
            for index, ns in enumerate(spaces):
                devices.append(DeviceProcess(
                    tmp_path / f"h{index}", "--model", "DS918+", "--host", lab.hosts[ns],
                    ephemeral_ports=False, prefix=lab.exec_prefix(ns)).start())
                install = subprocess.run(
                    [*lab.exec_prefix(ns), sys.executable, "-m", "openstation", "install",
                     "--url", f"http://{lab.hosts[ns]}:5000", "--server-name", f"lan-{index}",
                     "--admin-user", "alice", "--password", STRONG],
                    capture_output=True, text=True, timeout=60)
                assert install.returncode == 0, install.stderr
            # The first member is known by the HTTPS address the others joined it by (the
            # one its certificate fingerprint was pinned for); the others by their HTTP one.
            urls = [f"https://{lab.hosts[spaces[0]]}:5001",
                    *(f"http://{lab.hosts[ns]}:5000" for ns in spaces[1:])]
            assert vmm(devices[0].data_dir, "create", "lan")[0] == 0
            for device in devices[1:]:
                code, joined = vmm(device.data_dir, "join", *devices[0].peer(urls[0]),
                                   "--peer-user", "alice", "--peer-password", STRONG)
                assert code == 0, joined
            for index, device in enumerate(devices):
                wait_for(lambda d=device: all(h["health"] == "healthy" for h in
                                              vmm(d.data_dir, "status")[1]["members"])
                         and len(vmm(d.data_dir, "status")[1]["members"]) == 3)
                status = vmm(device.data_dir, "status")[1]
                assert status["me"] == urls[index]
                assert {h["url"] for h in status["members"]} == set(urls)

            answer = asyncio.run(control.call(devices[1].data_dir / "system" / "panel.sock",
                                              "POST", "/reset", {"mode": 1}))
            assert answer["accepted"]
            for device in (devices[0], devices[2]):
                wait_for(lambda d=device: {h["url"] for h in vmm(d.data_dir, "status")[1][
                    "members"]} == {urls[0], urls[2]})
        finally:
            for device in devices:
                device.kill()
