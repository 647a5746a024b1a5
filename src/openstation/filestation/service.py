"""File Station's core: files and folders inside shared folders, with the share's
permissions, safe paths, streamed uploads (temporary file, then rename) and reads (with
byte ranges). An encrypted share is its mounted plaintext (gocryptfs), refused when it is
not mounted.

Everything a user names is located here first (`locate`): the share must exist and grant
the user access (write access to change anything), every component is checked
(`storage/paths.py`), symbolic links are never followed, and the result must stay inside
its share. The device's own entries ("@…") are never listed or reachable; dot-files are
ordinary files, as on DSM.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import shutil
import stat
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from openstation import offload
from openstation.config.sections import Share
from openstation.errors import (
    AlreadyExistsError,
    IllegalPathError,
    IntegrityError,
    NoSpaceError,
    NotFoundError,
    PermissionDeniedError,
)
from openstation.names import normal
from openstation.storage import recycle
from openstation.storage.paths import name_problem, split
from openstation.storage.permissions import NO_ACCESS, READ_WRITE
from openstation.storage.service import StorageService

CLAIM_STEP = 8 << 20  # a chunked upload claims free space this much at a time
BLOCK = 1 << 20  # reads and writes of file contents, off the loop
CRTIME_XATTR = "user.openstation.crtime"  # Linux keeps no settable creation time


@dataclass(frozen=True)
class Located:
    """A path a user named, checked: its share, its real place and the user's right."""

    share: Share
    root: Path  # the share's folder on volume1
    real: Path
    path: str  # the user's path, normalised ("/share/a/b")
    right: str  # READ_WRITE or READ_ONLY

    @property
    def writable(self) -> bool:
        return self.right == READ_WRITE

    @property
    def is_root(self) -> bool:
        return self.real == self.root

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @staticmethod
    def shown(stored: str) -> str | None:
        """The name a stored entry shows (None: hidden)."""
        if stored.startswith(("@", ".@")):
            return None  # the device's own entries (and their temporary files) stay hidden
        return stored

    def child(self, name: str) -> Located:
        """The entry `name` inside this folder (not checked for existence)."""
        if (why := name_problem(name)) is not None:
            raise IllegalPathError(f"{name!r}: {why}")
        return Located(self.share, self.root, self.real / name, f"{self.path}/{name}",
                       self.right)

    def item(self) -> Item:
        """What is at this path now (NotFoundError: nothing, or a link)."""
        try:
            info = self.real.lstat()
        except OSError as exc:  # missing, a file where a folder should be, too long …
            if exc.errno == errno.ENAMETOOLONG:
                raise IllegalPathError(f"{self.path!r}: the path is too long") from None
            raise NotFoundError(f"no such file or folder {self.path!r}") from None
        if stat.S_ISLNK(info.st_mode):
            raise NotFoundError(f"no such file or folder {self.path!r}")
        return Item(self, info)


@dataclass(frozen=True)
class Item:
    """One file or folder that exists, with its status."""

    at: Located
    info: os.stat_result

    @property
    def name(self) -> str:
        return self.at.name

    @property
    def path(self) -> str:
        return self.at.path

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.info.st_mode)

    @property
    def size(self) -> int:
        return 0 if self.is_dir else self.info.st_size


class FileStation:
    """File operations on behalf of a signed-in user."""

    def __init__(self, storage: StorageService) -> None:
        self.storage = storage

    # --- locating ------------------------------------------------------------------------

    def locate(self, user: str, path: str, *, write: bool = False,
               principals: tuple[int, list[int]] | None = None) -> Located:
        """The real place behind a share path, refusing anything unsafe or not permitted
        (`principals`: the user's ids, when a caller locates many paths)."""
        share_name, parts = split(path)
        share = self.storage.store.record(Share, share_name)
        if share is None:
            raise NotFoundError(f"no shared folder {share_name!r}")
        right = self.storage.right(user, share, principals)
        if right == NO_ACCESS:
            raise PermissionDeniedError(f"no access to {share_name!r}")
        if write and right != READ_WRITE:
            raise PermissionDeniedError(f"{share_name!r} is read-only for {user}")
        if write:
            self.storage.store.check_writes("storage")  # an HA passive takes no writes
        self.storage.reachable(share)
        root = self.storage.volume / share.name
        # `split` checked every name; one walk of string prefixes checks the levels that
        # exist for links (a hostile 2,000-level path costs 2,000 lstats, not Path objects).
        located = Located(share, root, root.joinpath(*parts),
                          "/".join([f"/{share.name}", *parts]), right)
        try:
            existing = level = str(root)
            for part in parts:
                level = f"{level}/{part}"
                try:
                    mode = os.lstat(level).st_mode
                except (FileNotFoundError, NotADirectoryError):
                    break  # nothing lies below a missing entry (or a file)
                if stat.S_ISLNK(mode):
                    raise IllegalPathError(f"{path!r}: symbolic links are not followed")
                existing = level
            # What exists must still be inside (the names below it cannot climb: no "..").
            resolved = Path(existing).resolve()
        except (OSError, RuntimeError):  # too long for the file system, a loop …
            raise IllegalPathError(f"{path!r} cannot be used") from None
        if not resolved.is_relative_to(root.resolve()):
            raise IllegalPathError(f"{path!r} leads outside its shared folder")
        return located

    def stat(self, user: str, path: str,
             principals: tuple[int, list[int]] | None = None) -> Item:
        return self.locate(user, path, principals=principals).item()

    # --- reading -------------------------------------------------------------------------

    def children(self, folder: Located) -> list[Item]:
        """The visible entries of a folder (links and hidden entries left out)."""
        if not folder.real.is_dir():
            raise NotFoundError(f"no folder {folder.path!r}")
        items = []
        with os.scandir(folder.real) as scan:
            for entry in scan:
                name = folder.shown(entry.name)
                if name is None or entry.is_symlink():
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue  # removed while listed
                items.append(Item(Located(folder.share, folder.root, Path(entry.path),
                                          f"{folder.path}/{name}", folder.right), info))
        return items

    def list_dir(self, user: str, path: str) -> list[Item]:
        items = self.children(self.locate(user, path))
        return sorted(items, key=lambda i: (not i.is_dir, i.name.lower()))

    def walk(self, top: Located) -> Iterator[Item]:
        """Every visible entry below `top`, a folder before its contents (for threads)."""
        pending = [top]
        while pending:
            folder = pending.pop()
            try:
                items = self.children(folder)
            except (NotFoundError, NotADirectoryError, PermissionError):
                continue  # removed (or made unreadable) while walked
            for item in items:
                yield item
                if item.is_dir:
                    pending.append(item.at)

    def open_download(self, user: str, path: str) -> tuple[Located, int]:
        """The file to send and its size."""
        item = self.stat(user, path)
        if item.is_dir:
            raise NotFoundError(f"{path!r} is a folder")
        return item.at, item.size

    def read_range(self, located: Located, start: int = 0, end: int | None = None
                   ) -> Iterator[bytes]:
        """Bytes [start, end) of a file (IntegrityError: damaged, as gocryptfs finds an
        encrypted share's altered ciphertext)."""
        with open(located.real, "rb") as handle:
            handle.seek(start)
            left = None if end is None else end - start
            while left is None or left > 0:
                try:
                    block = handle.read(BLOCK if left is None else min(BLOCK, left))
                except OSError as exc:
                    if exc.errno != errno.EIO:
                        raise
                    raise IntegrityError(f"{located.path} cannot be read: its data is "
                                         "damaged") from None
                if not block:
                    return
                if left is not None:
                    left -= len(block)
                yield block

    def open_plain(self, located: Located) -> io.BufferedReader:
        """A seekable reader of a file (archives and images need to seek)."""
        return io.BufferedReader(io.FileIO(located.real, "rb"), BLOCK)

    # --- writing -------------------------------------------------------------------------

    def target(self, user: str, folder: str, name: str) -> Located:
        """Where a new entry `name` in `folder` goes (write access checked)."""
        name = normal(name)
        if (why := name_problem(name)) is not None:
            raise IllegalPathError(f"{name!r}: {why}")
        return self.locate(user, f"{folder.rstrip('/')}/{name}", write=True)

    def mkdir(self, user: str, folder: str, name: str, parents: bool = False) -> Item:
        located = self.target(user, folder, name)
        if located.real.exists():
            raise AlreadyExistsError(f"{located.path} already exists")
        if parents:
            self.make_parents(user, folder)
        if not located.real.parent.is_dir():
            raise NotFoundError(f"no folder {folder!r}")
        located.real.mkdir()
        self.storage.changed(located.real)
        return located.item()

    def make_parents(self, user: str, folder: str) -> None:
        share, parts = split(folder)
        current = f"/{share}"
        for part in parts:
            target = self.locate(user, f"{current}/{normal(part)}", write=True)
            if not target.real.exists():
                target.real.mkdir()
                self.storage.changed(target.real)
            elif not target.real.is_dir():
                raise AlreadyExistsError(f"{target.path} is a file")
            current = target.path

    def rename(self, user: str, path: str, new_name: str) -> Item:
        located = self.locate(user, path, write=True)
        if located.is_root:
            raise PermissionDeniedError("rename shared folders in Control Panel")
        located.item()
        target = self.target(user, path.rstrip("/").rsplit("/", 1)[0], new_name)
        if target.real.exists() and target.real != located.real:
            raise AlreadyExistsError(f"{target.path} already exists")
        os.rename(located.real, target.real)
        self.storage.renamed(located.real, target.real)
        return target.item()

    def removable(self, user: str, path: str) -> Item:
        """What `path` names, if `user` may delete it."""
        located = self.locate(user, path, write=True)
        if located.is_root:
            raise PermissionDeniedError("delete shared folders in Control Panel")
        return located.item()

    async def delete(self, user: str, path: str) -> None:
        item = self.removable(user, path)
        self.report(item.at, await offload.run(self.discard, item.at))

    @staticmethod
    def discard(located: Located) -> Path | None:
        """Delete an entry (blocking; any thread): into its share's recycle bin when the
        share has one and the entry is not in it already (returns where it went), else for
        good. Every protocol's delete comes here; its caller then reports the change."""
        if located.share.recycle_bin and not recycle.inside(located.root, located.real):
            return recycle.move(located.root, located.real)
        if stat.S_ISDIR(located.real.lstat().st_mode):
            shutil.rmtree(located.real)
        else:
            os.unlink(located.real)
        return None

    def report(self, located: Located, moved: Path | None) -> None:
        """(On the loop.) Tell replication what a `discard` did."""
        if moved is None:
            self.storage.changed(located.real)
        else:
            self.storage.renamed(located.real, moved)

    def check_write(self, user: str, folder: str, name: str, *, overwrite: bool | None
                    ) -> Located:
        """Whether `user` could create `name` in `folder` (CheckPermission, Upload)."""
        located = self.target(user, folder, name)
        if located.real.is_dir():
            raise AlreadyExistsError(f"{located.path} is a folder")
        if located.real.exists() and overwrite is not True:
            raise AlreadyExistsError(f"{located.path} already exists")
        return located

    async def upload(self, user: str, folder: str, name: str, chunks: AsyncIterator[bytes],
                     *, overwrite: bool = False, create_parents: bool = False,
                     expected: int | None = None, times: FileTimes | None = None) -> Item:
        """Stream an upload to a temporary file beside its target, then rename it in."""
        located = self.target(user, folder, name)
        if located.real.is_dir():
            raise AlreadyExistsError(f"{located.path} is a folder")
        if located.real.exists() and not overwrite:
            raise AlreadyExistsError(f"{located.path} already exists")
        if create_parents:
            self.make_parents(user, folder)
        if not located.real.parent.is_dir():
            raise NotFoundError(f"no folder {folder!r}")
        # Space is claimed before it is written, against what every upload in flight has
        # claimed: all of a declared size at once, a chunked body in steps as it arrives.
        claimed = expected if expected is not None else CLAIM_STEP
        share = located.share.name
        if not self.storage.claim(claimed, share):
            raise NoSpaceError(f"{claimed} bytes do not fit: {self.full_why(share)}")
        temporary = located.real.parent / f"@upload-{secrets.token_hex(8)}"
        try:
            with open(temporary, "xb") as sink:
                written = 0
                pending = bytearray()  # written 1 MiB at a time, off the loop
                async for block in chunks:
                    written += len(block)
                    if written > claimed:
                        more = max(CLAIM_STEP, written - claimed)
                        if not self.storage.claim(more, share):
                            raise NoSpaceError(f"no room left: {self.full_why(share)}")
                        claimed += more
                    pending += block
                    if len(pending) >= BLOCK:
                        await offload.run(sink.write, bytes(pending))
                        pending.clear()
                if pending:
                    await offload.run(sink.write, bytes(pending))
                sink.flush()
                await offload.run(os.fsync, sink.fileno())  # seconds for a large file
            if times is not None:
                times.apply(temporary)
            replaced = located.real.stat().st_size if located.real.exists() else 0
            os.replace(temporary, located.real)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise NoSpaceError("no space left on volume1") from None
            raise
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        finally:
            self.storage.release(claimed, share)  # written (so counted as used) or given up
        self.storage.quotas.wrote(share, written - replaced)
        self.storage.changed(located.real)
        return located.item()

    def full_why(self, share: str) -> str:
        """Why a write into `share` found no room: its quota, or the volume's reserve."""
        left = self.storage.quotas.room(share)
        if left is not None and left <= self.storage.room():
            return f"the shared folder {share} is at its quota"
        return "volume1 is full (its reserve is kept for the system)"

    def write_blocks(self, located: Located, blocks: Iterable[bytes]) -> int:
        """Write a new file from blocks via a temporary file and a rename; for threads (the
        caller reports the change). Returns the bytes written."""
        temporary = located.real.parent / f"@write-{secrets.token_hex(8)}"
        try:
            with open(temporary, "xb") as sink:
                written = 0
                for block in blocks:
                    sink.write(block)
                    written += len(block)
            os.replace(temporary, located.real)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        return written


@dataclass(frozen=True)
class FileTimes:
    """Times an upload asks its file to keep (DSM sends milliseconds since the epoch)."""

    mtime: float | None = None
    atime: float | None = None
    crtime: float | None = None

    def apply(self, path: Path) -> None:
        if self.mtime is not None or self.atime is not None:
            info = path.stat()
            os.utime(path, (self.atime if self.atime is not None else info.st_atime,
                            self.mtime if self.mtime is not None else info.st_mtime))
        if self.crtime is not None:
            with contextlib.suppress(OSError):  # a file system without user xattrs
                os.setxattr(path, CRTIME_XATTR, str(int(self.crtime)).encode())


def crtime(real: Path, info: os.stat_result) -> int:
    """A file's creation time: as an upload set it, else the oldest time Linux keeps."""
    with contextlib.suppress(OSError, ValueError):
        return int(os.getxattr(real, CRTIME_XATTR, follow_symlinks=False))
    return int(min(info.st_mtime, info.st_ctime))
