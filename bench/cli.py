"""How long one CLI call takes, beside the interpreter's own start (the baseline).

Medians of RUNS calls of `openstation status --json` and `openstation panel status --json`
on a running device, and of `openstation status --json` on a stopped one.

    python bench/cli.py [RUNS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openstation.testing import DeviceProcess


def median_seconds(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    cli = [sys.executable, "-m", "openstation"]
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        data = Path(tmp) / "data"
        device = DeviceProcess(data).start()
        rows = [("python -c pass (baseline)", [sys.executable, "-c", "pass"])]
        where = ["--data-dir", str(data), "--json"]
        rows += [("status --json (running)", [*cli, "status", *where]),
                 ("panel status --json (running)", [*cli, "panel", "status", *where])]
        results = [(label, median_seconds(args, runs)) for label, args in rows]
        device.stop()
        results.append(("status --json (stopped)",
                        median_seconds([*cli, "status", *where], runs)))
    for label, seconds in results:
        print(f"{label:<32} median {seconds * 1000:6.1f} ms ({runs} runs)")
    print("target: status --json <= 150 ms")


if __name__ == "__main__":
    main()
