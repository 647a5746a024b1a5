"""Discovery figures.

1. findhost query-to-answer latency on loopback: median (and p99) of 1000 queries to a real
   device process, sent from many loopback source addresses (the per-source rate limit would
   otherwise rightly drop most of them).
2. Time to discover N devices (N = 1, 5, 20), each in its own network namespace on one
   bridge, from a finder in another: from the broadcast query to the N-th distinct answer.
   Needs root (iproute2); skipped otherwise.

    python bench/discovery.py
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from openstation import netlab as netns
from openstation.discovery import findhost
from openstation.testing import DeviceProcess

FIND_N = textwrap.dedent('''
    import socket, time
    from openstation.discovery import findhost
    want = {n}
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.bind(("0.0.0.0", 9999))
    sock.settimeout(0.05)
    seen = set()
    start = time.perf_counter()
    sock.sendto(findhost.query(), ("10.77.0.255", 9999))
    while len(seen) < want and time.perf_counter() - start < 10:
        try:
            data, _ = sock.recvfrom(9000)
        except TimeoutError:
            continue
        packet = findhost.try_decode(data)
        if packet is not None and packet.get("packet_type") in (2, 6):
            seen.add(packet.get("serial"))
    print(time.perf_counter() - start if len(seen) >= want else -1)
''')


def loopback_latency(count: int = 1000) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        device = DeviceProcess(Path(tmp) / "data").start()
        port = device.runtime["ports"]["findhost"]
        times = []
        try:
            for n in range(count):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.bind((f"127.0.{n // 250 + 1}.{n % 250 + 2}", 0))
                    sock.settimeout(2)
                    start = time.perf_counter()
                    sock.sendto(findhost.query(), ("127.0.0.1", port))
                    sock.recvfrom(9000)
                    times.append(time.perf_counter() - start)
        finally:
            device.stop()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def namespaces(n: int) -> float:
    with tempfile.TemporaryDirectory(dir=".") as tmp, netns.lab(n + 1) as lab:
        names = list(lab.hosts)
        devices = []
        try:
            for index, ns in enumerate(names[:n]):
                devices.append(DeviceProcess(
                    Path(tmp) / f"d{index}", "--host", lab.hosts[ns], "--no-mdns",
                    ephemeral_ports=False, discovery=True,
                    prefix=lab.exec_prefix(ns)).start())
            runs = []
            for _ in range(5):
                script = FIND_N.format(n=n)
                result = subprocess.run([*lab.exec_prefix(names[n]), sys.executable, "-c",
                                         script], capture_output=True, text=True, timeout=30)
                runs.append(float(result.stdout.strip() or -1))
            return statistics.median(runs)
        finally:
            for device in devices:
                device.kill()


def main() -> None:
    median, p99 = loopback_latency()
    print(f"findhost answer on loopback: median {median * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms"
          " (1000 queries; target <= 20 ms)")
    if not netns.available():
        print("namespaces: skipped (needs root and iproute2)")
        return
    for n in (1, 5, 20):
        seconds = namespaces(n)
        print(f"discover {n:>2} device(s) in namespaces: median {seconds * 1000:.1f} ms "
              "(query to the last answer, 5 searches)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
