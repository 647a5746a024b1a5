"""A shared folder's recycle bin (Control Panel > Shared Folder > "Enable Recycle Bin"):
what is deleted by File Station, SFTP or WebDAV moves to `#recycle` at the share's root,
keeping its folders, as DSM does (SMB does the same through Samba's vfs_recycle). What is
deleted inside `#recycle` is gone. A name already taken there gets " (2)", " (3)" …

The move is a rename within the share's own file system: instant, whatever the size, and
nothing is copied or lost if the power fails half way (the entry is in one place or the
other)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath

FOLDER = "#recycle"
MAX_TRIES = 10_000


def inside(root: Path, real: Path) -> bool:
    """Whether `real` is the recycle bin of `root`, or in it."""
    relative = real.relative_to(root)
    return bool(relative.parts) and relative.parts[0] == FOLDER


def place(relative: PurePosixPath, taken: Callable[[PurePosixPath], bool]) -> PurePosixPath:
    """Where `relative` (share-relative) goes in the bin: the same path under #recycle, or
    with " (n)" before its suffix when that is taken (pure: `taken` asks)."""
    wanted = PurePosixPath(FOLDER, *relative.parts)
    if not taken(wanted):
        return wanted
    stem, suffix = (wanted.stem, wanted.suffix) if wanted.suffix != wanted.name else \
        (wanted.name, "")
    for n in range(2, MAX_TRIES):
        other = wanted.with_name(f"{stem} ({n}){suffix}")
        if not taken(other):
            return other
    raise FileExistsError(f"{wanted}: too many entries of that name in the recycle bin")


def move(root: Path, real: Path) -> Path:
    """Move `real` (a file or a folder of share `root`) into the bin; where it went."""
    relative = PurePosixPath(real.relative_to(root).as_posix())
    target = root / place(relative, lambda p: os.path.lexists(root / p))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    os.rename(real, target)  # never replaces: `place` found a free name
    return target
