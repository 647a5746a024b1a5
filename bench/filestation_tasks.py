"""File Station's background work on a real device process, each figure beside a baseline
measured in the same run on the same disk:

- a CopyMove task of one large file, against `cp` (medians of three);
- a search over many files, time to its first page and to its end, against `find`;
- a folder downloaded as a zip stream: MB/s and the device's peak RSS, against `cp -r`;
- thumbnails of many images through Thumb.get, against Pillow alone in one process.

    python bench/filestation_tasks.py [--megabytes 1024] [--files 100000] [--images 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from PIL import Image

from openstation.panel.control import call as panel_call
from openstation.testing import STRONG, DeviceProcess

MB = 1 << 20


class Client:
    def __init__(self, device: DeviceProcess, http: aiohttp.ClientSession) -> None:
        self.device, self.http, self.sid = device, http, ""

    async def call(self, api: str, method: str, version: int = 2, **params: Any) -> Any:
        fields = {"api": f"SYNO.FileStation.{api}" if "." not in api else api,
                  "method": method, "version": str(version), "_sid": self.sid,
                  **{k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}}
        async with self.http.post(f"{self.device.url}/webapi/entry.cgi", data=fields) as r:
            answer = await r.json()
        assert answer["success"], answer
        return answer.get("data", {})

    async def task(self, api: str, **params: Any) -> None:
        started = await self.call(api, "start", **params)
        while not (await self.call(api, "status", taskid=started["taskid"]))["finished"]:
            await asyncio.sleep(0.01)


def timed(action: Any) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


async def atimed(action: Any) -> float:
    start = time.perf_counter()
    await action
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


async def run(args: argparse.Namespace, work: Path) -> None:
    device = DeviceProcess(work / "data").start()
    try:
        assert device.install("nas1", "alice", STRONG).returncode == 0
        await panel_call(device.data_dir / "system" / "panel.sock", "POST", "/op",
                         {"op": "share.create", "args": {"name": "bench"}})
        share = device.data_dir / "volume1" / "bench"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3600)) as http:
            client = Client(device, http)
            client.sid = (await client.call("SYNO.API.Auth", "login", 6, account="alice",
                                            passwd=STRONG, format="sid"))["sid"]
            await copy_bench(client, share, args.megabytes)
            await search_bench(client, share, args.files)
            await zip_bench(client, device, share, args.megabytes)
            await thumb_bench(client, share, args.images)
    finally:
        device.stop()


async def copy_bench(client: Client, share: Path, megabytes: int) -> None:
    source = share / "big.bin"
    with open(source, "wb") as handle:
        for _ in range(megabytes):
            handle.write(os.urandom(MB))
    os.sync()
    (share / "to").mkdir()
    ours, cps = [], []
    for _ in range(3):
        cps.append(timed(lambda: subprocess.run(["cp", str(source), str(share / "cp.bin")],
                                                check=True)))
        (share / "cp.bin").unlink()
        ours.append(await atimed(client.task("CopyMove", path="/bench/big.bin",
                                             dest_folder_path="/bench/to", overwrite="true")))
    rate = megabytes / median(ours)
    base = megabytes / median(cps)
    print(f"copy {megabytes} MiB: CopyMove {rate:.0f} MB/s, cp {base:.0f} MB/s, "
          f"ratio {rate / base:.2f}")
    shutil.rmtree(share / "to")


async def search_bench(client: Client, share: Path, count: int) -> None:
    tree = share / "tree"
    for n in range(count):
        folder = tree / f"d{n // 1000:03d}"
        if n % 1000 == 0:
            folder.mkdir(parents=True)
        (folder / (f"match-{n}.txt" if n % 997 == 0 else f"file-{n}.dat")).write_bytes(b"")
    firsts, ends, finds = [], [], []
    for _ in range(3):
        start = time.perf_counter()
        started = await client.call("Search", "start", folder_path="/bench/tree",
                                    pattern="match")
        first = None
        while True:
            page = await client.call("Search", "list", taskid=started["taskid"], limit="50")
            if first is None and page["files"]:
                first = time.perf_counter() - start
            if page["finished"]:
                ends.append(time.perf_counter() - start)
                break
            await asyncio.sleep(0.01)
        firsts.append(first if first is not None else ends[-1])
        await client.call("Search", "clean", taskid=started["taskid"])
        finds.append(timed(lambda: subprocess.run(
            ["find", str(tree), "-iname", "*match*"], check=True, capture_output=True)))
    print(f"search {count} files: first page {median(firsts):.2f} s, whole search "
          f"{median(ends):.2f} s; find {median(finds):.2f} s")


async def zip_bench(client: Client, device: DeviceProcess, share: Path,
                    megabytes: int) -> None:
    folder = share / "album"
    folder.mkdir()
    per = 64
    for n in range(megabytes // per):
        (folder / f"{n}.bin").write_bytes(os.urandom(per * MB))
    (share / "big.bin").unlink()
    os.sync()
    process = psutil.Process(device.runtime["pid"])
    rates, peaks, cps = [], [], []
    for _ in range(3):
        peak = [0.0]
        stop = threading.Event()

        def watch(stop: threading.Event = stop, peak: list[float] = peak) -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], process.memory_info().rss / MB)
                time.sleep(0.02)

        watcher = threading.Thread(target=watch)
        watcher.start()
        start = time.perf_counter()
        got = 0
        async with client.http.get(f"{device.url}/webapi/entry.cgi", params={
                "api": "SYNO.FileStation.Download", "version": "2", "method": "download",
                "mode": "download", "path": "/bench/album", "_sid": client.sid}) as r:
            async for block in r.content.iter_chunked(MB):
                got += len(block)
        rates.append(got / MB / (time.perf_counter() - start))
        stop.set()
        watcher.join()
        peaks.append(peak[0])
        target = share.parent / "cp-album"
        cps.append(megabytes / timed(lambda target=target: subprocess.run(
            ["cp", "-r", str(folder), str(target)], check=True)))
        shutil.rmtree(target)
    print(f"zip download of a {megabytes} MiB folder: {median(rates):.0f} MB/s, device "
          f"peak RSS {max(peaks):.0f} MB; cp -r {median(cps):.0f} MB/s")


async def thumb_bench(client: Client, share: Path, count: int) -> None:
    pictures = share / "pictures"
    pictures.mkdir()
    for n in range(count):
        image = Image.new("RGB", (1600, 1200), ((n * 7) % 255, (n * 13) % 255, 90))
        image.save(pictures / f"{n}.jpg", "JPEG", quality=85)
    semaphore = asyncio.Semaphore(4)

    async def one(n: int) -> None:
        async with semaphore, client.http.get(f"{client.device.url}/webapi/entry.cgi", params={
                "api": "SYNO.FileStation.Thumb", "version": "2", "method": "get",
                "path": f"/bench/pictures/{n}.jpg", "size": "small",
                "_sid": client.sid}) as r:
            assert r.status == 200
            await r.read()

    ours = await atimed(asyncio.gather(*(one(n) for n in range(count))))

    def pillow() -> None:
        for n in range(count):
            with Image.open(pictures / f"{n}.jpg") as image:
                image.draft("RGB", (120, 120))
                image.thumbnail((120, 120))
                image.convert("RGB").save(io.BytesIO(), "JPEG", quality=85)

    base = timed(pillow)
    print(f"thumbnails of {count} 1600x1200 JPEGs: Thumb.get {count / ours:.0f}/s "
          f"({ours:.2f} s); Pillow alone {count / base:.0f}/s ({base:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=1024)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--images", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR", "/var/tmp")) as work:
        asyncio.run(run(args, Path(work)))


if __name__ == "__main__":
    main()
