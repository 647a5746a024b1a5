"""Latency of the management read APIs under 16 concurrent clients (issue 21's target),
beside a bare aiohttp handler answering a small JSON in the same run, and the time of
SYNO.API.Info query=all against the number of APIs it lists.

Each API is called by CONCURRENCY loopback clients for SECONDS as an administrator; every
answer must succeed. Printed: requests per second, median and p99 latency.

    python bench/management.py [SECONDS] [CONCURRENCY]
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import aiohttp

from openstation.testing import STRONG, DeviceProcess

READS = [
    ("SYNO.API.Info", "query", {"query": "all"}),
    ("SYNO.Core.System.Utilization", "get", {}),
    ("SYNO.Core.System.SystemHealth", "get", {}),
    ("SYNO.Core.Network.Interface", "list", {}),
    ("SYNO.Core.Storage.Volume", "list", {}),
    ("SYNO.Storage.CGI.Smart", "list", {}),
    ("SYNO.Core.Package", "list", {}),
    ("SYNO.Core.Service", "get", {}),
    ("SYNO.Core.CurrentConnection", "list", {}),
    ("SYNO.Core.Certificate.CRT", "list", {}),
    ("SYNO.Core.SecurityScan.Status", "system_get", {}),
    ("SYNO.Core.Notification.Mail.Conf", "get", {}),
    ("SYNO.Core.Upgrade.Server", "check", {}),
    ("SYNO.Core.TaskScheduler", "list", {}),
    ("SYNO.Core.SyslogClient.Log", "list", {"limit": "50"}),
    ("SYNO.Core.Share.Permission", "list", {"name": "photos", "user_group_type":
                                             "local_user"}),
]
BARE = textwrap.dedent("""
    import sys
    from aiohttp import web
    async def handle(request):
        await request.post()
        return web.json_response({"success": True, "data": {"answer": 42}})
    app = web.Application()
    app.router.add_post("/", handle)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None,
                access_log=None)
""")


async def hammer(url: str, data: dict[str, str], seconds: float, concurrency: int
                 ) -> tuple[float, list[float]]:
    """(requests per second, latencies) from `concurrency` clients; every answer succeeds."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            async with session.post(url, data=data) as response:
                body = await response.json()
            latencies.append(time.perf_counter() - start)
            assert body["success"], (data.get("api"), body)

    began = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:
        await asyncio.gather(*(worker(s) for _ in range(concurrency)))
    return len(latencies) / (time.perf_counter() - began), latencies


def p99(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.99) - 1)]


def line(name: str, rate: float, latencies: list[float]) -> str:
    return (f"{name:<46} {rate:7.0f} req/s  median {statistics.median(latencies) * 1000:6.1f} "
            f"ms  p99 {p99(latencies) * 1000:6.1f} ms")


async def measure(device: DeviceProcess, bare_url: str, seconds: float, concurrency: int
                  ) -> None:
    url = f"{device.url}/webapi/entry.cgi"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data={"api": "SYNO.API.Auth", "version": "6",
                                           "method": "login", "account": "alice",
                                           "passwd": STRONG}) as response:
            sid = (await response.json())["data"]["sid"]
        async with session.post(url, data={"api": "SYNO.Core.Share", "version": "1",
                                           "method": "create", "name": "photos",
                                           "_sid": sid}) as response:
            assert (await response.json())["success"]
        async with session.post(url, data={"api": "SYNO.API.Info", "version": "1",
                                           "method": "query", "query": "all"}) as response:
            apis = len((await response.json())["data"])
    rate, latencies = await hammer(bare_url, {"x": "1"}, seconds, concurrency)
    print(f"{concurrency} concurrent loopback clients, {seconds:.0f} s each; "
          f"SYNO.API.Info lists {apis} APIs")
    print(line("baseline: a bare aiohttp handler (JSON)", rate, latencies))
    every: list[float] = []
    for api, method, params in READS:
        data = {"api": api, "version": "1", "method": method, "_sid": sid, **params}
        rate, latencies = await hammer(url, data, seconds, concurrency)
        every += latencies
        print(line(f"{api} {method}", rate, latencies))
    print(f"{'all the reads above':<46} {'':>13}  median "
          f"{statistics.median(every) * 1000:6.1f} ms  p99 {p99(every) * 1000:6.1f} ms")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    port = free_port()
    bare = subprocess.Popen([sys.executable, "-c", BARE, str(port)])
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        device = DeviceProcess(Path(tmp) / "data").start()
        try:
            assert device.install("bench", "alice", STRONG).returncode == 0
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # the bare server is up
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.05)
            asyncio.run(measure(device, f"http://127.0.0.1:{port}/", seconds, concurrency))
        finally:
            device.stop()
            bare.terminate()
            bare.wait()


if __name__ == "__main__":
    main()
