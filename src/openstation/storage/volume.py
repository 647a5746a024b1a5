"""The data volume: its marker, and each shared folder's own metadata file.

Each shared folder carries `@share.json` (name, uuid, encrypted, created), so a system
partition wiped by Mode 2 and reinstalled finds its shares again: a plain share in its
folder, an encrypted one in its ciphertext folder `@name@` (its plaintext folder exists only
while mounted). Names starting with `@` are system entries, as on DSM, and never user
folders.
"""

from __future__ import annotations

import json
import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openstation.accounts.policy import name_problem
from openstation.errors import DataDirError
from openstation.files import write_atomic

SHARE_METADATA = "@share.json"
MAX_SHARE_NAME = 32


@dataclass(frozen=True)
class ShareMetadata:
    """What a shared folder records about itself on the volume."""

    name: str
    uuid: str
    encrypted: bool
    created: float
    encryption_header: dict[str, Any] | None = None

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, indent=2).encode()


def share_name_problem(name: str) -> str | None:
    """Why `name` cannot name a shared folder, or None."""
    if (why := name_problem(name)) is not None:
        return why
    if len(name) > MAX_SHARE_NAME:
        return f"must be at most {MAX_SHARE_NAME} characters"
    if name.startswith((".", "@", "#")):
        return "must not start with '.', '@' or '#'"
    return None


def volume_initialised(marker: Path) -> bool:
    """Whether a first install has prepared this volume."""
    return marker.exists()


def initialise_volume(marker: Path, now: float) -> None:
    """Mark an empty volume as prepared (first install only; never rewritten)."""
    if marker.exists():
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    body = {"volume_uuid": str(uuidlib.uuid4()), "created": now}
    write_atomic(marker, json.dumps(body, indent=2).encode(), mode=0o644)


def metadata_folder(volume: Path, name: str, encrypted: bool) -> Path:
    """The folder that holds a share's metadata: its own, or its ciphertext's."""
    return volume / (f"@{name}@" if encrypted else name)


def write_share_metadata(folder: Path, meta: ShareMetadata) -> None:
    """Create or update a share's metadata file inside its folder."""
    write_atomic(folder / SHARE_METADATA, meta.to_json(), mode=0o644)


def read_share_metadata(folder: Path) -> ShareMetadata:
    """A share's own metadata file (OSError, ValueError, KeyError, TypeError if unusable)."""
    raw = json.loads((folder / SHARE_METADATA).read_text())
    return ShareMetadata(name=str(raw["name"]), uuid=str(raw["uuid"]),
                         encrypted=bool(raw["encrypted"]), created=float(raw["created"]),
                         encryption_header=raw.get("encryption_header"))


def scan_shares(volume: Path) -> tuple[list[ShareMetadata], list[str]]:
    """Shares found on the volume, and a line per folder whose metadata is unreadable."""
    found: list[ShareMetadata] = []
    problems: list[str] = []
    if not volume.is_dir():
        raise DataDirError(f"volume {volume} is missing")
    for folder in sorted(volume.iterdir()):
        meta_file = folder / SHARE_METADATA
        if folder.is_symlink() or not folder.is_dir() or not meta_file.is_file():
            continue
        try:
            meta = read_share_metadata(folder)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{folder.name}: unreadable {SHARE_METADATA} ({exc})")
            continue
        if metadata_folder(volume, meta.name, meta.encrypted).name != folder.name:
            problems.append(f"{folder.name}: metadata names another share ({meta.name!r})")
            continue
        found.append(meta)
    return found, problems
