"""A High Availability pair on a real (namespaced) LAN: each server in its own namespace, a
client and quorum reference in a third. The cluster address moves with the active role
(`ip addr` + gratuitous ARP) and survives a SIGKILL of the active."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openstation import netlab as netns
from openstation.panel import control
from openstation.testing import STRONG, DeviceProcess
from tests.cluster.test_ha_pair import digest, ha, wait_for
from tests.cluster.web import Web, sha256

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


def test_pair_fails_over_on_sigkill_and_the_old_active_rejoins_as_passive(
        tmp_path: Path) -> None:
    with netns.lab(3) as lab:
        ns_a, ns_b, ns_client = list(lab.hosts)
        client = netns.Client(ns_client)
        devices: dict[str, DeviceProcess] = {}

        def boot(name: str, ns: str) -> DeviceProcess:
            devices[name] = DeviceProcess(
                tmp_path / name, "--model", "DS918+", "--host", lab.hosts[ns],
                ephemeral_ports=False, prefix=lab.exec_prefix(ns)).start()
            return devices[name]

        try:
            a, b = boot("a", ns_a), boot("b", ns_b)
            for name, ns in (("a", ns_a), ("b", ns_b)):
                install = subprocess.run(
                    [*lab.exec_prefix(ns_client), sys.executable, "-m", "openstation",
                     "install", "--url", f"http://{lab.hosts[ns]}:5000", "--server-name",
                     f"nas-{name}", "--admin-user", "alice", "--password", STRONG],
                    capture_output=True, text=True, timeout=60)
                assert install.returncode == 0, install.stderr
            serial = {name: ha(d.data_dir, "status")["serial"] for name, d in devices.items()}

            made = ha(a.data_dir, "create", "--peer", f"http://{lab.hosts[ns_b]}:5000",
                      "--peer-user", "alice", "--peer-password", STRONG, "--name", "hapair",
                      "--address", CLUSTER, "--quorum", lab.hosts[ns_client],
                      "--heartbeat", str(HEARTBEAT), "--failover", str(FAILOVER))
            assert made["serving"] and made["peer"]["replication"] == "in sync"
            assert holds(lab, ns_a, CLUSTER) and not holds(lab, ns_b, CLUSTER)
            cluster_url = f"http://{CLUSTER}:5000"
            assert answering(client, cluster_url) == serial["a"]

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
            assert client.run(lambda: Web(f"http://{lab.hosts[ns_b]}:5000").login(
                "bob", STRONG).sid)

            # The active dies: the passive takes the address within the configured time.
            devices["a"].kill()
            killed = time.monotonic()
            wait_for(lambda: answering(client, cluster_url) == serial["b"], timeout=30)
            took = time.monotonic() - killed
            assert took < FAILOVER + 2 * HEARTBEAT + 3, took
            assert holds(lab, ns_b, CLUSTER)
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
            a = boot("a", ns_a)
            wait_for(lambda: ha(a.data_dir, "status").get("in_sync") is True
                     and ha(a.data_dir, "status")["role"] == "passive", timeout=30)
            assert not holds(lab, ns_a, CLUSTER) and holds(lab, ns_b, CLUSTER)
            assert digest(a.data_dir) == digest(b.data_dir)
            assert digest(a.data_dir)["docs/after.bin"] == sha256(after)
            assert answering(client, cluster_url) == serial["b"]

            # Mode 1 on the active: both leave the pair, the address goes, no data is lost.
            before = {name: digest(d.data_dir) for name, d in devices.items()}
            answer = asyncio.run(control.call(b.data_dir / "system" / "panel.sock", "POST",
                                              "/reset", {"mode": 1}))
            assert answer["accepted"]
            for device in (a, b):
                wait_for(lambda d=device: not ha(d.data_dir, "status")["member"], timeout=15)
            assert not holds(lab, ns_a, CLUSTER) and not holds(lab, ns_b, CLUSTER)
            assert answering(client, cluster_url) is None
            assert {name: digest(d.data_dir) for name, d in devices.items()} == before
            assert answering(client, f"http://{lab.hosts[ns_a]}:5000") == serial["a"]
            assert ha(a.data_dir, "status")["server_name"] == "nas-a"
        finally:
            client.close()
            for device in devices.values():
                device.kill()

