"""Boot time and resident memory after boot.

Prints medians over RUNS runs, for a first boot (empty data directory: identity, database
and certificate are made) and a warm boot (existing data directory): process start → first
SYNO.API.Info answer (mDNS off), and process start → the lasting status (Not installed,
Ready, Configuration lost) with mDNS on, as `openstation run` starts by default (on
loopback). The machine's fsync latency is printed beside them, since a first boot's durable
writes wait on it.

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

from openstation.errors import OpenStationError
from openstation.panel import control_client

QUERY = "/webapi/query.cgi?api=SYNO.API.Info&version=1&method=query"


LASTING = {"Not installed", "Ready", "Configuration lost"}


def api_answers(data_dir: Path) -> bool:
    port = json.loads((data_dir / "system" / "running.json").read_text())["ports"]["http"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{QUERY}", timeout=2) as r:
        return bool(json.loads(r.read())["success"])


def lasting_status(data_dir: Path) -> bool:
    facts = control_client.call(data_dir / "system" / "panel.sock", "GET", "/status",
                                timeout=2)
    return facts.get("status") in LASTING


def boot_once(data_dir: Path, mdns: bool = False) -> tuple[float, float]:
    """Seconds to the first API answer (mDNS off) or to the lasting status (mDNS on), and
    the process's RSS in MB at that moment."""
    runtime = data_dir / "system" / "running.json"
    if runtime.exists():
        runtime.unlink()
    reached = lasting_status if mdns else api_answers
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "openstation", "run", "--data-dir", str(data_dir),
         "--http-port", "0", "--https-port", "0", "--findhost-port", "0", "--ssdp-port", "0",
         "--cluster-port", "0", "--smb-port", "0", "--sftp-port", "0",
         *([] if mdns else ["--no-mdns"])],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"device exited: {proc.stderr.read() if proc.stderr else ''}")
            try:
                if reached(data_dir):
                    break
            except (OSError, ValueError, KeyError, OpenStationError):
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
        first_mdns = [boot_once(root / f"mdns-{n}", mdns=True) for n in range(runs)]
        warm_mdns = [boot_once(warm_dir, mdns=True) for _ in range(runs)]
        fsync = fsync_latency_ms(root)
    for label, what, results in (
            ("first boot", "to first API answer, mDNS off", first),
            ("warm boot", "to first API answer, mDNS off", warm),
            ("first boot", "to lasting status, mDNS on ", first_mdns),
            ("warm boot", "to lasting status, mDNS on ", warm_mdns)):
        seconds = statistics.median(r[0] for r in results)
        rss = statistics.median(r[1] for r in results)
        print(f"{label:<11} median {seconds * 1000:7.1f} ms {what}, "
              f"RSS {rss:5.1f} MB  ({runs} runs)")
    print(f"fsync       median {fsync:7.2f} ms (4 KiB write + fsync, same disk)")
    print("targets     boot <= 500 ms (lasting status, mDNS on), RSS <= 60 MB")


if __name__ == "__main__":
    main()
