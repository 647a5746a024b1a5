"""The work of File Station's background tasks, run in task threads (`tasks.py`).

Paths are located on the event loop (the store is read there); the threads only touch the
volume. Every write goes through a temporary file renamed into place, so a stopped task or
a power cut leaves whole files, never half of one. Each failing path is recorded with its
own code (`codes.PathErrors`) and the others go on.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from openstation.errors import NoSpaceError, NotFoundError
from openstation.filestation import codes
from openstation.filestation.codes import PathErrors
from openstation.filestation.listing import matcher
from openstation.filestation.service import FileStation, Item, Located
from openstation.filestation.tasks import Task
from openstation.storage import recycle

COPY_BLOCK = 16 << 20  # bytes per copy_file_range call: progress and stop between them
CHECK_EVERY = 256  # entries walked between looks at the stop flag
SEARCH_RESULTS = 20_000  # a search keeps at most this many results (~30 MB)


def progress(task: Task, done: int, total: int) -> None:
    task.update(progress=round(done / total, 4) if total else 1.0)


def sizes(files: FileStation, items: Iterable[Item], task: Task) -> tuple[int, int]:
    """(entries, bytes) of `items` and everything below them."""
    count = size = 0
    for item in items:
        count += 1
        size += item.size
        if item.is_dir:
            for n, inner in enumerate(files.walk(item.at)):
                count += 1
                size += inner.size
                if n % CHECK_EVERY == 0:
                    task.check()
    return count, size


def inside(folder: Located, item: Item) -> bool:
    """Whether `folder` is `item` or lies below it (copying a folder into itself)."""
    return item.is_dir and (folder.real == item.at.real or item.at.real in folder.real.parents)


# --- copy and move --------------------------------------------------------------------------

@dataclass
class CopyMove:
    """Copy or move sources into a folder; `overwrite` None: an existing target is an
    error (1003), False: it is skipped, True: it is replaced."""

    files: FileStation
    task: Task
    overwrite: bool | None
    move: bool
    room: int  # bytes free for new data (above volume1's reserve) when the task began
    done: int = 0
    total: int = 0

    def run(self, sources: list[Located], dest: Located, errors: PathErrors
            ) -> dict[str, Any]:
        folder = dest.item()
        if not folder.is_dir:
            raise NotFoundError(f"{dest.path} is not a folder")
        items = []
        for source in sources:
            try:
                items.append(source.item())
            except (NotFoundError, OSError) as exc:
                errors.add(source.path, exc)
        _, self.total = sizes(self.files, items, self.task)
        # A move within a share takes no room; into another share, it counts there.
        adding = sizes(self.files, [i for i in items if i.at.share.name != dest.share.name],
                       self.task)[1] if self.move else self.total
        # Claimed, not only compared: several tasks started together share the room.
        storage, share = self.files.storage, dest.share.name
        if adding > self.room or not storage.claim(adding, share):
            raise NoSpaceError(f"{adding} bytes do not fit: {self.files.full_why(share)}")
        try:
            self._transfer_all(items, dest, errors)
        finally:
            storage.release(adding, share)
            storage.quotas.wrote(share, adding)  # at most; the next walk has it exactly
        return {}

    def _transfer_all(self, items: list[Item], dest: Located, errors: PathErrors) -> None:
        self.task.update(total=self.total, processed_size=0, progress=0.0,
                         dest_folder_path=dest.path)
        for item in items:
            self.task.update(path=item.path, processing_path=item.path)
            if inside(dest, item):
                errors.add(item.path, codes.DESTINATION_FAILED)
                continue
            if self.move and item.at.is_root:
                errors.add(item.path, codes.NO_PERMISSION)
                continue
            try:
                self.transfer(item, dest.child(item.name), errors)
            except codes.FILE_ERRORS as exc:  # this path fails; the others go on
                errors.add(item.path, exc)
        progress(self.task, self.total, self.total)
        self.task.update(processed_size=self.total)

    def advance(self, size: int) -> None:
        self.done += size
        self.task.update(processed_size=self.done)
        progress(self.task, self.done, self.total)

    def transfer(self, item: Item, target: Located, errors: PathErrors) -> None:
        self.task.check()
        existing = _lstat(target)
        if item.at.real == target.real:
            if not self.move and self.overwrite is not False:
                errors.add(item.path, codes.FILE_EXISTS)  # a copy onto itself
            self.advance(_tree_size(self.files, item))
            return
        if item.is_dir:
            if existing is not None and not existing.is_dir:
                if self.overwrite is not True:
                    errors.add(target.path, codes.FILE_EXISTS if self.overwrite is False
                               else codes.NEED_OVERWRITE)
                    return
                os.unlink(target.real)
                existing = None
            if existing is None and self.move and _same_file_system(item.at, target):
                size = _tree_size(self.files, item)
                os.rename(item.at.real, target.real)  # a whole folder, at once
                self.task.renamed(item.at.real, target.real)
                self.advance(size)
                return
            if existing is None:
                target.real.mkdir()
                self.task.changed(target.real)
            for child in self.files.children(item.at):
                self.transfer(child, target.child(child.name), errors)
            if self.move:
                with contextlib.suppress(OSError):  # kept if something in it was skipped
                    item.at.real.rmdir()
                    self.task.changed(item.at.real)
            return
        if existing is not None:
            if existing.is_dir:
                errors.add(target.path, codes.FILE_OVER_FOLDER)
                return
            if self.overwrite is None:
                errors.add(target.path, codes.NEED_OVERWRITE)
                return
            if self.overwrite is False:
                self.advance(item.size)  # skipped
                return
        if self.move and _same_file_system(item.at, target):
            os.replace(item.at.real, target.real)
            self.task.renamed(item.at.real, target.real)
            self.advance(item.size)
            return
        self.copy_file(item, target)
        if self.move:
            os.unlink(item.at.real)
            self.task.changed(item.at.real)

    def copy_file(self, item: Item, target: Located) -> None:
        temporary = target.real.parent / f"@copy-{secrets.token_hex(8)}"
        try:
            with open(item.at.real, "rb") as source, open(temporary, "xb") as sink:
                for size in _copy_range(source.fileno(), sink.fileno()):
                    self.task.check()
                    self.advance(size)
            os.utime(temporary, ns=(item.info.st_atime_ns, item.info.st_mtime_ns))
            os.replace(temporary, target.real)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        self.task.changed(target.real)


def _copy_range(source: int, sink: int) -> Iterator[int]:
    """Copy a whole file in the kernel (copy_file_range, as cp does), in steps."""
    try:
        while copied := os.copy_file_range(source, sink, COPY_BLOCK):
            yield copied
        return
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise
    while block := os.read(source, 1 << 20):  # a file system without it
        os.write(sink, block)
        yield len(block)


def _same_file_system(source: Located, target: Located) -> bool:
    """Whether a rename can move `source` to `target`: an encrypted share is a file system
    of its own (gocryptfs), the plain shares all live on volume1."""
    return source.root == target.root or not (source.share.encrypted
                                              or target.share.encrypted)


def _lstat(located: Located) -> _Kind | None:
    """What is at `located` now (None: nothing)."""
    try:
        return _Kind(stat.S_ISDIR(os.lstat(located.real).st_mode))
    except FileNotFoundError:
        return None


@dataclass(frozen=True)
class _Kind:
    is_dir: bool


def _tree_size(files: FileStation, item: Item) -> int:
    if not item.is_dir:
        return item.size
    return sum(inner.size for inner in files.walk(item.at))


# --- delete ----------------------------------------------------------------------------------

def delete(files: FileStation, task: Task, items: list[Item], recursive: bool,
           errors: PathErrors) -> dict[str, Any]:
    """Delete files and folders (a folder's contents first), counting entries."""
    total, _ = sizes(files, items, task) if recursive else (len(items), 0)
    done = 0
    task.update(total=total, processed_num=0, progress=0.0)
    for item in items:
        task.update(path=item.path, processing_path=item.path)
        try:
            if item.is_dir and not recursive and _has_entries(item.at.real):
                raise OSError(errno.ENOTEMPTY, "the folder is not empty")  # bin or not
            if item.at.share.recycle_bin and not recycle.inside(item.at.root, item.at.real):
                moved = files.discard(item.at)  # the whole entry, at once, into the bin
                if moved is not None:
                    task.renamed(item.at.real, moved)
                done += 1
                continue
            if not item.is_dir:
                os.unlink(item.at.real)
                done += 1
            elif not recursive:
                item.at.real.rmdir()  # an error if anything is in it
                done += 1
            else:
                for removed in _remove_tree(item.at.real, task):
                    done += removed
                    task.update(processed_num=done)
                    progress(task, done, total)
            task.changed(item.at.real)
        except OSError as exc:
            errors.add(item.path, exc)
    task.update(processed_num=done, progress=1.0)
    return {}


def _has_entries(folder: os.PathLike[str]) -> bool:
    with os.scandir(folder) as scan:
        return next(scan, None) is not None


def _remove_tree(top: os.PathLike[str], task: Task) -> Iterator[int]:
    """Remove a folder bottom-up without following links; yields counts removed."""
    stack: list[tuple[str, bool]] = [(os.fspath(top), False)]
    while stack:
        path, emptied = stack.pop()
        if emptied:
            os.rmdir(path)
            yield 1
            continue
        stack.append((path, True))
        removed = 0
        with os.scandir(path) as scan:
            for entry in scan:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, False))
                else:
                    os.unlink(entry.path)
                    removed += 1
                    if removed % CHECK_EVERY == 0:
                        task.check()
                        yield removed
                        removed = 0
        if removed:
            yield removed
        task.check()


# --- folder size, MD5 -------------------------------------------------------------------------

def dir_size(files: FileStation, task: Task, items: list[Item]) -> dict[str, Any]:
    dirs = plain = size = 0
    for item in items:
        for n, inner in enumerate([item, *files.walk(item.at)] if item.is_dir else [item]):
            if inner.is_dir:
                dirs += 1
            else:
                plain += 1
                size += inner.size
            if n % CHECK_EVERY == 0:
                task.check()
                task.update(num_dir=dirs, num_file=plain, total_size=size)
    return {"num_dir": dirs, "num_file": plain, "total_size": size}


def md5(files: FileStation, task: Task, item: Item) -> dict[str, Any]:
    if item.is_dir:
        raise NotFoundError(f"{item.path} is a folder")
    digest = hashlib.md5(usedforsecurity=False)
    for block in files.read_range(item.at):
        task.check()
        digest.update(block)
    return {"md5": digest.hexdigest()}


# --- search -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchFilter:
    """DSM's search criteria (times in seconds since the epoch)."""

    pattern: str | None = None
    extensions: tuple[str, ...] = ()
    filetype: str = "all"
    size_from: int | None = None
    size_to: int | None = None
    mtime_from: int | None = None
    mtime_to: int | None = None
    crtime_from: int | None = None
    crtime_to: int | None = None
    atime_from: int | None = None
    atime_to: int | None = None
    owner: int | None = None  # uid
    group: int | None = None  # gid

    def predicate(self) -> Callable[[Item], bool]:
        name_ok = matcher(self.pattern)
        extensions = tuple(f".{e.lower().lstrip('.')}" for e in self.extensions)
        ranges: list[tuple[int | None, int | None, Callable[[Item], float]]] = [
                  (self.size_from, self.size_to, lambda i: i.size),
                  (self.mtime_from, self.mtime_to, lambda i: i.info.st_mtime),
                  (self.crtime_from, self.crtime_to,
                   lambda i: min(i.info.st_mtime, i.info.st_ctime)),
                  (self.atime_from, self.atime_to, lambda i: i.info.st_atime)]
        ranges = [r for r in ranges if r[0] is not None or r[1] is not None]

        def wanted(item: Item) -> bool:
            if self.filetype != "all" and item.is_dir != (self.filetype == "dir"):
                return False
            if extensions and (item.is_dir or not item.name.lower().endswith(extensions)):
                return False
            if self.owner is not None and item.info.st_uid != self.owner:
                return False
            if self.group is not None and item.info.st_gid != self.group:
                return False
            for low, high, value in ranges:
                v = value(item)
                if (low is not None and v < low) or (high is not None and v > high):
                    return False
            return name_ok(item.name)

        return wanted


def search(files: FileStation, task: Task, folders: list[Located], recursive: bool,
           criteria: SearchFilter) -> dict[str, Any]:
    wanted = criteria.predicate()
    for folder in folders:
        entries = files.walk(folder) if recursive else iter(files.children(folder))
        for n, item in enumerate(entries):
            if n % CHECK_EVERY == 0:
                task.check()
            if wanted(item):
                task.found.append(item)
                if len(task.found) >= SEARCH_RESULTS:
                    return {"truncated": True}  # memory stays bounded
    return {}


def room(files: FileStation, share: str | None = None) -> int:
    """Bytes new data may take now (above volume1's reserve, within `share`'s quota);
    read on the loop."""
    return max(0, files.storage.room(share))

