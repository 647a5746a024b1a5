"""Boot time (process start → first SYNO.API.Info answer) and resident memory after boot.

Prints medians over RUNS runs, for a first boot (empty data directory: identity, database
and certificate are made) and a warm boot (existing data directory), with the machine's
fsync latency beside them, since a first boot's durable writes wait on it.

    python bench/boot.py [RUNS]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

QUERY = "/webapi/query.cgi?api=SYNO.API.Info&version=1&method=query"


def boot_once(data_dir: Path) -> tuple[float, float]:
    """Seconds to the first API answer, and the process's RSS in MB at that moment."""
    runtime = data_dir / "system" / "running.json"
    if runtime.exists():
        runtime.unlink()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "openstation", "run", "--data-dir", str(data_dir),
         "--http-port", "0", "--https-port", "0", "--findhost-port", "0", "--ssdp-port", "0",
         "--no-mdns"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"device exited: {proc.stderr.read() if proc.stderr else ''}")
            try:
                port = json.loads(runtime.read_text())["ports"]["http"]
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{QUERY}", timeout=2) as r:
                    if json.loads(r.read())["success"]:
                        break
            except (OSError, ValueError, KeyError):
                time.sleep(0.002)
        elapsed = time.perf_counter() - start
        rss = psutil.Process(proc.pid).memory_info().rss / 2**20
        return elapsed, rss
    finally:
        proc.terminate()
        proc.wait(10)


def fsync_latency_ms(directory: Path, samples: int = 50) -> float:
    """Median time of a 4 KiB write + fsync in `directory`."""
    path = directory / "fsync-probe"
    times = []
    with open(path, "wb") as handle:
        for _ in range(samples):
            handle.write(os.urandom(4096))
            start = time.perf_counter()
            handle.flush()
            os.fsync(handle.fileno())
            times.append(time.perf_counter() - start)
    path.unlink()
    return statistics.median(times) * 1000


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        root = Path(tmp)
        first = [boot_once(root / f"first-{n}") for n in range(runs)]
        warm_dir = root / "warm"
        boot_once(warm_dir)
        warm = [boot_once(warm_dir) for _ in range(runs)]
        fsync = fsync_latency_ms(root)
    for label, results in (("first boot", first), ("warm boot", warm)):
        seconds = statistics.median(r[0] for r in results)
        rss = statistics.median(r[1] for r in results)
        print(f"{label:<11} median {seconds * 1000:7.1f} ms to first API answer, "
              f"RSS {rss:5.1f} MB  ({runs} runs)")
    print(f"fsync       median {fsync:7.2f} ms (4 KiB write + fsync, same disk)")
    print("targets     boot <= 500 ms, RSS <= 60 MB")


if __name__ == "__main__":
    main()
