"""Sorting, filtering and paging of File Station listings, as DSM's parameters ask (pure).

`pattern` holds glob patterns separated by commas, matched case-insensitively against
names; a pattern without `*` or `?` matches anywhere in a name. `filetype` is file, dir or
all. `sort_by` is one of DSM's keys; folders come before files under every key, as in
File Station's list.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from openstation.filestation.service import Item

T = TypeVar("T")

SORT_KEYS: dict[str, Callable[[Item], Any]] = {
    "name": lambda i: i.name.lower(),
    "size": lambda i: i.size,
    "user": lambda i: i.info.st_uid,
    "group": lambda i: i.info.st_gid,
    "mtime": lambda i: i.info.st_mtime,
    "atime": lambda i: i.info.st_atime,
    "ctime": lambda i: i.info.st_ctime,
    "crtime": lambda i: min(i.info.st_mtime, i.info.st_ctime),
    "posix": lambda i: i.info.st_mode & 0o7777,
    "type": lambda i: (i.name.rsplit(".", 1)[1].lower() if "." in i.name else ""),
}
FILETYPES = ("all", "file", "dir")


def matcher(pattern: str | None) -> Callable[[str], bool]:
    """Whether a name matches DSM's `pattern` (None or "": everything)."""
    globs = [p.strip() for p in (pattern or "").split(",") if p.strip()]
    if not globs:
        return lambda _name: True
    regexes = [re.compile(fnmatch.translate(g if any(c in g for c in "*?") else f"*{g}*"),
                          re.IGNORECASE | re.DOTALL) for g in globs]
    return lambda name: any(r.match(name) for r in regexes)


def kind_filter(filetype: str) -> Callable[[Item], bool]:
    if filetype == "file":
        return lambda item: not item.is_dir
    if filetype == "dir":
        return lambda item: item.is_dir
    return lambda _item: True


def arrange(items: Sequence[Item], *, sort_by: str = "name", descending: bool = False,
            pattern: str | None = None, filetype: str = "all") -> list[Item]:
    """Filter by name and kind, then sort (folders first) by `sort_by`."""
    name_ok, kind_ok = matcher(pattern), kind_filter(filetype)
    key = SORT_KEYS.get(sort_by, SORT_KEYS["name"])
    kept = [item for item in items if kind_ok(item) and name_ok(item.name)]
    kept.sort(key=lambda i: (key(i), i.name), reverse=descending)
    kept.sort(key=lambda i: not i.is_dir)  # stable: folders first, each group sorted
    return kept


def page(items: Sequence[T], offset: int, limit: int) -> list[T]:
    """DSM's paging: `limit` 0 or -1 means all the rest."""
    return list(items[offset:offset + limit] if limit > 0 else items[offset:])
