"""A High Availability pair on a real (namespaced) LAN: each server in its own namespace, a
client and quorum reference in a third. The cluster address moves with the active role
(`ip addr` + gratuitous ARP) and survives a SIGKILL of the active."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from openstation import netlab as netns
from openstation.panel import control
from openstation.testing import STRONG, DeviceProcess, Web, wait_for
from tests.cluster.test_ha_pair import digest, ha, sha256

pytestmark = pytest.mark.skipif(not netns.available(),
                                reason="needs root and iproute2 (CI runs as root)")

CLUSTER = "10.77.0.50"
FAILOVER = 3.0
HEARTBEAT = 0.5


def holds(lab: netns.Lab, ns: str, address: str) -> bool:
    shown = subprocess.run(["ip", "-n", ns, "-4", "-o", "addr", "show", "to", f"{address}/32"],
                           capture_output=True, text=True, timeout=10)
    return bool(shown.stdout.strip())


def answering(client: netns.Client, url: str) -> str | None:
    """The serial of the server answering at `url`, or None."""
    try:
        return str(client.run(lambda: Web(url, timeout=1).probe())["serial"])
    except OSError:
        return None


@dataclass
class PairLab:
    lab: netns.Lab
    client: netns.Client
    tmp: Path
    devices: dict[str, DeviceProcess] = field(default_factory=dict)
    serial: dict[str, str] = field(default_factory=dict)
    cluster_url: str = f"http://{CLUSTER}:5000"

    @property
    def ns(self) -> dict[str, str]:
        return dict(zip(("a", "b", "client"), self.lab.hosts, strict=True))

    def boot(self, name: str) -> DeviceProcess:
        ns = self.ns[name]
        self.devices[name] = DeviceProcess(
            self.tmp / name, "--model", "DS918+", "--host", self.lab.hosts[ns],
            ephemeral_ports=False, discovery=True, prefix=self.lab.exec_prefix(ns)).start()
        return self.devices[name]

    def found(self) -> dict[str, str]:
        """Synology Assistant's view from the client: address -> server name."""
        result = subprocess.run(
            [*self.lab.exec_prefix(self.ns["client"]), sys.executable, "-m", "openstation",
             "find", "--json", "--timeout", "1.5"], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        return {item["ip"]: item["name"] for item in json.loads(result.stdout)}

    def holds(self, name: str) -> bool:
        return holds(self.lab, self.ns[name], CLUSTER)

    def answering(self) -> str | None:
        return answering(self.client, self.cluster_url)


@contextmanager
def pair_lab(tmp: Path) -> Iterator[PairLab]:
    """Servers a (active) and b (passive) of pair "hapair", and a client that is also the
    quorum reference, each in its own namespace on one bridge."""
    with netns.lab(3) as lab:
        world = PairLab(lab, netns.Client(list(lab.hosts)[2]), tmp)
        try:
            for name in ("a", "b"):
                world.boot(name)
                install = subprocess.run(
                    [*lab.exec_prefix(world.ns["client"]), sys.executable, "-m",
                     "openstation", "install", "--url",
                     f"http://{lab.hosts[world.ns[name]]}:5000", "--server-name",
                     f"nas-{name}", "--admin-user", "alice", "--password", STRONG],
                    capture_output=True, text=True, timeout=60)
                assert install.returncode == 0, install.stderr
                world.serial[name] = ha(world.devices[name].data_dir, "status")["serial"]
            made = ha(world.devices["a"].data_dir, "create", *world.devices["b"].peer(
                      f"https://{lab.hosts[world.ns['b']]}:5001"), "--peer-user", "alice",
                      "--peer-password", STRONG, "--name", "hapair", "--address", CLUSTER,
                      "--quorum", lab.hosts[world.ns["client"]],
                      "--heartbeat", str(HEARTBEAT), "--failover", str(FAILOVER))
            assert made["serving"] and made["peer"]["replication"] == "in sync"
            assert world.holds("a") and not world.holds("b")
            assert world.answering() == world.serial["a"]
            yield world
        finally:
            world.client.close()
            for device in world.devices.values():
                device.kill()


def test_pair_fails_over_on_sigkill_and_the_old_active_rejoins_as_passive(
        tmp_path: Path) -> None:
    with pair_lab(tmp_path) as world:
        a, b = world.devices["a"], world.devices["b"]
        client, cluster_url = world.client, world.cluster_url

        # Writes through the cluster address reach the passive, checked by SHA-256.
        body = os.urandom(5 << 20)

        def write_through_cluster() -> None:
            web = Web(cluster_url).login()
            web.ok("SYNO.Core.User", "create", name="bob", password=STRONG)
            web.ok("SYNO.Core.Share", "create", name="docs")
            assert web.upload("/docs", "before.bin", body)["success"]

        client.run(write_through_cluster)
        assert digest(b.data_dir) == digest(a.data_dir)
        assert digest(b.data_dir)["docs/before.bin"] == sha256(body)
        b_url = f"http://{world.lab.hosts[world.ns['b']]}:5000"
        assert client.run(lambda: Web(b_url).login("bob", STRONG).sid)

        # The active answers Synology Assistant as the cluster; the passive as itself.
        address = {name: world.lab.hosts[world.ns[name]] for name in ("a", "b")}
        assert world.found() == {address["a"]: "hapair", address["b"]: "nas-b"}

        # The active dies: the passive takes the address within the configured time.
        a.kill()
        killed = time.monotonic()
        wait_for(lambda: world.answering() == world.serial["b"], timeout=30)
        took = time.monotonic() - killed
        assert took < FAILOVER + 2 * HEARTBEAT + 3, took
        assert world.holds("b")
        assert world.found() == {address["b"]: "hapair"}
        status_b = ha(b.data_dir, "status")
        assert status_b["role"] == "active" and status_b["epoch"] == 2

        after = os.urandom(1 << 20)

        def read_and_write_after_failover() -> bytes:
            assert Web(cluster_url).login("bob", STRONG).sid  # sessions start anew
            admin = Web(cluster_url).login()
            assert admin.upload("/docs", "after.bin", after)["success"]
            return admin.download("/docs/before.bin")

        assert sha256(client.run(read_and_write_after_failover)) == sha256(body)

        # The old active comes back: it gives the address up and rejoins as passive.
        a = world.boot("a")
        wait_for(lambda: ha(a.data_dir, "status").get("in_sync") is True
                 and ha(a.data_dir, "status")["role"] == "passive", timeout=30)
        assert not world.holds("a") and world.holds("b")
        assert digest(a.data_dir) == digest(b.data_dir)
        assert digest(a.data_dir)["docs/after.bin"] == sha256(after)
        assert world.answering() == world.serial["b"]

        # Mode 1 on the active: both leave the pair, the address goes, no data is lost.
        before = {name: digest(d.data_dir) for name, d in world.devices.items()}
        answer = asyncio.run(control.call(b.data_dir / "system" / "panel.sock", "POST",
                                          "/reset", {"mode": 1}))
        assert answer["accepted"]
        for device in (a, b):
            wait_for(lambda d=device: not ha(d.data_dir, "status")["member"], timeout=15)
        assert not world.holds("a") and not world.holds("b")
        assert world.answering() is None
        assert {name: digest(d.data_dir) for name, d in world.devices.items()} == before
        a_url = f"http://{world.lab.hosts[world.ns['a']]}:5000"
        assert answering(client, a_url) == world.serial["a"]
        assert ha(a.data_dir, "status")["server_name"] == "nas-a"


def test_a_partition_never_gives_two_servers_the_address(tmp_path: Path) -> None:
    with pair_lab(tmp_path) as world:
        a, b = world.devices["a"], world.devices["b"]
        client, cluster_url = world.client, world.cluster_url
        client.run(lambda: Web(cluster_url).login().ok("SYNO.Core.Share", "create",
                                                       name="docs"))

        # The passive's cable is pulled: it sees neither the active nor the quorum
        # reference, so it must not take over; the active goes on, degraded.
        world.lab.cable(2, plugged=False)
        wait_for(lambda: ha(a.data_dir, "status")["peer"]["replication"] != "in sync",
                 timeout=FAILOVER + 5)
        time.sleep(FAILOVER)
        assert ha(b.data_dir, "status")["role"] == "passive" and not world.holds("b")
        during = os.urandom(1 << 20)
        assert client.run(lambda: Web(cluster_url).login().upload(
            "/docs", "during.bin", during))["success"]
        world.lab.cable(2, plugged=True)
        wait_for(lambda: ha(a.data_dir, "status")["peer"]["replication"] == "in sync",
                 timeout=30)
        assert digest(b.data_dir)["docs/during.bin"] == sha256(during)

        # Now the active's cable: it gives the address up, the passive (which still sees
        # the quorum reference) takes over; back on the LAN, the old active steps down.
        world.lab.cable(1, plugged=False)
        wait_for(lambda: world.answering() == world.serial["b"], timeout=30)
        wait_for(lambda: not world.holds("a"), timeout=10)
        assert ha(a.data_dir, "status")["role"] == "active"  # isolated, not serving
        world.lab.cable(1, plugged=True)
        wait_for(lambda: ha(a.data_dir, "status")["role"] == "passive"
                 and ha(a.data_dir, "status")["in_sync"] is True, timeout=30)
        assert world.holds("b") and not world.holds("a")
        assert digest(a.data_dir) == digest(b.data_dir)
