"""The reset journal: the durable record of a reset's intent, written before its first change.

It lives in the data directory's root — outside the system partition a Mode 2 reset wipes —
so a device that loses power at any instant of a reset finds it at boot and finishes it.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from openstation.errors import DataDirError
from openstation.files import fsync_dir, write_atomic

INTENT = "intent"  # decided; nothing changed yet (or a Mode 1 transaction in flight)
MODE1_DONE = "mode1-done"  # Mode 2: the Mode 1 part is committed
WIPED = "wiped"  # Mode 2: the system partition is gone; a fresh one is being set up


@dataclass
class Journal:
    """One reset in progress."""

    id: str
    mode: int
    trigger: str
    decided_at: float
    plan: list[str]
    phase: str = INTENT
    report: dict[str, Any] = field(default_factory=dict)


def read(path: Path) -> Journal | None:
    """The unfinished reset, if any."""
    try:
        raw = json.loads(path.read_text())
        return Journal(**raw)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        raise DataDirError(f"the reset journal {path} is unreadable ({exc})") from None


def write(path: Path, journal: Journal) -> None:
    """Durably record the journal (whole or not at all)."""
    write_atomic(path, json.dumps(asdict(journal), indent=2).encode())


def clear(path: Path) -> None:
    """The reset is complete."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        fsync_dir(path.parent)
