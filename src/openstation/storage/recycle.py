"""A shared folder's recycle bin (Control Panel > Shared Folder > "Enable Recycle Bin"):
what is deleted by File Station, SFTP or WebDAV moves to `#recycle` at the share's root,
keeping its folders, as DSM does (SMB does the same through Samba's vfs_recycle). What is
deleted inside `#recycle` is gone. A name already taken there gets " (2)", " (3)" …; so
does a folder level of the kept path that something other than a folder occupies (a file
named `#recycle`, say), so no entry a user made can stop deletes.

The move is a rename within the share's own file system: instant, whatever the size, and
nothing is copied or lost if the power fails half way (the entry is in one place or the
other). Choosing the name and renaming happen under one lock per share, so two deletes
never pick the same name (rename would replace the first)."""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Literal

FOLDER = "#recycle"
BIN = re.compile(r"#recycle(?: \(\d+\))?")
MAX_TRIES = 10_000
Kind = Literal["folder", "other"] | None  # what is at a path: nothing, a folder, else

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def inside(root: Path, real: Path) -> bool:
    """Whether `real` is the recycle bin of `root` (or the numbered one `place` chose when
    a file took the name), or in it."""
    relative = real.relative_to(root)
    return bool(relative.parts) and BIN.fullmatch(relative.parts[0]) is not None


def _numbered(name: str, n: int) -> str:
    stem, dot, suffix = name.rpartition(".")
    if not stem or not dot:  # no suffix, or a dot file (".profile")
        return f"{name} ({n})"
    return f"{stem} ({n}).{suffix}"


def place(relative: PurePosixPath, kind: Callable[[PurePosixPath], Kind]) -> PurePosixPath:
    """Where `relative` (share-relative) goes in the bin: the same path under #recycle;
    a level taken by something not a folder, or a last name taken at all, numbered
    (pure: `kind` says what is at a path)."""
    at = PurePosixPath()
    levels = [FOLDER, *relative.parts]
    for depth, name in enumerate(levels):
        last = depth == len(levels) - 1
        for n in range(1, MAX_TRIES):
            candidate = at / (name if n == 1 else _numbered(name, n))
            found = kind(candidate)
            if found is None or (found == "folder" and not last):
                at = candidate
                break
        else:
            raise FileExistsError(f"{at / name}: too many entries of that name in the bin")
    return at


def _kind(path: Path) -> Kind:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    return "folder" if stat.S_ISDIR(mode) else "other"


def _lock(root: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(root, threading.Lock())


def move(root: Path, real: Path) -> Path:
    """Move `real` (a file or a folder of share `root`) into the bin; where it went."""
    relative = PurePosixPath(real.relative_to(root).as_posix())
    with _lock(root):
        target = root / place(relative, lambda p: _kind(root / p))
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        os.rename(real, target)  # `place` found it free, and the lock keeps it so
    return target
