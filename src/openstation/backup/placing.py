"""Restored files put in place: moved from where restic restored them (a staging folder
on the same volume) under their share or another folder, by a conflict policy, never
through a symbolic link (in a worker thread)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from openstation.backup import plan
from openstation.backup.plan import Conflict
from openstation.errors import ConflictError, IllegalPathError
from openstation.storage.paths import split


class Placer:
    """Moves a restore's files into volume1."""

    def __init__(self, volume: Path, reachable: Callable[[str], None],
                 changed: Callable[[Path], None]) -> None:
        self.volume = volume
        self.reachable = reachable  # refuses a share that is gone or not mounted
        self.changed = changed

    def place(self, staging: Path, target: str | None, policy: Conflict) -> dict[str, int]:
        """Move what restic restored into place, file by file (a rename on the same
        volume), keeping each existing file by `policy`: under its share, or under
        `target` ("share/folder"). No symbolic link on the way is followed."""
        counts = {"restored": 0, "skipped": 0, "renamed": 0}
        base = [] if target is None else target.split("/")
        for top in sorted(staging.iterdir()) if staging.is_dir() else []:
            if top.name.startswith("@"):
                continue  # the configuration copy: restored through its own sections
            if target is None:
                self.reachable(top.name)
            for folder, dirs, files in os.walk(top):
                if target is not None:  # the device's own entries (@share.json) stay
                    dirs[:] = [d for d in dirs if not d.startswith("@")]
                    files = [f for f in files if not f.startswith("@")]
                # a link to a folder is listed among the folders: moved as a link
                files += [d for d in dirs if (Path(folder) / d).is_symlink()]
                dirs[:] = sorted(d for d in dirs if not (Path(folder) / d).is_symlink())
                relative = Path(folder).relative_to(staging)
                into = self.folder([*base, *relative.parts])
                for name in sorted(files):
                    destination = into / name
                    if destination.exists() or destination.is_symlink():
                        if policy is Conflict.SKIP or destination.is_dir():
                            counts["skipped"] += 1  # a folder is never replaced by a file
                            continue
                        if policy is Conflict.KEEP_BOTH:
                            destination = into / plan.restored_name(
                                name, set(os.listdir(into)))
                            counts["renamed"] += 1
                    os.replace(Path(folder) / name, destination)
                    self.changed(destination)
                    counts["restored"] += 1
        return counts

    def folder(self, parts: list[str]) -> Path:
        """volume1/parts…, made where missing; a symbolic link or a file on the way is
        refused (it could lead out of the share)."""
        here = self.volume
        for part in parts:
            here = here / part
            if here.is_symlink() or (here.exists() and not here.is_dir()):
                raise ConflictError(f"{'/'.join(parts)}: {here.name!r} is not a folder "
                                    "(or is a link): not restored there")
            if not here.exists():
                here.mkdir(mode=0o755)
        return here


def literal(path: str) -> str:
    """A path as a restic pattern that matches only itself."""
    return "".join("\\" + c if c in "*?[]" else c for c in path)


def path_problem(path: str) -> str | None:
    """Why `path` ("share/…") cannot name something in a version, or None."""
    try:
        split("/" + path)
    except IllegalPathError as error:
        return str(error)
    return None
