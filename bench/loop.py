"""The event loop under a login storm, on a real device process over loopback.

While CLIENTS clients sign in as fast as they can (correct password: argon2id runs for
each), one prober sends SYNO.API.Info queries one after another and times each. Printed
side by side: the prober's latency on the idle device (the baseline) and during the storm,
and the storm's sign-ins per second.

    python bench/loop.py [SECONDS] [CLIENTS]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from openstation.testing import STRONG, DeviceProcess, Web

INFO = {"api": "SYNO.API.Info", "version": "1", "method": "query", "query": "all"}
LOGIN = {"api": "SYNO.API.Auth", "version": "6", "method": "login", "account": "alice",
         "passwd": STRONG, "format": "sid"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def probe(session: aiohttp.ClientSession, url: str, until: float) -> list[float]:
    """SYNO.API.Info latencies (seconds), one request at a time until `until`."""
    latencies = []
    while time.perf_counter() < until:
        start = time.perf_counter()
        async with session.get(url, params=INFO) as response:
            assert (await response.json())["success"]
        latencies.append(time.perf_counter() - start)
        await asyncio.sleep(0.005)
    return latencies


async def storm(session: aiohttp.ClientSession, url: str, until: float) -> int:
    signed_in = 0
    while time.perf_counter() < until:
        async with session.post(url, data=LOGIN) as response:
            body = await response.json()
            assert body["success"], body
            signed_in += 1
    return signed_in


async def measure(device: DeviceProcess, seconds: float, clients: int) -> None:
    query, auth = f"{device.url}/webapi/query.cgi", f"{device.url}/webapi/auth.cgi"
    connector = aiohttp.TCPConnector(limit=clients + 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        idle = await probe(session, query, time.perf_counter() + seconds)
        until = time.perf_counter() + seconds
        started = time.perf_counter()
        prober = asyncio.ensure_future(probe(session, query, until))
        counts = await asyncio.gather(*(storm(session, auth, until) for _ in range(clients)))
        busy = await prober
        elapsed = time.perf_counter() - started
    logins = sum(counts)
    for label, values in (("idle device", idle), (f"{clients} clients signing in", busy)):
        print(f"SYNO.API.Info, {label:<24} median {statistics.median(values) * 1000:6.2f} ms"
              f"  p99 {percentile(values, 0.99) * 1000:6.2f} ms  ({len(values)} requests)")
    print(f"sign-ins (correct password)          {logins / elapsed:6.1f} per second "
          f"({logins} in {elapsed:.1f} s)")
    print("targets: p99 <= 20 ms during the storm; >= 85 sign-ins per second")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        device = DeviceProcess(Path(tmp) / "data").start()
        try:
            assert device.install().returncode == 0
            # The storm comes from one address: put it on Auto Block's allow list, or the
            # limit on successful sign-ins per source (120 a minute) would rightly stop it.
            Web(device.url).login().ok("SYNO.Core.Security.AutoBlock.Rules", "set",
                                       type="allow", ip="127.0.0.0/8")
            asyncio.run(measure(device, seconds, clients))
        finally:
            device.stop()


if __name__ == "__main__":
    main()
