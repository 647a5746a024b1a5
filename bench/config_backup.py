"""Configuration Backup figures for a device holding 10,000 users and 1,000 shares:
backup time and file size (plain and passphrase-encrypted), and restore time.

    python bench/config_backup.py [RUNS]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from openstation.device import Device, RunOptions
from reset import install, populate  # bench/reset.py


async def measure(root: Path, runs: int) -> None:
    device = Device(RunOptions(data_dir=root, http_port=0, https_port=0, findhost_port=0,
                               ssdp_port=0, mdns=False, file_services=False))
    await device.start()
    try:
        await install(device, "bench")
        populate(device)
        for label, passphrase in (("plain", None), ("encrypted", "bench passphrase")):
            times, size = [], 0
            for _ in range(runs):
                start = time.perf_counter()
                body = await device.backups.backup(passphrase)
                times.append(time.perf_counter() - start)
                size = len(body)
            print(f"backup {label:<9} {statistics.median(times) * 1000:7.1f} ms  "
                  f"{size / 2**20:5.2f} MiB")
        body = await device.backups.backup(None)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            await device.backups.restore(body, None, None, "bench")
            times.append(time.perf_counter() - start)
        print(f"restore (all sections) {statistics.median(times) * 1000:7.1f} ms")
    finally:
        await device.stop()


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    print(f"10,000 users, 1,000 shares, 1,000 firewall rules; medians of {runs} runs")
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        asyncio.run(measure(Path(tmp) / "data", runs))


if __name__ == "__main__":
    main()
