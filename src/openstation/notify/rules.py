"""Which audit entries are notifications, and what they say (pure).

The notifications follow Log Center: every event is an audit entry first. A reset is the
"reset" entry of section "system"; a Hyper Backup result is a change of a task's
`last_result`; Auto Block's block is a new address on its list; an HA switchover, a
shared folder's deleted data and a volume going over its warning percentage are entries of
their own."""

from __future__ import annotations

from openstation.config.sections import BackupResult, NotifyEvent
from openstation.config.store import AuditEntry

FAILED = {BackupResult.FAILED.value, BackupResult.PARTIAL.value}
SUBJECTS = {
    NotifyEvent.RESET: "was reset",
    NotifyEvent.BACKUP_FAILED: "a backup task did not complete",
    NotifyEvent.BACKUP_DONE: "a backup task completed",
    NotifyEvent.HA_SWITCHOVER: "high availability switched over",
    NotifyEvent.AUTOBLOCK: "Auto Block blocked an address",
    NotifyEvent.SHARE_DELETED: "a shared folder's data was deleted",
    NotifyEvent.VOLUME_FULL: "volume 1 is nearly full",
}


def _changed_to(entry: AuditEntry, field: str) -> object:
    change = entry.detail.get(field)
    return change[-1] if isinstance(change, list) and change else None


def classify(entry: AuditEntry) -> NotifyEvent | None:
    """The notification `entry` is, if any."""
    if entry.section == "system" and entry.action == "reset":
        return NotifyEvent.RESET
    if entry.section == "backup_state":
        result = _changed_to(entry, "last_result")
        if result in FAILED:
            return NotifyEvent.BACKUP_FAILED
        if result == BackupResult.DONE.value:
            return NotifyEvent.BACKUP_DONE
        return None
    if entry.section == "ha_cluster" and entry.action == "switchover":
        return NotifyEvent.HA_SWITCHOVER
    if entry.section == "autoblock" and entry.actor == "autoblock" and "block" in entry.detail:
        return NotifyEvent.AUTOBLOCK
    if entry.section == "shares" and entry.action == "delete-data":
        return NotifyEvent.SHARE_DELETED
    if entry.section == "storage" and entry.action == "volume_full":
        return NotifyEvent.VOLUME_FULL
    return None


def message(event: NotifyEvent, entry: AuditEntry, server: str, prefix: str
            ) -> tuple[str, str]:
    """(subject, body) of the notification."""
    subject = f"{prefix} {server}: {SUBJECTS[event]}".strip()
    lines = [f"{server} {SUBJECTS[event]}.", "",
             f"Event: {event.value}", f"By: {entry.actor} ({entry.source})",
             f"What: {entry.section} {entry.key}".rstrip()]
    if event is NotifyEvent.RESET:
        mode = entry.detail.get("mode")
        lines.append(f"Mode: {mode} ({entry.detail.get('trigger', '')})")
    if event in (NotifyEvent.BACKUP_FAILED, NotifyEvent.BACKUP_DONE):
        lines.append(f"Result: {_changed_to(entry, 'last_result')}")
        error = _changed_to(entry, "last_error")
        if error:
            lines.append(f"Error: {error}")
    if event is NotifyEvent.VOLUME_FULL:
        lines.append(f"Used: {entry.detail.get('used_percent')} % "
                     f"(warning at {entry.detail.get('warning_percent')} %)")
    if event is NotifyEvent.AUTOBLOCK:
        block = _changed_to(entry, "block")
        if isinstance(block, list) and block:
            newest = block[-1]
            address = newest.get("address") if isinstance(newest, dict) else newest
            lines.append(f"Address: {address}")
    lines += ["", "Log Center has the full entry."]
    return subject, "\n".join(lines)
