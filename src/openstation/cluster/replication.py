"""What a High Availability pair replicates, and how the passive applies it: configuration
rows, and volume1 at file level.

The active logs every write made through the device (a path changed, a path renamed) and
ships the path's current state; the passive applies it. A file arrives in a temporary file
on the same volume and is renamed into place only when its SHA-256 matches, so the passive
holds the old or the new file, never half of one. After a disconnection the passive is
compared with the active by a manifest (kind, size, SHA-256 per path) and brought in line;
files only the passive has are moved to @ha-conflicts, never deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from openstation.config.sections import COLLECTIONS
from openstation.config.store import ConfigStore, RowChange
from openstation.errors import ReplicationError
from openstation.files import fsync_dir
from openstation.storage.gocrypt import LONGNAME, cipher_dir, is_cipher_dir

# The configuration the passive mirrors: not the node's own identity, network, secrets sealed
# with its machine key (PPPoE password, Key Manager entries) nor the cluster memberships.
REPLICATED: frozenset[str] = frozenset({
    "ports", "firewall", "autoblock", "password_policy", "login", "config_backup",
    "file_services", "upgrade", "task_output",
    "users", "groups", "shares", "firewall_rules", "sharing_links", "favorites",
    "scheduled_tasks"})
REPLICATED_COLLECTIONS = tuple(cls for cls in COLLECTIONS if cls.section in REPLICATED)

INCOMING = "@ha-incoming"
CONFLICTS = "@ha-conflicts"
CHUNK = 1 << 20


def replicated(rel: PurePosixPath) -> bool:
    """Shared folders and everything in them (an encrypted one's ciphertext, `@name@`), but
    not the device's own @ folders nor unfinished uploads."""
    parts = rel.parts
    if not parts or (parts[0].startswith(("@", ".")) and not is_cipher_dir(parts[0])):
        return False
    return not any(part.startswith("@upload-") for part in parts)


def crosses_encryption(src: str, dst: str) -> bool:
    """Whether a rename moved a file between an encrypted share's ciphertext and another
    share (a WebDAV MOVE does): what arrives is other bytes, not the same file renamed."""
    top_src, top_dst = src.split("/", 1)[0], dst.split("/", 1)[0]
    return top_src != top_dst and (is_cipher_dir(top_src) or is_cipher_dir(top_dst))


def companions(rel: str) -> list[str]:
    """What must travel with a ciphertext path: gocryptfs keeps a name too long to encrypt
    in place in a `.name` file beside its `gocryptfs.longname.` entry."""
    leaf = rel.rsplit("/", 1)[-1]
    return [f"{rel}.name"] if leaf.startswith(LONGNAME) and not leaf.endswith(".name") \
        else []


def relative(volume: Path, path: Path) -> PurePosixPath | None:
    """`path` relative to the volume, if it is inside it and replicated."""
    try:
        rel = PurePosixPath(path.relative_to(volume).as_posix())
    except ValueError:
        return None
    return rel if replicated(rel) else None


def checked(volume: Path, rel_text: str) -> Path:
    """The real path for a relative path a peer sent; refuses escapes and @ folders."""
    rel = PurePosixPath(rel_text)
    if rel.is_absolute() or ".." in rel.parts or "\x00" in rel_text or not replicated(rel):
        raise ReplicationError(f"refused path {rel_text!r}")
    return volume / rel


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Item:
    kind: str  # "dir" or "file"
    size: int
    sha256: str


class Manifest:
    """Paths of a volume with their checksums; checksums are cached by (size, mtime)."""

    def __init__(self, volume: Path) -> None:
        self.volume = volume
        self._cache: dict[str, tuple[int, int, str]] = {}

    def walk(self, under: Path | None = None) -> Iterator[tuple[str, Path]]:
        """(relative path, path) of everything replicated, below `under` if given."""
        start = under or self.volume
        if not start.is_dir():
            return
        for root, dirs, files in os.walk(start):
            base = Path(root)
            dirs.sort()
            for name in [*dirs, *sorted(files)]:
                path = base / name
                rel = relative(self.volume, path)
                # The device's own @ folders are not walked, nor an encrypted share's mount
                # point, mounted or not: its plaintext never travels (its ciphertext,
                # @name@, does). A dead mount (ENOTCONN) is skipped, not a failure.
                try:
                    skipped = rel is None or path.is_symlink() or (
                        base == self.volume and (cipher_dir(base, name).is_dir()
                                                 or os.path.ismount(path)))
                except OSError:
                    skipped = True
                if skipped or rel is None:
                    if name in dirs and base == self.volume:
                        dirs.remove(name)
                    continue
                yield rel.as_posix(), path

    def items(self) -> dict[str, Item]:
        found: dict[str, Item] = {}
        for rel, path in self.walk():
            found[rel] = self.item(rel, path)
        return found

    def item(self, rel: str, path: Path) -> Item:
        info = path.stat()
        if path.is_dir():
            return Item("dir", 0, "")
        cached = self._cache.get(rel)
        if cached is not None and cached[:2] == (info.st_size, info.st_mtime_ns):
            return Item("file", info.st_size, cached[2])
        digest = sha256_file(path)
        self._cache[rel] = (info.st_size, info.st_mtime_ns, digest)
        return Item("file", info.st_size, digest)


def to_json(items: dict[str, Item]) -> dict[str, Any]:
    return {rel: [item.kind, item.size, item.sha256] for rel, item in items.items()}


def from_json(raw: dict[str, Any]) -> dict[str, Item]:
    return {str(rel): Item(str(v[0]), int(v[1]), str(v[2])) for rel, v in raw.items()}


@dataclass(frozen=True)
class Plan:
    """What makes the passive's volume equal to the active's."""

    mkdirs: list[str]
    files: list[str]  # ship these from the active
    extras: list[str]  # only on the passive: moved to @ha-conflicts


def plan(active: dict[str, Item], passive: dict[str, Item]) -> Plan:
    mkdirs = sorted(rel for rel, item in active.items()
                    if item.kind == "dir" and passive.get(rel) != item)
    files = sorted(rel for rel, item in active.items()
                   if item.kind == "file" and passive.get(rel) != item)
    extras = [rel for rel, item in passive.items()
              if rel not in active or active[rel].kind != item.kind]
    # Outermost first: moving a folder moves what is inside it.
    kept: list[str] = []
    for rel in sorted(extras):
        if not any(rel.startswith(f"{outer}/") for outer in kept):
            kept.append(rel)
    return Plan(mkdirs, files, kept)


# --- the passive's side -------------------------------------------------------------------

def incoming(volume: Path) -> Path:
    folder = volume / INCOMING
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def clear_incoming(volume: Path) -> None:
    """Half-received files of a transfer the power or the peer cut off."""
    shutil.rmtree(volume / INCOMING, ignore_errors=True)


class Receiver:
    """One file arriving: written to @ha-incoming, checked, then renamed into place."""

    def __init__(self, volume: Path, rel: str, sha256: str) -> None:
        self.volume = volume
        self.target = checked(volume, rel)
        self.expected = sha256
        self.temporary = incoming(volume) / secrets.token_hex(8)
        self._handle = open(self.temporary, "xb")  # noqa: SIM115 - closed in finish/abort
        self._digest = hashlib.sha256()

    def write(self, block: bytes) -> None:
        self._handle.write(block)
        self._digest.update(block)

    def finish(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        if self._digest.hexdigest() != self.expected:
            self.abort()
            raise ReplicationError(f"checksum mismatch for {self.target.name}")
        self.target.parent.mkdir(parents=True, exist_ok=True)
        if self.target.is_dir():
            move_to_conflicts(self.volume, self.target)
        os.replace(self.temporary, self.target)
        fsync_dir(self.target.parent)

    def abort(self) -> None:
        self._handle.close()
        with contextlib.suppress(FileNotFoundError):
            self.temporary.unlink()


def apply_mkdir(volume: Path, rel: str) -> None:
    target = checked(volume, rel)
    if target.exists() and not target.is_dir():
        move_to_conflicts(volume, target)
    target.mkdir(parents=True, exist_ok=True)


def apply_remove(volume: Path, rel: str) -> None:
    """An explicit delete made through the active: applied as a delete."""
    target = checked(volume, rel)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    else:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()


def apply_rename(volume: Path, src: str, dst: str) -> bool:
    """Rename as the active did; False when the passive lacks the source."""
    source, target = checked(volume, src), checked(volume, dst)
    if not source.exists() or target.exists():
        return False
    # A recycle bin's folders are made by the move itself (storage/recycle.py)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    os.rename(source, target)
    return True


def move_to_conflicts(volume: Path, path: Path) -> Path:
    """Keep what only this server had (a split brain's writes) out of the way."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    rel = path.relative_to(volume) if path.is_relative_to(volume) else Path(path.name)
    target = volume / CONFLICTS / stamp / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    return target


def apply_extras(volume: Path, extras: list[str]) -> None:
    for rel in extras:
        path = checked(volume, rel)
        if path.exists() or path.is_symlink():
            move_to_conflicts(volume, path)


# --- the passive's configuration ----------------------------------------------------------

def _only_replicated(rows: list[RowChange]) -> None:
    if any(row.section not in REPLICATED for row in rows):
        raise ReplicationError("a row outside the replicated sections")


def apply_rows(store: ConfigStore, rows: list[RowChange]) -> None:
    """One committed change of the active, as one transaction here."""
    _only_replicated(rows)
    with store.transaction("ha-replication", "high-availability") as tx:
        for row in rows:
            tx.apply_row(row)


def replace_config(store: ConfigStore, rows: list[RowChange]) -> None:
    """The active's whole replicated configuration, replacing ours in one transaction."""
    _only_replicated(rows)
    sent = {(row.section, row.key) for row in rows}
    with store.transaction("ha-replication", "high-availability") as tx:
        for cls in REPLICATED_COLLECTIONS:
            for key in store.record_keys(cls.section):
                if (cls.section, key) not in sent:
                    tx.apply_row(RowChange(cls.section, key, None, False))
        for row in rows:
            tx.apply_row(row)
