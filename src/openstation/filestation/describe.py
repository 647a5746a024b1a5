"""The `additional` fields of File Station's answers, exactly as DSM names them.

Clients build objects from these with keyword arguments (py-synologydsm-api's models), so
an object here has DSM's keys and no others. Owners are the device's accounts and groups
with the file's uid and gid; an id without one shows as its number, as DSM does.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from openstation.config.sections import Group, User
from openstation.config.store import ConfigStore
from openstation.filestation.service import Item, crtime
from openstation.storage.permissions import READ_ONLY

VOLUME_PATH = "/volume1"
FILE_FIELDS = frozenset({"real_path", "size", "owner", "time", "perm", "mount_point_type",
                         "type"})
SHARE_FIELDS = frozenset({"real_path", "size", "owner", "time", "perm", "mount_point_type",
                          "sync_share", "volume_status"})


def wanted(raw: Any, known: frozenset[str]) -> frozenset[str]:
    """The `additional` fields asked for that exist (a JSON list, or a comma list)."""
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, list):
        return frozenset()
    return frozenset(str(field).strip() for field in raw) & known


@dataclass(frozen=True)
class Owners:
    """Account and group names by id, looked up once for a whole answer."""

    users: Mapping[int, str]
    groups: Mapping[int, str]

    @classmethod
    def of(cls, store: ConfigStore, infos: Iterable[os.stat_result]) -> Owners:
        infos = list(infos)
        return cls(store.keys_by(User, "uid", {i.st_uid for i in infos}),
                   store.keys_by(Group, "gid", {i.st_gid for i in infos}))

    def owner(self, info: os.stat_result) -> dict[str, Any]:
        return {"gid": info.st_gid, "group": self.groups.get(info.st_gid, _nameless(info.st_gid)),
                "uid": info.st_uid, "user": self.users.get(info.st_uid, _nameless(info.st_uid))}


def _nameless(number: int) -> str:
    """An id without a device account: root's is root (as on DSM), others show the number."""
    return "root" if number == 0 else str(number)


def times(item: Item) -> dict[str, int]:
    info = item.info
    return {"atime": int(info.st_atime), "ctime": int(info.st_ctime),
            "crtime": crtime(item.at.real, info), "mtime": int(info.st_mtime)}


def posix(info: os.stat_result) -> int:
    """The mode as DSM writes it: the octal digits read as a decimal number (0o755 → 755)."""
    return int(oct(stat.S_IMODE(info.st_mode))[2:])


def acl(right: str) -> dict[str, bool]:
    writable = right != READ_ONLY
    return {"append": writable, "del": writable, "exec": True, "read": True,
            "write": writable}


def file_type(item: Item) -> str:
    """DSM's `type`: the extension in capitals ("" for folders and names without one)."""
    if item.is_dir or "." not in item.name.lstrip("."):
        return ""
    return item.name.rsplit(".", 1)[1].upper()


def file_json(item: Item, fields: frozenset[str], owners: Owners | None) -> dict[str, Any]:
    """One entry of `list`, `getinfo` and the answers that return files."""
    body: dict[str, Any] = {"isdir": item.is_dir, "name": item.name, "path": item.path}
    if not fields:
        return body
    extra: dict[str, Any] = {}
    if "real_path" in fields:
        extra["real_path"] = real_path(item)
    if "size" in fields:
        extra["size"] = item.size
    if "owner" in fields and owners is not None:
        extra["owner"] = owners.owner(item.info)
    if "time" in fields:
        extra["time"] = times(item)
    if "perm" in fields:
        extra["perm"] = {"acl": acl(item.at.right), "is_acl_mode": False,
                         "posix": posix(item.info)}
    if "mount_point_type" in fields:
        extra["mount_point_type"] = ""
    if "type" in fields:
        extra["type"] = file_type(item)
    body["additional"] = extra
    return body


def share_json(item: Item, fields: frozenset[str], owners: Owners | None,
               space: tuple[int, int] | None) -> dict[str, Any]:
    """One entry of `list_share`."""
    body = file_json(item, fields - {"perm", "size", "type"}, owners)
    if not fields:
        return body
    extra = body.setdefault("additional", {})
    if "perm" in fields:
        readonly = item.at.right == READ_ONLY
        extra["perm"] = {
            "acl": acl(item.at.right), "acl_enable": False,
            "adv_right": {"disable_download": False, "disable_list": False,
                          "disable_modify": False},
            "is_acl_mode": False, "is_share_readonly": readonly,
            "posix": posix(item.info), "share_right": "RO" if readonly else "RW"}
    if "sync_share" in fields:
        extra["sync_share"] = False
    if "volume_status" in fields and space is not None:
        free, total = space
        extra["volume_status"] = {"freespace": free, "totalspace": total, "readonly": False}
    return body


def real_path(item: Item) -> str:
    """Where the entry is on the NAS (for an encrypted share, its mounted plaintext)."""
    return VOLUME_PATH + item.path
