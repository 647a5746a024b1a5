"""Hyper Backup's decisions, with no I/O: where a destination's repository is, which
versions rotation keeps, when a schedule next fires, what a restic progress line means,
and where a restored file goes under a conflict policy. Time is always passed in."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from openstation.config.sections import BackupTask, Rotation

REPOSITORY_SUFFIX = ".hbk"  # DSM names a task's folder at its destination "<task>.hbk"
CONFIG_FOLDER = "@system-config"  # where a version keeps the configuration backup
CONFIG_FILE = "configuration.dss"
# A Hyper Backup Vault (restic's REST protocol), or a WebDAV server through restic's
# rclone backend.
REMOTE = re.compile(r"^(rest|webdav):https?://\S+$")
RCLONE_REMOTE = "target"  # the one remote a run's rclone is configured with


class Conflict(enum.StrEnum):
    """What a restore does where a file of the same name already exists."""

    OVERWRITE = "overwrite"
    SKIP = "skip"
    KEEP_BOTH = "keep_both"


def repository_of(destination: str, task_name: str) -> str:
    """The restic repository a destination names: a folder "<task>.hbk" inside a local
    folder or at the end of a remote's path, as DSM lays out its targets."""
    folder = task_name + REPOSITORY_SUFFIX
    if destination.startswith("rest:"):
        return destination.rstrip("/") + "/" + quote(folder, safe="")
    if destination.startswith("webdav:"):
        return destination.rstrip("/") + "/" + folder
    return str(PurePosixPath(destination) / folder)


def rclone_location(repository: str) -> tuple[str, str]:
    """A webdav: repository as restic's rclone backend takes it: ("rclone:target:FOLDER",
    the WebDAV URL its remote is configured with)."""
    url, _, folder = repository[len("webdav:"):].rpartition("/")
    return f"rclone:{RCLONE_REMOTE}:{folder}", url


def is_remote(destination: str) -> bool:
    return bool(REMOTE.match(destination))


def forget_args(task: BackupTask) -> list[str]:
    """restic `forget` options for the task's rotation ([] keeps every version).

    Smart Recycle as DSM describes it: every hourly version of the last 24 hours, every
    daily one of the last month, then weekly ones, up to the version limit."""
    if task.rotation is Rotation.NEWEST:
        return ["--keep-last", str(task.keep_versions)]
    if task.rotation is Rotation.SMART:
        return ["--keep-within-hourly", "1d", "--keep-within-daily", "1m",
                "--keep-weekly", str(task.keep_versions)]
    return []


def next_run(task: BackupTask, now: float, wall: tuple[int, int, int, int]) -> float | None:
    """When the task's backup schedule next fires after `now` (None: no schedule)."""
    if not task.schedule_enabled:
        return None
    return next_time(task.schedule_days, task.schedule_hour, task.schedule_minute, now, wall)


def next_check(task: BackupTask, now: float, wall: tuple[int, int, int, int]
               ) -> float | None:
    """When the task's integrity check is next due after `now` (None: checks are manual)."""
    return next_time(task.check_days, task.check_hour, 0, now, wall)


def next_time(days: list[int], hour: int, minute: int, now: float,
              wall: tuple[int, int, int, int]) -> float | None:
    """The first of `days` at hour:minute after `now`, whose local wall time is `wall`
    (weekday 0 = Monday, hour, minute, second); None without days."""
    if not days:
        return None
    weekday_now, hour_now, minute_now, second = wall
    midnight = now - (hour_now * 3600 + minute_now * 60 + second)
    for ahead in range(8):
        at = midnight + ahead * 86400 + hour * 3600 + minute * 60
        if (weekday_now + ahead) % 7 in days and at > now:
            return at
    return None  # unreachable with a day in 0..6


@dataclass(frozen=True)
class Progress:
    """How far a running backup is, from restic's `--json` status lines."""

    percent: float = 0.0
    files_done: int = 0
    total_files: int = 0
    bytes_done: int = 0
    total_bytes: int = 0
    seconds_remaining: int | None = None
    current: str = ""

    @classmethod
    def from_status(cls, line: dict[str, Any]) -> Progress:
        def count(name: str) -> int:
            value = line.get(name)
            return value if isinstance(value, int) and value >= 0 else 0

        remaining = line.get("seconds_remaining")
        current = line.get("current_files")
        percent = line.get("percent_done")
        return cls(
            percent=round(float(percent) * 100, 1) if isinstance(percent, int | float) else 0.0,
            files_done=count("files_done"), total_files=count("total_files"),
            bytes_done=count("bytes_done"), total_bytes=count("total_bytes"),
            seconds_remaining=remaining if isinstance(remaining, int) else None,
            current=current[0] if isinstance(current, list) and current
            and isinstance(current[0], str) else "")

    def to_json(self) -> dict[str, Any]:
        return {"progress": self.percent, "processed_files": self.files_done,
                "total_files": self.total_files, "processed_size": self.bytes_done,
                "total_size": self.total_bytes, "eta_seconds": self.seconds_remaining,
                "current_file": self.current}


def restored_name(name: str, taken: set[str]) -> str:
    """A name beside `name` for "keep both": "report (1).txt", "report (2).txt", …"""
    stem, dot, suffix = name.rpartition(".")
    if not stem:  # no extension, or a dot file
        stem, dot, suffix = name, "", ""
    for n in range(1, 10_000):
        candidate = f"{stem} ({n}){dot}{suffix}"
        if candidate not in taken:
            return candidate
    raise ValueError(f"no free name beside {name}")
