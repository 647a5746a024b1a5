"""Who may do what, as DSM's clients manage it: SYNO.Core.Share.Permission (a share's
rights per user or group, and a group's rights on every share), SYNO.Core.Group.Member
(a group's members) and SYNO.Core.User.Group (an account's groups). The rights are the
ones every protocol enforces (storage/permissions.py); changes go through the services."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from openstation.accounts.service import AccountService
from openstation.config.sections import Group, Right, Share, User
from openstation.errors import NotFoundError, ValidationError
from openstation.storage.service import StorageService
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry
from openstation.webapi.shares import flag

KINDS = {"local_user": "user", "local_group": "group", "system": "user"}
MAX_NAMES = 1000  # names in one change


def flags(right: str | None) -> dict[str, bool]:
    """A right as DSM's permission flags (no explicit right: all false)."""
    return {"is_writable": right == Right.READ_WRITE.value,
            "is_readonly": right == Right.READ_ONLY.value,
            "is_deny": right == Right.NO_ACCESS.value, "is_custom": False}


def right_of(item: dict[str, Any]) -> str | None:
    """DSM's flags as a right (deny wins, as it does when rights are combined); a flag
    that is no true/false is refused."""
    if flag(item.get("is_deny")):
        return Right.NO_ACCESS.value
    if flag(item.get("is_writable")):
        return Right.READ_WRITE.value
    if flag(item.get("is_readonly")):
        return Right.READ_ONLY.value
    return None


def inherited(permissions: Mapping[str, str], gids: list[int]) -> str:
    """What a user's groups give them in a share, as DSM's `inherit` shows it: "-" for
    nothing, else na (a group denies), rw or ro."""
    granted = {permissions[f"gid:{gid}"] for gid in gids if f"gid:{gid}" in permissions}
    for right in (Right.NO_ACCESS.value, Right.READ_WRITE.value, Right.READ_ONLY.value):
        if right in granted:
            return right
    return "-"


def register(registry: Registry, accounts: AccountService, storage: StorageService) -> None:
    store = storage.store

    def kind_of(call: ApiCall) -> str:
        kind = call.params.get("user_group_type", "local_user")
        if kind not in KINDS:
            raise ValidationError({"user_group_type": "local_user, local_group or system"})
        return KINDS[kind]

    def items(call: ApiCall, name: str, kind: str, substr: str = "") -> list[dict[str, Any]]:
        share = storage.share(name)
        rights = storage.named(share)
        admins = set(accounts.administrators())
        found: list[dict[str, Any]] = []
        if kind == "user":
            gids: dict[str, list[int]] = {}
            for group in accounts.groups():  # once: a group's members decode once
                for member in group.members:
                    gids.setdefault(member, []).append(group.gid)
            for user in accounts.users():
                if substr and substr.casefold() not in user.name.casefold():
                    continue
                found.append({"name": user.name, "is_admin": user.name in admins,
                              **flags(rights.get(f"user:{user.name}")),
                              "inherit": inherited(share.permissions,
                                                   gids.get(user.name, []))})
        else:
            for group in accounts.groups():
                if substr and substr.casefold() not in group.name.casefold():
                    continue
                found.append({"name": group.name, "is_admin": group.name == "administrators",
                              **flags(rights.get(f"group:{group.name}")), "inherit": "-"})
        return found

    async def share_list(call: ApiCall) -> dict[str, Any]:
        substr = call.params.get("substr", "") if call.params.get("action") == "find" else ""
        found = items(call, call.param("name"), kind_of(call), substr)
        offset = call.int_param("offset", 0)
        limit = call.int_param("limit", 50, low=1, high=100_000)
        return {"items": found[offset:offset + limit], "total": len(found)}

    def changed_rights(share: Share, kind: str, wanted: list[dict[str, Any]]
                       ) -> dict[str, str]:
        """The share's rights with `wanted` (names and flags) applied; rights of accounts
        or groups that no longer exist are dropped."""
        if len(wanted) > MAX_NAMES:
            raise ValidationError({"permissions": f"at most {MAX_NAMES} at once"})
        rights = {k: v for k, v in storage.named(share).items()
                  if not k.startswith(("uid:", "gid:"))}
        for n, item in enumerate(wanted):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str) or store.record(
                    User if kind == "user" else Group, name) is None:
                raise ValidationError({f"permissions[{n}]": f"no {kind} named {name!r}"})
            right = right_of(item)
            if right is None:
                rights.pop(f"{kind}:{name}", None)
            else:
                rights[f"{kind}:{name}"] = right
        return rights

    def listed(call: ApiCall) -> list[dict[str, Any]]:
        wanted = call.json_param("permissions", [])
        if not isinstance(wanted, list):
            raise ValidationError({"permissions": "a list of {name, is_writable, "
                                                  "is_readonly, is_deny}"})
        return wanted

    async def share_set(call: ApiCall) -> dict[str, Any]:
        share = storage.share(call.param("name"))
        rights = changed_rights(share, kind_of(call), listed(call))
        storage.set_share(share.name, actor=str(call.session.user), permissions=rights)
        return {}

    async def by_group(call: ApiCall) -> dict[str, Any]:
        """Every share's right for one user or group."""
        kind, name = kind_of(call), call.param("name")
        if store.record(User if kind == "user" else Group, name) is None:
            raise NotFoundError(f"no {kind} named {name!r}")
        shares = []
        for share in storage.shares():
            shares.append({"name": share.name, "share_path": f"/volume1/{share.name}",
                           **flags(storage.named(share).get(f"{kind}:{name}")),
                           "is_aclmode": False, "is_mask": False, "is_sync_share": False,
                           "is_unite_permission": False,
                           "hidden": share.hidden, "encryption": int(share.encrypted)})
        return {"shares": shares, "total": len(shares)}

    async def set_by_group(call: ApiCall) -> dict[str, Any]:
        """One user's or group's rights on several shares (all checked first)."""
        kind, name = kind_of(call), call.param("name")
        if store.record(User if kind == "user" else Group, name) is None:
            raise NotFoundError(f"no {kind} named {name!r}")
        changes = []
        for n, item in enumerate(listed(call)):
            share_name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(share_name, str) or store.record(Share, share_name) is None:
                raise ValidationError({f"permissions[{n}]": f"no shared folder {share_name!r}"})
            share = storage.share(share_name)
            changes.append((share.name, changed_rights(share, kind, [{**item, "name": name}])))
        with store.transaction(str(call.session.user)):  # all shares, or none
            for share_name, rights in changes:
                storage.set_share(share_name, actor=str(call.session.user),
                                  permissions=rights)
        return {}

    async def members(call: ApiCall) -> dict[str, Any]:
        group = store.record(Group, call.param("group"))
        if group is None:
            raise NotFoundError(f"no group named {call.params['group']!r}")
        inside, members = call.bool_param("ingroup"), set(group.members)
        users = [{"name": u.name, "uid": u.uid, "description": u.description}
                 for u in accounts.users() if (u.name in members) == (inside is not False)]
        offset = call.int_param("offset", 0)
        limit = call.int_param("limit", 100_000, low=1, high=100_000)
        return {"offset": offset, "total": len(users), "users": users[offset:offset + limit]}

    async def change(call: ApiCall) -> dict[str, Any]:
        add, remove = call.json_param("add_member", []), call.json_param("remove_member", [])
        if not isinstance(add, list) or not isinstance(remove, list) or \
                len(add) + len(remove) > MAX_NAMES:
            raise ValidationError({"add_member": f"lists of at most {MAX_NAMES} names"})
        accounts.change_members(call.param("group"), actor=str(call.session.user),
                                add=add, remove=remove)
        return {}

    joins: dict[str, dict[str, Any]] = {}  # finished join tasks, newest kept

    async def join(call: ApiCall) -> dict[str, Any]:
        """An account joins and leaves groups (DSM answers with a task to poll; here the
        task has finished when it answers)."""
        name = call.param("name")
        user = store.record(User, name)
        if user is None:
            raise NotFoundError(f"no account named {name!r}")
        wanted = {"join": call.json_param("join_group", []),
                  "leave": call.json_param("leave_group", [])}
        if not all(isinstance(v, list) and all(isinstance(g, str) for g in v)
                   for v in wanted.values()):
            raise ValidationError({"join_group": "a list of group names"})
        joining, leaving = set(wanted["join"]), set(wanted["leave"])
        touched = list(dict.fromkeys([*wanted["join"], *wanted["leave"]]))
        if len(touched) > MAX_NAMES:
            raise ValidationError({"join_group": f"at most {MAX_NAMES} groups at once"})
        accounts.change_memberships(
            [(g, [name] if g in joining else [], [name] if g in leaving else [])
             for g in touched], actor=str(call.session.user))
        task_id = f"@administrators/groupbatch{secrets.token_hex(8).upper()}"
        if len(joins) >= 64:
            joins.pop(next(iter(joins)))
        joins[task_id] = {"auto_remove": False, "finish": True, "success": True,
                          "data": {"name": name, "uid": user.uid, "progress": len(touched),
                                   "total": len(touched)},
                          "info": {"api": "SYNO.Core.User.Group", "method": "join",
                                   "prefix": "groupbatch", "version": 1}}
        return {"task_id": task_id}

    async def join_status(call: ApiCall) -> dict[str, Any]:
        found = joins.get(call.param("task_id"))
        if found is None:
            raise NotFoundError("no such join task")
        return found

    async def user_groups(call: ApiCall) -> dict[str, Any]:
        name = call.param("name")
        if store.record(User, name) is None:
            raise NotFoundError(f"no account named {name!r}")
        groups = [{"name": g.name, "gid": g.gid, "description": g.description}
                  for g in accounts.groups() if name in g.members]
        return {"groups": groups, "total": len(groups)}

    apis: dict[str, dict[str, Handler]] = {
        "SYNO.Core.Share.Permission": {"list": share_list, "set": share_set,
                                       "list_by_group": by_group,
                                       "set_by_user_group": set_by_group},
        "SYNO.Core.Group.Member": {"list": members, "change": change},
        "SYNO.Core.User.Group": {"list": user_groups, "join": join,
                                 "join_status": join_status},
    }
    for name, methods in apis.items():
        registry.add(Api(name, "entry.cgi", 1, 1, methods,
                         changes=frozenset({"set", "set_by_user_group", "change", "join"}),
                         admin=frozenset(methods)))
