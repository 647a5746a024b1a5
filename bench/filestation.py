"""File Station throughput and memory.

Upload and download through the Web API of a real device process, for a plain and an
encrypted shared folder, as a ratio to a plain file copy on the same disk; and the device's
peak resident memory while a large file is uploaded (it must stay flat: streamed).

    python bench/filestation.py [MEGABYTES]      (default 256; the issue asks for 1024)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import psutil

from openstation.testing import STRONG, DeviceProcess

MB = 1 << 20


async def measure(device: DeviceProcess, share: str, megabytes: int) -> tuple[float, float,
                                                                               float]:
    """(upload MB/s, download MB/s, peak device RSS MB during the upload)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3600)) as http:
        async with http.post(f"{device.url}/webapi/auth.cgi", data={
                "api": "SYNO.API.Auth", "version": "6", "method": "login",
                "account": "alice", "passwd": STRONG}) as r:
            sid = (await r.json())["data"]["sid"]
        block = os.urandom(MB)

        async def body() -> AsyncIterator[bytes]:
            for _ in range(megabytes):
                yield block

        peak = [0.0]
        stop = threading.Event()
        process = psutil.Process(device.runtime["pid"])

        def watch() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], process.memory_info().rss / MB)
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        form = aiohttp.FormData()
        form.add_field("path", f"/{share}")
        form.add_field("file", body(), filename="big.bin",
                       content_type="application/octet-stream")
        start = time.perf_counter()
        async with http.post(f"{device.url}/webapi/entry.cgi?api=SYNO.FileStation.Upload"
                             f"&version=2&method=upload&_sid={sid}", data=form) as r:
            assert (await r.json())["success"]
        upload = megabytes / (time.perf_counter() - start)
        stop.set()
        watcher.join()
        start = time.perf_counter()
        received = 0
        async with http.get(f"{device.url}/webapi/entry.cgi?api=SYNO.FileStation.Download"
                            f"&version=2&method=download&mode=download&_sid={sid}"
                            f"&path=/{share}/big.bin") as r:
            async for chunk in r.content.iter_chunked(MB):
                received += len(chunk)
        assert received == megabytes * MB
        download = megabytes / (time.perf_counter() - start)
        return upload, download, peak[0]


def copy_speed(folder: Path, megabytes: int) -> float:
    source, target = folder / "copy-source.bin", folder / "copy-target.bin"
    with open(source, "wb") as handle:
        for _ in range(megabytes):
            handle.write(os.urandom(MB))
    start = time.perf_counter()
    shutil.copyfile(source, target)
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())
    speed = megabytes / (time.perf_counter() - start)
    source.unlink()
    target.unlink()
    return speed


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        data = Path(tmp) / "data"
        device = DeviceProcess(data).start()
        try:
            assert device.install("bench", "alice", STRONG).returncode == 0
            from openstation.testing import openstation

            openstation("share", "create", "plain", "--data-dir", str(data), check=True)
            openstation("share", "create", "secret", "--encrypted", "--passphrase",
                        "bench passphrase", "--data-dir", str(data), check=True)
            copy = copy_speed(Path(tmp), megabytes)
            print(f"{megabytes} MB files; plain file copy on the same disk: {copy:.0f} MB/s")
            for share in ("plain", "secret"):
                up, down, peak = asyncio.run(measure(device, share, megabytes))
                print(f"{share:<7} upload {up:6.0f} MB/s ({up / copy:.2f} x copy)  "
                      f"download {down:6.0f} MB/s ({down / copy:.2f} x copy)  "
                      f"peak device RSS during upload {peak:.0f} MB")
        finally:
            device.stop()


if __name__ == "__main__":
    main()
