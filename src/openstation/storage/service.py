"""The storage service: shared folders registered in the store and present on volume1."""

from __future__ import annotations

import uuid as uuidlib
from pathlib import Path

from openstation.config.sections import Share
from openstation.config.store import ConfigStore, Transaction
from openstation.errors import ValidationError
from openstation.storage.volume import (
    ShareMetadata,
    scan_shares,
    share_name_problem,
    write_share_metadata,
)


class StorageService:
    """Shared folders: creation and re-registration after a reinstall."""

    def __init__(self, store: ConfigStore, volume: Path) -> None:
        self.store = store
        self.volume = volume

    def create_share(self, name: str, *, actor: str, description: str = "") -> Share:
        """Create a plain shared folder on volume1 and register it."""
        problems: dict[str, str] = {}
        if (why := share_name_problem(name)) is not None:
            problems["name"] = why
        elif self.store.record(Share, name) is not None or (self.volume / name).exists():
            problems["name"] = f"a shared folder named {name!r} already exists"
        if problems:
            raise ValidationError(problems)
        now = self.store.clock()
        share = Share(name=name, uuid=str(uuidlib.uuid4()), description=description,
                      created=now, permissions={"group:administrators": "rw"})
        folder = self.volume / name
        folder.mkdir(mode=0o755)
        write_share_metadata(folder, ShareMetadata(name, share.uuid, False, now))
        with self.store.transaction(actor) as tx:
            tx.put_record(share)
        return share

    def register_from_volume(self, tx: Transaction) -> tuple[list[str], list[str]]:
        """Register every share found on volume1 that the store lacks (reinstall).

        Reads metadata only; never writes to the volume. Returns the names registered and
        a line per folder that could not be.
        """
        found, problems = scan_shares(self.volume)
        registered: list[str] = []
        for meta in found:
            if tx.record(Share, meta.name) is not None:
                continue
            tx.put_record(Share(name=meta.name, uuid=meta.uuid, encrypted=meta.encrypted,
                                created=meta.created,
                                permissions={"group:administrators": "rw"}))
            registered.append(meta.name)
        return registered, problems
