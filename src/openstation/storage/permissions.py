"""Shared-folder permissions: what a user may do in a share (pure).

As on DSM, "No access" wins over any grant; otherwise read/write wins over read only.
Entries name a principal: "user:alice" or "group:administrators".
"""

from __future__ import annotations

from collections.abc import Mapping

READ_WRITE, READ_ONLY, NO_ACCESS = "rw", "ro", "na"
LEVELS = (READ_WRITE, READ_ONLY, NO_ACCESS)


def access(permissions: Mapping[str, str], user: str, groups: list[str]) -> str:
    """The effective right of `user` (member of `groups`) under `permissions`."""
    principals = [f"user:{user}", *(f"group:{group}" for group in groups)]
    granted = {permissions[p] for p in principals if p in permissions}
    if NO_ACCESS in granted:
        return NO_ACCESS
    if READ_WRITE in granted:
        return READ_WRITE
    if READ_ONLY in granted:
        return READ_ONLY
    return NO_ACCESS
