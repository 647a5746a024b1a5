"""Shared-folder permissions: what a user may do in a share (pure).

As on DSM, "No access" wins over any grant; otherwise read/write wins over read only.
Rights are stored keyed by account and group id ("uid:1026", "gid:100"), so renaming a user
keeps their rights and a new account never inherits a deleted one's. People and clients name
principals ("user:alice", "group:administrators"); `by_id` and `by_name` translate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

READ_WRITE, READ_ONLY, NO_ACCESS = "rw", "ro", "na"
LEVELS = (READ_WRITE, READ_ONLY, NO_ACCESS)
KINDS = {"user": "uid", "group": "gid"}

Lookup = Callable[[str], int | None]  # a name → its id (None: no such account or group)


def access(permissions: Mapping[str, str], uid: int, gids: list[int]) -> str:
    """The effective right of account `uid` (member of groups `gids`) under `permissions`."""
    principals = [f"uid:{uid}", *(f"gid:{gid}" for gid in gids)]
    granted = {permissions[p] for p in principals if p in permissions}
    if NO_ACCESS in granted:
        return NO_ACCESS
    if READ_WRITE in granted:
        return READ_WRITE
    if READ_ONLY in granted:
        return READ_ONLY
    return NO_ACCESS


def by_id(permissions: Mapping[str, str], uid_of: Lookup, gid_of: Lookup
          ) -> tuple[dict[str, str], dict[str, str]]:
    """(rights keyed by id, problems) from entries naming "user:NAME" or "group:NAME" (or
    already "uid:N" / "gid:N", as a backup holds them)."""
    keyed: dict[str, str] = {}
    problems: dict[str, str] = {}
    for principal, level in permissions.items():
        kind, _, who = principal.partition(":")
        where = f"permissions.{principal}"
        if level not in LEVELS:
            problems[where] = "rw, ro or na"
        elif (why := principal_problem(principal)) is not None:
            problems[where] = why
        elif kind in KINDS.values():
            keyed[f"{kind}:{int(who)}"] = level
        elif (found := (uid_of if kind == "user" else gid_of)(who)) is None:
            problems[where] = f"there is no {kind} named {who!r}"
        else:
            keyed[f"{KINDS[kind]}:{found}"] = level
    return keyed, problems


def principal_problem(principal: str) -> str | None:
    """Why `principal` names no account or group ("user:NAME", "group:NAME", "uid:N",
    "gid:N"), or None."""
    kind, _, who = principal.partition(":")
    if kind in KINDS.values() and who.isdigit():
        return None
    if kind in KINDS and who:
        return None
    return "principals are user:NAME or group:NAME"


def by_name(permissions: Mapping[str, str], owners: Mapping[str, str]) -> dict[str, str]:
    """Rights as people read them ("user:alice"), `owners` naming each id ("uid:1026":
    "alice"); an id without an account stays an id."""
    kinds = {kind: name for name, kind in KINDS.items()}
    return {f"{kinds[key.partition(':')[0]]}:{owners[key]}" if key in owners else key: level
            for key, level in permissions.items()}
