"""Several devices on a real (namespaced) LAN: broadcast findhost and mDNS, end to end."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from openstation import netlab as netns
from openstation.panel import control
from openstation.testing import STRONG, DeviceProcess

pytestmark = pytest.mark.skipif(not netns.available(),
                                reason="needs root and iproute2 (CI runs as root)")

MODELS = {1: "DS918+", 2: "RS1221+", 3: "FS2500"}

BROWSE = textwrap.dedent('''
    import json, time
    from zeroconf import Zeroconf, ServiceBrowser, IPVersion
    zc = Zeroconf(interfaces=["{address}"], ip_version=IPVersion.V4Only)
    names = set()
    class L:
        def add_service(self, zc, t, n): names.add(n)
        def update_service(self, zc, t, n): names.add(n)
        def remove_service(self, zc, t, n): names.discard(n)
    ServiceBrowser(zc, "_http._tcp.local.", L())
    time.sleep(3)
    out = {{}}
    for n in sorted(names):
        info = zc.get_service_info("_http._tcp.local.", n, 2000)
        if info:
            out[n] = {{k.decode(): (v or b"").decode() for k, v in info.properties.items()}}
            out[n]["port"] = info.port
    zc.close()
    print(json.dumps(out))
''')


def run_in(lab: netns.Lab, ns: str, *args: str, timeout: float = 60
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*lab.exec_prefix(ns), sys.executable, *args], capture_output=True,
                          text=True, timeout=timeout)


def find(lab: netns.Lab, ns: str) -> dict[str, dict[str, object]]:
    result = run_in(lab, ns, "-m", "openstation", "find", "--json", "--timeout", "3")
    assert result.returncode == 0, result.stderr
    return {item["ip"]: item for item in json.loads(result.stdout)}


def test_three_devices_found_by_broadcast_and_mdns_with_their_statuses(tmp_path: Path
                                                                       ) -> None:
    with netns.lab(4) as lab:
        namespaces = list(lab.hosts)
        finder_ns = namespaces[3]
        devices: dict[int, DeviceProcess] = {}
        try:
            for index in (1, 2, 3):
                ns = namespaces[index - 1]
                devices[index] = DeviceProcess(
                    tmp_path / f"d{index}", "--model", MODELS[index], "--host",
                    lab.hosts[ns], ephemeral_ports=False, discovery=True,
                    prefix=lab.exec_prefix(ns)).start()
            install = run_in(lab, finder_ns, "-m", "openstation", "install", "--url",
                             "http://10.77.0.2:5000", "--server-name", "rack", "--admin-user",
                             "alice", "--password", STRONG)
            assert install.returncode == 0, install.stderr

            first = find(lab, finder_ns)
            assert set(first) == {"10.77.0.1", "10.77.0.2", "10.77.0.3"}
            assert {ip: d["status"] for ip, d in first.items()} == {
                "10.77.0.1": "Not installed", "10.77.0.2": "Ready",
                "10.77.0.3": "Not installed"}
            assert {d["model"] for d in first.values()} == set(MODELS.values())
            assert first["10.77.0.3"]["name"] == "FlashStation"
            assert all("findhost" in d["sources"] for d in first.values())

            # One device gets installed, another is reset (Mode 2): a new search sees both.
            install = run_in(lab, finder_ns, "-m", "openstation", "install", "--url",
                             "http://10.77.0.1:5000", "--server-name", "disk", "--admin-user",
                             "alice", "--password", STRONG)
            assert install.returncode == 0, install.stderr
            answer = asyncio.run(control.call(tmp_path / "d2" / "system" / "panel.sock",
                                              "POST", "/reset", {"mode": 2}))
            assert answer["accepted"]
            for _ in range(100):
                second = find(lab, finder_ns)
                if second.get("10.77.0.2", {}).get("status") == "Configuration lost":
                    break
            assert {ip: d["status"] for ip, d in second.items()} == {
                "10.77.0.1": "Ready", "10.77.0.2": "Configuration lost",
                "10.77.0.3": "Not installed"}
            assert second["10.77.0.1"]["name"] == "disk"
            assert second["10.77.0.2"]["name"] == "RackStation"

            browsed = run_in(lab, finder_ns, "-c",
                             BROWSE.format(address=lab.hosts[finder_ns]))
            assert browsed.returncode == 0, browsed.stderr
            services = json.loads(browsed.stdout)
            txts = {name.split(".")[0]: txt for name, txt in services.items()}
            assert set(txts) == {"disk", "RackStation", "FlashStation"}
            for txt in txts.values():
                assert txt["vendor"].lower().startswith("synology")
                assert txt["mac_address"].startswith("02:11:32")
                assert txt["admin_port"] == "5000" and txt["secure_admin_port"] == "5001"
            assert txts["disk"]["status"] == "Ready"
        finally:
            for device in devices.values():
                device.kill()
