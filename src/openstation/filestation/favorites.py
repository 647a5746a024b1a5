"""A user's File Station favourites (collection `favorites`, one record per user)."""

from __future__ import annotations

from typing import Any

from openstation.config.sections import FavoriteEntry, Favorites
from openstation.config.store import ConfigStore
from openstation.errors import ApiError, OpenStationError, ValidationError
from openstation.filestation import codes
from openstation.filestation.service import FileStation, Item
from openstation.names import normal

LIMIT = 200  # favourites a user may keep (802 past it)
NAME_MAX = 255


class FavoritesService:
    def __init__(self, store: ConfigStore, files: FileStation) -> None:
        self.store = store
        self.files = files

    def entries(self, user: str) -> list[FavoriteEntry]:
        record = self.store.record(Favorites, user)
        return list(record.entries) if record is not None else []

    def resolve(self, user: str, entry: FavoriteEntry) -> Item | None:
        """What a favourite leads to now (None: broken)."""
        try:
            item = self.files.stat(user, entry.path)
        except (OpenStationError, OSError):
            return None
        return item if item.is_dir else None

    def add(self, user: str, path: str, name: str, index: int = -1) -> None:
        item = self.files.stat(user, path)
        entries = self.entries(user)
        if any(e.path == item.path for e in entries):
            raise ApiError(codes.FAVORITE_EXISTS)
        name = _name(name)
        if any(e.name == name for e in entries):
            raise ApiError(codes.FAVORITE_NAME_CONFLICT)
        if len(entries) >= LIMIT:
            raise ApiError(codes.TOO_MANY_FAVORITES)
        entry = FavoriteEntry(item.path, name)
        if 0 <= index < len(entries):
            entries.insert(index, entry)
        else:
            entries.append(entry)
        self._save(user, entries)

    def delete(self, user: str, path: str) -> None:
        entries = self.entries(user)
        kept = [e for e in entries if e.path != path.rstrip("/")]
        if len(kept) == len(entries):
            raise ApiError(codes.NO_SUCH_FILE)
        self._save(user, kept)

    def edit(self, user: str, path: str, name: str) -> None:
        entries = self.entries(user)
        name = _name(name)
        found = [e for e in entries if e.path == path.rstrip("/")]
        if not found:
            raise ApiError(codes.NO_SUCH_FILE)
        if any(e.name == name and e.path != found[0].path for e in entries):
            raise ApiError(codes.FAVORITE_NAME_CONFLICT)
        found[0].name = name
        self._save(user, entries)

    def replace_all(self, user: str, paths: list[str], names: list[str]) -> None:
        if len(paths) != len(names):
            raise ValidationError({"name": "one name for each path"})
        if len(paths) > LIMIT:
            raise ApiError(codes.TOO_MANY_FAVORITES)
        entries = [FavoriteEntry(self.files.stat(user, p).path, _name(n))
                   for p, n in zip(paths, names, strict=True)]
        if len({e.path for e in entries}) != len(entries):
            raise ApiError(codes.FAVORITE_EXISTS)
        if len({e.name for e in entries}) != len(entries):
            raise ApiError(codes.FAVORITE_NAME_CONFLICT)
        self._save(user, entries)

    def clear_broken(self, user: str) -> None:
        self._save(user, [e for e in self.entries(user) if self.resolve(user, e) is not None])

    def _save(self, user: str, entries: list[FavoriteEntry]) -> None:
        with self.store.transaction(user) as tx:
            tx.put_record(Favorites(user=user, entries=entries))

    def listing(self, user: str) -> list[tuple[FavoriteEntry, Item | None]]:
        return [(entry, self.resolve(user, entry)) for entry in self.entries(user)]


def _name(name: str) -> str:
    name = normal(name.strip())
    if not name or len(name) > NAME_MAX or any(c in name for c in "\x00/"):
        raise ApiError(codes.INVALID_PARAMETER)
    return name


def favorite_json(entry: FavoriteEntry, item: Item | None) -> dict[str, Any]:
    return {"path": entry.path, "name": entry.name, "isdir": item is not None,
            "status": "valid" if item is not None else "broken"}
