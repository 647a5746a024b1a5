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

import contextlib
import os
import re
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class CleanPolicy:
    """What emptying a bin removes (Task Scheduler's recycle-bin task): everything, what
    was deleted more than `days` ago, or files (largest or oldest first) until the bin
    holds at most `size` bytes."""

    kind: Literal["clean_all", "time", "size"] = "clean_all"
    days: int = 30
    size: int = 0
    largest_first: bool = True


@dataclass(frozen=True)
class Held:
    """One file in a bin: its path under the share, size, and when it moved in."""

    path: str
    size: int
    deleted: float


def chosen(held: list[Held], policy: CleanPolicy, now: float) -> set[str]:
    """The paths `policy` removes from one share's bins (pure)."""
    if policy.kind == "clean_all":
        return {h.path for h in held}
    if policy.kind == "time":
        return {h.path for h in held if h.deleted < now - policy.days * 86400}
    total = sum(h.size for h in held)
    order = sorted(held, key=(lambda h: (-h.size, h.deleted)) if policy.largest_first
                   else (lambda h: (h.deleted, -h.size)))
    removed: set[str] = set()
    for h in order:
        if total <= policy.size:
            break
        removed.add(h.path)
        total -= h.size
    return removed


def empty(root: Path, policy: CleanPolicy, now: float) -> tuple[int, int]:
    """Empty share `root`'s bins by `policy`: (files removed, bytes freed). Only entries
    inside a bin go; each is reached through its folder's descriptor, never by following
    a link, so a link or a folder swapped in while this runs cannot lead outside the bin.
    Folders left empty go too; the bin itself stays."""
    with _lock(root):
        held: list[Held] = []
        for top in _bins(root):
            # A folder deleted whole moved in with one rename: its files keep their own
            # times, so what was deleted when is the latest change up the kept path.
            since: dict[str, float] = {}
            for folder, dirs, names, fd in os.fwalk(root / top, follow_symlinks=False):
                parent = since.get(os.path.dirname(folder), 0.0)
                since[folder] = 0.0 if folder == str(root / top) else \
                    max(parent, os.fstat(fd).st_ctime)
                held += [Held(f"{folder}/{name}", st.st_size, max(st.st_ctime, since[folder]))
                         for name, st in _not_folders(fd, [*names, *dirs])]
        remove = chosen(held, policy, now)
        sizes = {h.path: h.size for h in held}
        files = freed = 0
        for top in _bins(root):
            for folder, dirs, names, fd in os.fwalk(root / top, topdown=False,
                                                    follow_symlinks=False):
                for name, _st in _not_folders(fd, [*names, *dirs]):
                    if f"{folder}/{name}" in remove:
                        with contextlib.suppress(OSError):
                            os.unlink(name, dir_fd=fd)
                            files += 1
                            freed += sizes[f"{folder}/{name}"]
                for name in dirs:
                    with contextlib.suppress(OSError):  # not empty, or a link: it stays
                        os.rmdir(name, dir_fd=fd)
    return files, freed


def _bins(root: Path) -> list[str]:
    """The share's bin, as `place` chooses it: `#recycle`, or the first numbered one that
    is a folder where a file took the name (a user's own "#recycle (2)" beside a real bin
    is not one)."""
    for n in range(1, MAX_TRIES):
        name = FOLDER if n == 1 else _numbered(FOLDER, n)
        kind = _kind(root / name)
        if kind != "other":
            return [name] if kind == "folder" else []
    return []


def _not_folders(fd: int, names: list[str]) -> list[tuple[str, os.stat_result]]:
    """The entries of folder `fd` that are not folders (a link to one is a link), with
    their own status (never a link's target's)."""
    found = []
    for name in names:
        with contextlib.suppress(OSError):
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode):
                found.append((name, st))
    return found
