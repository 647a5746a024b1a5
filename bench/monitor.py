"""What Resource Monitor's live stream costs a device (issue 20's targets: at most 1 % of a
core per open page, and 50 open pages leave SYNO.API.Info's p99 under 20 ms).

The device's CPU time is read from /proc over WINDOW seconds with no stream open (its
baseline: the sampler alone), then with STREAMS pages reading `/monitor/live`; the
difference per stream is the stream's cost. SYNO.API.Info query=all is timed by one client
in both windows, side by side.

    python bench/monitor.py [WINDOW] [STREAMS]      (default 20 50)
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

from openstation.testing import STRONG, DeviceProcess, Web


async def window(port: int, sid: str, seconds: float, streams: int,
                 process: psutil.Process) -> tuple[float, list[float], int]:
    """(CPU seconds the device used, API.Info latencies in ms, samples the streams got)."""
    got = 0
    stop = asyncio.Event()

    async def stream(session: aiohttp.ClientSession) -> None:
        nonlocal got
        async with session.get(f"http://127.0.0.1:{port}/monitor/live",
                               headers={"Cookie": f"id={sid}"}) as response:
            assert response.status == 200
            async for line in response.content:
                if line.startswith(b"data: "):
                    got += 1
                if stop.is_set():
                    return

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session:
        readers = [asyncio.create_task(stream(session)) for _ in range(streams)]
        await asyncio.sleep(2)  # every stream open before the window starts
        got = 0
        before = sum(process.cpu_times()[:2])
        latencies: list[float] = []
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            started = time.perf_counter()
            async with session.get(f"http://127.0.0.1:{port}/webapi/query.cgi", params={
                    "api": "SYNO.API.Info", "version": "1", "method": "query",
                    "query": "all"}) as response:
                assert (await response.json())["success"]
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)
        used = sum(process.cpu_times()[:2]) - before
        stop.set()
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    return used, latencies, got


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def main(seconds: float, streams: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        device = DeviceProcess(Path(scratch) / "data").start()
        try:
            assert device.install("nas1", "alice", STRONG).returncode == 0
            sid = Web(device.url).login().sid
            assert sid is not None
            process = psutil.Process(device.runtime["pid"])
            port = device.runtime["ports"]["http"]
            idle, idle_ms, _ = asyncio.run(window(port, sid, seconds, 0, process))
            busy, busy_ms, got = asyncio.run(window(port, sid, seconds, streams, process))
        finally:
            device.kill()
    per_stream = (busy - idle) / seconds / streams * 100
    print(f"{seconds:.0f} s windows; the device's CPU, and SYNO.API.Info query=all from one "
          "client every 50 ms")
    print(f"  no stream:     {idle / seconds * 100:5.2f} % of a core   API.Info median "
          f"{statistics.median(idle_ms):5.1f} ms, p99 {p99(idle_ms):5.1f} ms")
    print(f"  {streams} streams:    {busy / seconds * 100:5.2f} % of a core   API.Info median "
          f"{statistics.median(busy_ms):5.1f} ms, p99 {p99(busy_ms):5.1f} ms "
          f"({got} samples reached them, {got / seconds / streams:.2f}/s each)")
    print(f"  per stream:    {per_stream:5.3f} % of a core")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 20.0,
         int(sys.argv[2]) if len(sys.argv) > 2 else 50)
