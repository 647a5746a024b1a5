"""File Station: files and folders inside shared folders, with permissions, safe paths,
streamed uploads (temporary file, then rename) and downloads (with byte ranges), plain or
encrypted."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from openstation.storage import crypto
from openstation.storage.crypto import ShareCipher
from openstation.storage.paths import name_problem, split
from openstation.storage.permissions import NO_ACCESS, READ_WRITE
from openstation.storage.service import StorageService

CLAIM_STEP = 8 << 20  # a chunked upload claims free space this much at a time


@dataclass(frozen=True)
class Entry:
    """One file or folder as File Station shows it."""

    name: str
    path: str
    is_dir: bool
    size: int
    mtime: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "isdir": self.is_dir,
                "additional": {"size": self.size, "time": {"mtime": self.mtime}}}


CLAIM_STEP = 8 << 20  # a chunked upload claims free space this much at a time


@dataclass(frozen=True)
class Located:
    share: Share
    cipher: ShareCipher | None
    real: Path
    path: str  # the user's path, normalised
    writable: bool


class FileStation:
    """File operations for a signed-in user."""

    def __init__(self, storage: StorageService) -> None:
        self.storage = storage

    # --- locating ------------------------------------------------------------------------

    def locate(self, user: str, path: str, *, write: bool = False) -> Located:
        """The real path behind a share path, refusing anything unsafe or not permitted."""
        share_name, parts = split(path)
        share = self.storage.store.record(Share, share_name)
        if share is None:
            raise NotFoundError(f"no shared folder {share_name!r}")
        right = self.storage.right(user, share)
        if right == NO_ACCESS:
            raise PermissionDeniedError(f"no access to {share_name!r}")
        if write and right != READ_WRITE:
            raise PermissionDeniedError(f"{share_name!r} is read-only for {user}")
        if write:
            self.storage.store.check_writes("storage")  # an HA passive takes no writes
        cipher = self.storage.cipher(share)
        root = self.storage.volume / share.name
        real = root
        for part in parts:
            stored = cipher.encrypt_name(part) if cipher else part
            if cipher and len(stored) > 255:
                raise IllegalPathError(f"{part!r}: the name is too long to encrypt")
            real = real / stored
            if real.is_symlink():
                raise IllegalPathError(f"{path!r}: symbolic links are not followed")
        resolved = real.resolve()
        if resolved != root.resolve() and root.resolve() not in resolved.parents:
            raise IllegalPathError(f"{path!r} leads outside its shared folder")
        normal = "/" + "/".join([share.name, *parts])
        return Located(share, cipher, real, normal, right == READ_WRITE)

    def _shown_name(self, located: Located, stored: str) -> str | None:
        if stored.startswith("@") or stored.startswith("."):
            return None  # the device's own entries and dot-files stay hidden
        if located.cipher is None:
            return stored
        try:
            return located.cipher.decrypt_name(stored)
        except IntegrityError:
            return None

    def _entry(self, located: Located, real: Path, name: str, path: str) -> Entry:
        info = real.lstat()
        is_dir = stat.S_ISDIR(info.st_mode)
        size = 0 if is_dir else (crypto.plain_size(info.st_size) if located.cipher
                                 else info.st_size)
        return Entry(name, path, is_dir, size, int(info.st_mtime))

    # --- reading -------------------------------------------------------------------------

    def list_dir(self, user: str, path: str) -> list[Entry]:
        located = self.locate(user, path)
        if not located.real.is_dir():
            raise NotFoundError(f"no folder {path!r}")
        entries = []
        with os.scandir(located.real) as scan:
            for item in scan:
                if item.is_symlink():
                    continue
                name = self._shown_name(located, item.name)
                if name is not None:
                    entries.append(self._entry(located, Path(item.path), name,
                                               f"{located.path}/{name}"))
        return sorted(entries, key=lambda e: (not e.is_dir, e.name.lower()))

    def stat(self, user: str, path: str) -> Entry:
        located = self.locate(user, path)
        if not located.real.exists():
            raise NotFoundError(f"no such file or folder {path!r}")
        return self._entry(located, located.real, located.path.rsplit("/", 1)[-1],
                           located.path)

    def open_download(self, user: str, path: str) -> tuple[Located, int]:
        """The file to send and its (plaintext) size."""
        located = self.locate(user, path)
        if not located.real.is_file():
            raise NotFoundError(f"no such file {path!r}")
        size = located.real.stat().st_size
        return located, crypto.plain_size(size) if located.cipher else size

    def read_range(self, located: Located, start: int, end: int) -> Iterator[bytes]:
        """Plaintext bytes [start, end) of a file, decrypting only the chunks needed."""
        with open(located.real, "rb") as handle:
            if located.cipher is None:
                handle.seek(start)
                left = end - start
                while left > 0:
                    block = handle.read(min(1 << 20, left))
                    if not block:
                        return
                    left -= len(block)
                    yield block
                return
            first = start // crypto.CHUNK
            offset = first * crypto.CHUNK
            for chunk in located.cipher.decrypt_stream(handle, first):
                lo, hi = max(start - offset, 0), min(end - offset, len(chunk))
                if lo < hi:
                    yield chunk[lo:hi]
                offset += len(chunk)
                if offset >= end:
                    return

    # --- writing -------------------------------------------------------------------------

    def mkdir(self, user: str, folder: str, name: str, parents: bool = False) -> Entry:
        name = normal(name)
        if (why := name_problem(name)) is not None:
            raise IllegalPathError(f"{name!r}: {why}")
        located = self.locate(user, f"{folder.rstrip('/')}/{name}", write=True)
        if located.real.exists():
            raise AlreadyExistsError(f"{located.path} already exists")
        if not located.real.parent.is_dir() and not parents:
            raise NotFoundError(f"no folder {folder!r}")
        if parents:
            self._make_parents(user, folder)
        located.real.mkdir()
        self.storage.changed(located.real)
        return self._entry(located, located.real, name, located.path)

    def _make_parents(self, user: str, folder: str) -> None:
        share, parts = split(folder)
        current = f"/{share}"
        for part in parts:
            target = self.locate(user, f"{current}/{part}", write=True)
            if not target.real.exists():
                target.real.mkdir()
                self.storage.changed(target.real)
            current = f"{current}/{part}"

    def rename(self, user: str, path: str, new_name: str) -> Entry:
        new_name = normal(new_name)
        if (why := name_problem(new_name)) is not None:
            raise IllegalPathError(f"{new_name!r}: {why}")
        located = self.locate(user, path, write=True)
        if located.real == self.storage.volume / located.share.name:
            raise PermissionDeniedError("rename shared folders in Control Panel")
        if not located.real.exists():
            raise NotFoundError(f"no such file or folder {path!r}")
        target = self.locate(user, f"{path.rsplit('/', 1)[0]}/{new_name}", write=True)
        if target.real.exists():
            raise AlreadyExistsError(f"{target.path} already exists")
        os.rename(located.real, target.real)
        self.storage.renamed(located.real, target.real)
        return self._entry(target, target.real, new_name, target.path)

    async def delete(self, user: str, path: str) -> None:
        located = self.locate(user, path, write=True)
        if located.real == self.storage.volume / located.share.name:
            raise PermissionDeniedError("delete shared folders in Control Panel")
        if not located.real.exists():
            raise NotFoundError(f"no such file or folder {path!r}")
        await offload.run(shutil.rmtree if located.real.is_dir() else os.unlink, located.real)
        self.storage.changed(located.real)

    async def upload(self, user: str, folder: str, name: str, chunks: AsyncIterator[bytes],
                     *, overwrite: bool = False, create_parents: bool = False,
                     expected: int | None = None) -> Entry:
        """Stream an upload to a temporary file beside its target, then rename it in."""
        name = normal(name)
        if (why := name_problem(name)) is not None:
            raise IllegalPathError(f"{name!r}: {why}")
        located = self.locate(user, f"{folder.rstrip('/')}/{name}", write=True)
        if located.real.exists() and not overwrite:
            raise AlreadyExistsError(f"{located.path} already exists")
        if create_parents:
            self._make_parents(user, folder)
        if not located.real.parent.is_dir():
            raise NotFoundError(f"no folder {folder!r}")
        # Space is claimed before it is written, against what every upload in flight has
        # claimed: all of a declared size at once, a chunked body in steps as it arrives.
        claimed = expected if expected is not None else CLAIM_STEP
        if not self.storage.claim(claimed):
            raise NoSpaceError(f"{claimed} bytes do not fit on volume1 (its reserve is kept "
                               "for the system)")
        temporary = located.real.parent / f"@upload-{secrets.token_hex(8)}"
        try:
            with open(temporary, "xb") as sink:
                writer = located.cipher.encryptor(sink) if located.cipher is not None \
                    else sink
                written = 0
                async for block in chunks:
                    written += len(block)
                    if written > claimed:
                        more = max(CLAIM_STEP, written - claimed)
                        if not self.storage.claim(more):
                            raise NoSpaceError("no space left on volume1 (its reserve is "
                                               "kept for the system)")
                        claimed += more
                    writer.write(block)
                if located.cipher is not None:
                    writer.close()
                sink.flush()
                await offload.run(os.fsync, sink.fileno())  # seconds for a large file
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
            self.storage.release(claimed)  # written (so counted as used) or given up
        self.storage.changed(located.real)
        return self._entry(located, located.real, name, located.path)
