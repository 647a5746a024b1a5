"""Archives: zip folders and files (Compress, and downloads of several paths streamed as
one zip), list and extract zip and tar archives (Extract). Python's own `zipfile` and
`tarfile` do the format work.

Extraction never writes outside its destination: every member's path is checked like a
path a user typed (`storage/paths.py`), links, devices and "@" names are refused, and the
declared sizes must fit in the room volume1 has before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

from openstation.errors import AlreadyExistsError, ApiError, IllegalPathError, NoSpaceError
from openstation.filestation import codes
from openstation.filestation.codes import PathErrors
from openstation.filestation.service import BLOCK, FileStation, Item, Located
from openstation.filestation.tasks import Task
from openstation.names import normal
from openstation.storage.paths import name_problem

MAX_MEMBERS = 100_000  # entries an archive may have to be listed or extracted
LEVELS = {"moderate": 6, "store": 0, "fastest": 1, "best": 9}
FORMATS = ("zip",)  # what Compress writes
EPOCH_1980 = 315532800  # zip cannot hold older times


class _Sink:
    """A write-only stream: zipfile writes a streaming zip (data descriptors) to it."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def _info(name: str, item: Item, compress: int, level: int | None) -> zipfile.ZipInfo:
    when = time.localtime(max(EPOCH_1980, item.info.st_mtime))[:6]
    info = zipfile.ZipInfo(name + ("/" if item.is_dir else ""), when)
    info.compress_type = compress
    info._compresslevel = level  # type: ignore[attr-defined]  # zipfile's own per-entry level
    info.external_attr = (0o40755 if item.is_dir else 0o100644) << 16
    if item.is_dir:
        info.external_attr |= 0x10  # the MS-DOS directory flag
    info.file_size = item.size
    return info


def _entries(files: FileStation, tops: list[Item]) -> Iterator[tuple[str, Item]]:
    """(name in the archive, item) of `tops` and everything below, named from each top's
    parent folder, as File Station's "Download" and "Compress" name them."""
    for top in tops:
        base = len(top.path.rsplit("/", 1)[0]) + 1
        yield top.path[base:], top
        if top.is_dir:
            for item in files.walk(top.at):
                yield item.path[base:], item


def _zip_blocks(files: FileStation, archive: zipfile.ZipFile, tops: list[Item], level: int
                ) -> Iterator[int]:
    """Write `tops` into `archive`, yielding the size of each block written."""
    compress = zipfile.ZIP_DEFLATED if level else zipfile.ZIP_STORED
    for name, item in _entries(files, tops):
        info = _info(name, item, compress, level if level else None)
        if item.is_dir:
            archive.writestr(info, b"")
            continue
        with archive.open(info, "w", force_zip64=item.size >= zipfile.ZIP64_LIMIT) as dest:
            for block in files.read_range(item.at):
                dest.write(block)
                yield len(block)


def zip_stream(files: FileStation, tops: list[Item]) -> Iterator[bytes]:
    """A zip of `tops` (stored, not compressed: a download is network-bound), in blocks
    of about 1 MiB; memory stays at one block whatever the size."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:  # type: ignore[call-overload]
        for _size in _zip_blocks(files, archive, tops, 0):
            if len(sink.buffer) >= BLOCK:
                yield sink.take()
    yield sink.take()


def compress(files: FileStation, task: Task, tops: list[Item], dest: Located, level: int,
             room: int) -> dict[str, Any]:
    """Write a zip of `tops` to `dest` (via a temporary file and a rename)."""
    if dest.real.exists():
        raise AlreadyExistsError(f"{dest.path} already exists")
    total = sum(item.size for _, item in _entries(files, tops))
    if total > room:
        raise NoSpaceError(f"{total} bytes may not fit on volume1")
    done = 0

    def advance(size: int) -> None:
        nonlocal done
        done += size
        task.check()
        task.update(processed_size=done, progress=round(done / total, 4) if total else 1.0)

    task.update(dest_file_path=dest.path, total=total, progress=0.0)
    temporary = dest.real.parent / f"@compress-{secrets.token_hex(8)}"
    try:
        with open(temporary, "xb") as raw, \
                zipfile.ZipFile(raw, "w", allowZip64=True) as archive:
            for size in _zip_blocks(files, archive, tops, level):
                advance(size)
        os.replace(temporary, dest.real)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    task.changed(dest.real)
    return {"dest_file_path": dest.path, "progress": 1.0}


# --- reading archives ----------------------------------------------------------------------

@dataclass(frozen=True)
class Member:
    """One entry of an archive."""

    item_id: int
    path: str  # as stored, "/"-separated
    size: int
    packed: int
    mtime: float
    is_dir: bool
    usable: bool  # a regular file or folder (links, devices … are never extracted)

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    def to_json(self) -> dict[str, Any]:
        return {"itemid": self.item_id, "name": self.name, "path": self.path.rstrip("/"),
                "size": self.size, "pack_size": self.packed, "is_dir": self.is_dir,
                "mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.mtime))}


class Archive:
    """A zip or tar archive opened for reading (from a seekable plaintext stream)."""

    def __init__(self, handle: BinaryIO, password: str | None = None) -> None:
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self._members: list[tarfile.TarInfo] = []
        self.password = password.encode() if password else None
        try:
            if zipfile.is_zipfile(handle):
                handle.seek(0)
                end = zipfile._EndRecData(handle)  # type: ignore[attr-defined]
                if end is None or end[zipfile._ECD_ENTRIES_TOTAL] > MAX_MEMBERS:  # type: ignore[attr-defined]
                    raise ApiError(codes.ARCHIVE_UNREADABLE, errors={
                        "reason": f"more than {MAX_MEMBERS} members"})
                handle.seek(0)
                self._zip = zipfile.ZipFile(handle)
                return
            handle.seek(0)
            self._tar = tarfile.open(fileobj=handle, mode="r:*")  # noqa: SIM115 - kept open
        except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError):
            raise ApiError(codes.NOT_AN_ARCHIVE) from None

    def members(self) -> list[Member]:
        found: list[Member] = []
        try:
            if self._zip is not None:
                for n, info in enumerate(self._zip.infolist()):
                    mode = info.external_attr >> 16
                    found.append(Member(n, info.filename, info.file_size, info.compress_size,
                                        _finite(time.mktime((*info.date_time, 0, 0, -1))),
                                        info.is_dir(), not stat.S_ISLNK(mode)))
            elif self._tar is not None:
                # Member by member, never getmembers(): a crafted header (a negative size)
                # makes tarfile read the same member forever (CVE-2025-8194).
                last = -1
                while (tar := self._tar.next()) is not None:
                    if tar.size < 0 or tar.offset <= last or len(found) >= MAX_MEMBERS:
                        raise ApiError(codes.ARCHIVE_UNREADABLE, errors={
                            "reason": "a damaged or oversized tar archive"})
                    last = tar.offset
                    found.append(Member(len(found), tar.name, tar.size, tar.size,
                                        _finite(tar.mtime), tar.isdir(),
                                        tar.isdir() or tar.isfile()))
                    self._members.append(tar)
        except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError):
            raise ApiError(codes.ARCHIVE_UNREADABLE) from None
        return found

    def blocks(self, member: Member) -> Iterator[bytes]:
        """A member's contents, block by block (CRC and size checked by the library)."""
        handle: IO[bytes] | None
        encrypted = False
        try:
            if self._zip is not None:
                info = self._zip.infolist()[member.item_id]
                encrypted = bool(info.flag_bits & 0x1)
                handle = self._zip.open(info, pwd=self.password)
            else:
                assert self._tar is not None
                handle = self._tar.extractfile(self._members[member.item_id])
        except RuntimeError:  # encrypted: no or a wrong password
            raise ApiError(codes.WRONG_ARCHIVE_PASSWORD) from None
        except (NotImplementedError, zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
            raise ApiError(codes.ARCHIVE_UNREADABLE, errors={"reason": str(exc)}) from None
        if handle is None:
            return
        with handle:
            try:
                while block := handle.read(BLOCK):
                    yield block
            except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, zlib.error,
                    RuntimeError, NotImplementedError) as exc:
                if encrypted:
                    # ZipCrypto checks a password against one byte: a wrong one passes
                    # 1 time in 256, then the data fails its CRC. Still the wrong password.
                    raise ApiError(codes.WRONG_ARCHIVE_PASSWORD) from None
                raise ApiError(codes.ARCHIVE_UNREADABLE, errors={"reason": str(exc)}
                               ) from None


def _finite(when: float) -> float:
    """A member's time, kept to what the system can represent (a crafted one may not be)."""
    return min(max(0.0, when), 2.0**33) if when == when else 0.0


def member_parts(path: str) -> list[str]:
    """The checked components of a member's path (IllegalPathError for anything unsafe)."""
    parts = [normal(p) for p in path.replace("\\", "/").strip("/").split("/") if p]
    if not parts:
        raise IllegalPathError(f"{path!r}: an empty name")
    for part in parts:
        if (why := name_problem(part)) is not None:
            raise IllegalPathError(f"{path!r}: {why}")
    return parts


@dataclass(frozen=True)
class ExtractOptions:
    overwrite: bool = False
    keep_dir: bool = True
    create_subfolder: bool = False
    password: str | None = None
    item_ids: frozenset[int] | None = None


def extract(files: FileStation, task: Task, source: Item, dest: Located,
            options: ExtractOptions, room: int, errors: PathErrors) -> dict[str, Any]:
    """Extract an archive's regular files and folders into `dest`."""
    with files.open_plain(source.at) as handle:
        archive = Archive(handle, options.password)
        members = [m for m in archive.members() if m.usable and (
            options.item_ids is None or m.item_id in options.item_ids)]
        total = sum(m.size for m in members if not m.is_dir)
        if total > room:
            raise NoSpaceError(f"the archive holds {total} bytes: they do not fit on volume1")
        if options.create_subfolder:
            stem = source.name.rsplit(".", 1)[0] or source.name
            dest = dest.child(normal(stem))
            dest.real.mkdir(exist_ok=True)
            task.changed(dest.real)
        task.update(dest_folder_path=dest.path, total=total, progress=0.0)
        done = 0
        for member in members:
            task.check()
            try:
                parts = member_parts(member.path)
                if not options.keep_dir:
                    if member.is_dir:
                        continue
                    parts = parts[-1:]
                folder = dest
                for part in parts[:-1]:
                    folder = folder.child(part)
                    if not folder.real.is_dir():
                        folder.real.mkdir()
                        task.changed(folder.real)
                target = folder.child(parts[-1])
                if member.is_dir:
                    if not target.real.is_dir():
                        target.real.mkdir()
                        task.changed(target.real)
                    continue
                if target.real.exists() and (not options.overwrite or target.real.is_dir()):
                    done += member.size  # kept, as asked (or a folder of that name)
                    continue
                written = files.write_blocks(target, _limited(archive.blocks(member),
                                                              member.size, task))
                os.utime(target.real, (member.mtime, member.mtime))
                task.changed(target.real)
                done += written
            except (IllegalPathError, OSError) as exc:
                errors.add(f"{dest.path}/{member.path}", exc)
            task.update(processed_size=done, progress=round(done / total, 4) if total
                        else 1.0)
    return {"dest_folder_path": dest.path, "progress": 1.0}


def _limited(blocks: Iterator[bytes], declared: int, task: Task) -> Iterator[bytes]:
    """A member's blocks, refused past its declared size (a crafted archive)."""
    seen = 0
    for block in blocks:
        seen += len(block)
        if seen > declared:
            raise ApiError(codes.ARCHIVE_UNREADABLE, errors={
                "reason": "a member is larger than the archive says"})
        task.check()
        yield block


def listing(files: FileStation, source: Item, password: str | None) -> list[Member]:
    with files.open_plain(source.at) as handle:
        return Archive(handle, password).members()
