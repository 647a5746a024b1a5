"""Hyper Backup beside plain restic on the same data, in the same run.

A share of MEGABYTES in 10,000 files (9,990 small ones, 10 large ones) is backed up by a
device's Hyper Backup task (started over the Web API, timed until the task is idle) and
by `restic backup` run by hand into a repository of its own, RUNS times each into fresh
repositories; then one small file is changed and both run again, RUNS times; then both
restore everything, RUNS times. Medians.

    python bench/backup.py [MEGABYTES] [RUNS]      (default 1024 3; needs restic)
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openstation.datadir import DataDir
from openstation.panel import control_client
from openstation.testing import DeviceProcess, Web

FILES, LARGE = 10_000, 10
PASSWORD = "bench password"


def fill(folder: Path, megabytes: int) -> None:
    small = 16 * 1024
    large = max((megabytes * (1 << 20) - (FILES - LARGE) * small) // LARGE, 1)
    for n in range(FILES - LARGE):
        sub = folder / f"d{n // 500}"
        sub.mkdir(exist_ok=True)
        (sub / f"f{n}.bin").write_bytes(os.urandom(small))
    for n in range(LARGE):
        (folder / f"large{n}.bin").write_bytes(os.urandom(large))


def ours(admin: Web, task_id: str) -> float:
    started = time.perf_counter()
    admin.ok("SYNO.Backup.Task", "backup", task_id=task_id)
    while admin.ok("SYNO.Backup.Task", "status", task_id=task_id)["status"] != "none":
        time.sleep(0.05)
    took = time.perf_counter() - started
    result = admin.ok("SYNO.Backup.Task", "status", task_id=task_id)["last_bkp_result"]
    assert result == "done", result
    return took


def plain(*args: str, cwd: Path, repo: Path) -> float:
    env = {**os.environ, "RESTIC_PASSWORD": PASSWORD, "RESTIC_REPOSITORY": str(repo)}
    started = time.perf_counter()
    subprocess.run(["restic", *args, "--quiet"], cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory(dir="/var/tmp") as scratch:
        root = Path(scratch)
        device = DeviceProcess(root / "data").start()
        try:
            device.install()
            admin = Web(device.url, timeout=60).login()
            admin.ok("SYNO.Core.Share", "create", name="bench")
            admin.ok("SYNO.Core.Share", "create", name="restored")
            volume = root / "data" / "volume1"
            fill(volume / "bench", megabytes)
            first: dict[str, list[float]] = {"plain restic": [], "Hyper Backup": []}
            for n in range(runs):  # each first backup into a repository of its own
                repo = root / f"plain{n}.repo"
                plain("init", cwd=volume, repo=repo)
                first["plain restic"].append(plain("backup", "bench", cwd=volume, repo=repo))
                task_id = str(admin.ok("SYNO.Backup.Task", "create", name=f"bench{n}",
                                       password=PASSWORD, destination=str(root / "usb"),
                                       sources=["bench"])["task_id"])
                first["Hyper Backup"].append(ours(admin, task_id))
            again: dict[str, list[float]] = {"plain restic": [], "Hyper Backup": []}
            for n in range(runs):
                (volume / "bench" / "d3" / "f1500.bin").write_bytes(os.urandom(16 * 1024))
                again["plain restic"].append(plain("backup", "bench", cwd=volume, repo=repo))
                (volume / "bench" / "d3" / "f1501.bin").write_bytes(os.urandom(16 * 1024 + n))
                again["Hyper Backup"].append(ours(admin, task_id))

            restore: dict[str, list[float]] = {"plain restic": [], "Hyper Backup": []}
            for n in range(runs):
                target = root / f"plain-restore{n}"
                restore["plain restic"].append(plain("restore", "latest", "--target",
                                                     str(target), cwd=volume, repo=repo))
                shutil.rmtree(target)
                into = f"restored{n}"
                admin.ok("SYNO.Core.Share", "create", name=into)
                started = time.perf_counter()
                answer = control_client.call(
                    DataDir(device.data_dir).control_socket, "POST", "/op",
                    {"op": "hyperbackup.restore",
                     "args": {"task": f"bench{runs - 1}", "target": into}}, timeout=3600)
                restore["Hyper Backup"].append(time.perf_counter() - started)
                assert "result" in answer, answer
                shutil.rmtree(volume / into / "bench")
        finally:
            device.stop()

    print(f"{megabytes} MiB in {FILES} files; medians of {runs} (first backups into fresh "
          "repositories; second runs: 1 changed file; restores of everything)")
    print(f"{'':14} {'first backup':>13} {'second run':>11} {'restore':>9}")
    median = {phase: {name: statistics.median(values[name]) for name in values}
              for phase, values in (("first", first), ("again", again),
                                    ("restore", restore))}
    for name in ("plain restic", "Hyper Backup"):
        print(f"{name:14} {median['first'][name]:12.2f}s {median['again'][name]:10.2f}s "
              f"{median['restore'][name]:8.2f}s")
    ratio = {phase: median[phase]["Hyper Backup"] / median[phase]["plain restic"] - 1
             for phase in ("first", "restore")}
    second = median["again"]["Hyper Backup"] - median["again"]["plain restic"]
    print(f"overhead: first {ratio['first']:+.1%}, restore {ratio['restore']:+.1%}, "
          f"second run {second:+.2f}s on top of restic's own time")


if __name__ == "__main__":
    main()
