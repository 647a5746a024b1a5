"""Log Center's view of an audit entry: its level and its one-line description (pure).
The Web API lists entries with them; log sending sends them."""

from __future__ import annotations

import json

from openstation.config.store import AuditEntry

WARNINGS = ("reset", "remove", "leave", "switchover", "delete", "kick", "full", "alarm",
            "power-off")


def level_of(entry: AuditEntry) -> str:
    """DSM's level of an entry: err (something failed), warn (a reset, a removal), info."""
    detail = json.dumps(entry.detail, default=str).casefold()
    if "fail" in entry.action or '"failed' in detail or "error" in entry.action:
        return "err"
    if any(word in entry.action for word in WARNINGS):
        return "warn"
    return "info"


def describe(entry: AuditEntry) -> str:
    return f"{entry.action} {entry.section} {entry.key}".strip()
