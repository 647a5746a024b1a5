"""Web API throughput and login latency on a real device process over loopback.

- requests per second for SYNO.API.Info query (no session);
- requests per second for an authenticated SYNO.Core.User list (one page of 50) on a
  device holding 10,000 users;
- median login latency (argon2id verification included).

    python bench/webapi.py [SECONDS] [CONCURRENCY]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from openstation.accounts.passwords import hash_password_now as hash_password
from openstation.config.sections import Group, User
from openstation.config.store import ConfigStore
from openstation.hardware import load_or_create
from openstation.testing import STRONG, DeviceProcess

USERS = 10_000


def add_users(data: Path, count: int) -> None:
    """Insert `count` users directly (one shared hash: this measures listing, not hashing)."""
    store = ConfigStore.open(data / "system" / "config.db",
                             load_or_create(data / "hardware.json", None))
    shared = hash_password("B3nch!password")
    with store.transaction("bench") as tx:
        group = tx.record(Group, "users")
        assert group is not None
        for n in range(count):
            name = f"user{n:05d}"
            tx.put_record(User(name=name, uid=2000 + n, password_hash=shared))
            group.members.append(name)
        tx.put_record(group)
    store.close()


async def hammer(url: str, data: dict[str, str], seconds: float, concurrency: int) -> float:
    """Requests per second that all succeed, from `concurrency` loopback clients."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            async with session.post(url, data=data) as response:
                body = await response.json()
                assert body["success"], body
                done += 1

    start = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:
        await asyncio.gather(*(worker(s) for _ in range(concurrency)))
    return done / (time.perf_counter() - start)


async def measure(device: DeviceProcess, seconds: float, concurrency: int) -> None:
    url = f"{device.url}/webapi/entry.cgi"
    info = {"api": "SYNO.API.Info", "version": "1", "method": "query"}
    login = {"api": "SYNO.API.Auth", "version": "6", "method": "login", "account": "alice",
             "passwd": STRONG}
    latencies = []
    async with aiohttp.ClientSession() as session:
        for _ in range(20):
            start = time.perf_counter()
            async with session.post(url, data=login) as response:
                body = await response.json()
            latencies.append(time.perf_counter() - start)
        sid = body["data"]["sid"]
    listing = {"api": "SYNO.Core.User", "version": "1", "method": "list", "_sid": sid,
               "offset": "5000", "limit": "50"}
    info_rps = await hammer(url, info, seconds, concurrency)
    list_rps = await hammer(url, listing, seconds, concurrency)
    print(f"SYNO.API.Info query            {info_rps:8.0f} req/s  "
          f"({concurrency} concurrent clients, {seconds:.0f} s)")
    print(f"SYNO.Core.User list (10k users) {list_rps:7.0f} req/s  (page of 50)")
    print(f"login latency                  {statistics.median(latencies) * 1000:8.1f} ms median "
          "of 20 (argon2id)")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        data = Path(tmp) / "data"
        device = DeviceProcess(data).start()
        assert device.install("bench", "alice", STRONG).returncode == 0
        device.stop()
        add_users(data, USERS)
        device = DeviceProcess(data).start()
        try:
            asyncio.run(measure(device, seconds, concurrency))
        finally:
            device.stop()


if __name__ == "__main__":
    main()
