"""High Availability figures, medians of real device processes.

- replication lag: a file committed on the active (it appears in the active's volume1) until
  it appears in the passive's volume1 — watched on both disks by a spinning thread;
- write throughput through the Web API, standalone vs in a pair (small files per second, and
  MB/s of 1 MiB uploads): what synchronous replication costs;
- failover time (root only: a pair in network namespaces with a cluster address): SIGKILL of
  the active until the cluster address answers from the other server.

    python bench/ha.py [WRITES] [FAILOVERS]      (default 200 writes, 3 failovers)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from openstation import netlab
from openstation.testing import STRONG, DeviceProcess, Web, openstation

MB = 1 << 20


def start(root: Path, name: str, *args: str, prefix: list[str] | None = None,
          ephemeral: bool = True) -> DeviceProcess:
    device = DeviceProcess(root / name, "--model", "DS918+", *args, prefix=prefix,
                           ephemeral_ports=ephemeral).start()
    return device


def pair(active: DeviceProcess, passive: DeviceProcess, passive_url: str, *extra: str) -> None:
    openstation("ha", "create", "--data-dir", str(active.data_dir),
                *passive.peer(passive_url),
                "--peer-user", "alice", "--peer-password", STRONG, "--name", "bench",
                *extra, check=True, timeout=120)


def lag(web: Web, active: Path, passive: Path, writes: int) -> list[float]:
    """Milliseconds from a file's commit on the active to its arrival on the passive."""
    found: list[float] = []
    for index in range(writes):
        name = f"lag-{index}.bin"
        seen: dict[str, float] = {}

        def watch(name: str = name, seen: dict[str, float] = seen) -> None:
            mine, theirs = active / "docs" / name, passive / "docs" / name
            while "active" not in seen or "passive" not in seen:
                now = time.perf_counter()
                if "active" not in seen and mine.exists():
                    seen["active"] = now
                if "passive" not in seen and theirs.exists():
                    seen["passive"] = now

        watcher = threading.Thread(target=watch)
        watcher.start()
        assert web.upload("/docs", name, b"x" * 4096)["success"]
        watcher.join(timeout=10)
        found.append((seen["passive"] - seen["active"]) * 1000)
    return found


def throughput(web: Web, writes: int) -> tuple[float, float]:
    """(small files per second, MB/s of 1 MiB uploads)."""
    began = time.perf_counter()
    for index in range(writes):
        assert web.upload("/docs", f"small-{index}.bin", b"y" * 4096)["success"]
    small = writes / (time.perf_counter() - began)
    block = os.urandom(MB)
    count = max(8, writes // 4)
    began = time.perf_counter()
    for index in range(count):
        assert web.upload("/docs", f"big-{index}.bin", block)["success"]
    return small, count / (time.perf_counter() - began)


def loopback(writes: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        solo, active, passive = (start(root, name) for name in ("solo", "active", "passive"))
        try:
            for device in (solo, active, passive):
                device.install(device.data_dir.name)
            pair(active, passive, passive.https_url, "--quorum", "127.0.0.1:9")
            webs = {}
            for label, device in (("standalone", solo), ("pair", active)):
                webs[label] = Web(device.url).login()
                webs[label].ok("SYNO.Core.Share", "create", name="docs")
            lags = sorted(lag(webs["pair"], active.data_dir / "volume1",
                              passive.data_dir / "volume1", writes))
            p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
            print(f"replication lag (4 KiB file, {writes} writes): median "
                  f"{statistics.median(lags):.2f} ms, p99 {p99:.2f} ms")
            for label, web in webs.items():
                small, big = throughput(web, writes)
                print(f"writes {label:10}: {small:7.1f} small files/s, {big:7.1f} MB/s "
                      "(1 MiB uploads)")
        finally:
            for device in (solo, active, passive):
                device.kill()


def failovers(count: int) -> None:
    if not netlab.available():
        print("failover: skipped (needs root for network namespaces)")
        return
    cluster = "10.77.0.50"
    with tempfile.TemporaryDirectory() as tmp, netlab.lab(3) as lab:
        root = Path(tmp)
        ns = list(lab.hosts)
        client = netlab.Client(ns[2])
        devices: dict[int, DeviceProcess] = {}
        try:
            for index in (0, 1):
                devices[index] = start(root, f"n{index}", "--host", lab.hosts[ns[index]],
                                       prefix=lab.exec_prefix(ns[index]), ephemeral=False)
                subprocess.run([*lab.exec_prefix(ns[2]), sys.executable, "-m", "openstation",
                                "install", "--url", f"http://{lab.hosts[ns[index]]}:5000",
                                "--server-name", f"n{index}", "--admin-user", "alice",
                                "--password", STRONG], check=True, capture_output=True)
            pair(devices[0], devices[1], f"https://{lab.hosts[ns[1]]}:5001", "--address", cluster,
                 "--quorum", lab.hosts[ns[2]], "--heartbeat", "0.5", "--failover", "3")
            times = []
            active = 0
            for _ in range(count):
                standby = 1 - active
                wanted = Web(f"http://{lab.hosts[ns[standby]]}:5000").probe
                serial = client.run(wanted)["serial"]
                devices[active].kill()
                began = time.perf_counter()
                while True:
                    try:
                        answer = client.run(lambda: Web(f"http://{cluster}:5000",
                                                        timeout=0.5).probe())
                        if answer["serial"] == serial:
                            break
                    except OSError:
                        pass
                    time.sleep(0.02)
                times.append(time.perf_counter() - began)
                devices[active] = start(root, f"n{active}", "--host",
                                        lab.hosts[ns[active]],
                                        prefix=lab.exec_prefix(ns[active]), ephemeral=False)
                data = devices[active].data_dir
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    result = openstation("ha", "status", "--data-dir", str(data), "--json")
                    if '"in_sync": true' in result.stdout and '"passive"' in result.stdout:
                        break
                    time.sleep(0.2)
                active = standby
            print(f"failover (heartbeat 0.5 s, failover time 3 s; {count} runs): median "
                  f"{statistics.median(times):.2f} s, max {max(times):.2f} s")
        finally:
            client.close()
            for device in devices.values():
                device.kill()


def main() -> None:
    writes = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    loopback(writes)
    failovers(count)


if __name__ == "__main__":
    main()
