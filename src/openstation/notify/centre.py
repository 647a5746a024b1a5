"""The notification centre (the desktop's bell): the events a person should see — the
notifications' events, a scheduled task that failed, a Resource Monitor alarm, the power
schedule — from the audit log, like Log Center; and, per account, the newest one it has
seen, so the bell can count what is unread. Administrators see it, as on DSM.

The read marks are the device's own state, not configuration: a small JSON file in
system/, written when an account opens the list."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from openstation.config.store import AuditEntry, ConfigStore
from openstation.files import write_atomic
from openstation.notify import rules

SCAN = 300  # the newest audit entries looked through
SHOWN = 50
CACHE_SECONDS = 2.0  # every page shows the count: the log is read at most this often


def headline(entry: AuditEntry) -> tuple[str, str] | None:
    """(level, what happened) for an entry the centre shows (pure); None for the rest."""
    event = rules.classify(entry)
    if event is not None:
        text = rules.SUBJECTS[event]
        bad = event.value not in ("backup_done",)
        return ("warn" if bad else "info"), text[0].upper() + text[1:]
    if entry.section == "scheduled_tasks" and entry.action == "run-failed":
        return "err", f"Scheduled task {entry.detail.get('name', entry.key)} failed"
    if entry.section == "resource_monitor" and entry.action == "alarm":
        return "warn", (f"Resource Monitor alarm: {entry.detail.get('metric')} at "
                        f"{entry.detail.get('value')} (over {entry.detail.get('threshold')})")
    if entry.section == "power_schedule" and entry.action in ("power-on", "power-off"):
        return "info", ("Powered on" if entry.action == "power-on" else "Powered off") + \
            " by the power schedule"
    return None


class Centre:
    def __init__(self, store: ConfigStore, marks: Path) -> None:
        self.store = store
        self.path = marks  # system/notifications-read.json
        self.marks: dict[str, int] = {}
        self._cached: tuple[float, list[dict[str, Any]]] = (-CACHE_SECONDS, [])
        self._newest = 0  # the newest audit entry looked at
        self._keeping = threading.Lock()

    def load(self) -> None:
        """(At boot, in a worker thread.) The marks kept; anything unreadable: none."""
        try:
            raw = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        if isinstance(raw, dict):
            self.marks = {str(k): v for k, v in raw.items() if isinstance(v, int)}

    def items(self) -> list[dict[str, Any]]:
        """The newest notable entries, newest first. Only entries added since the last
        look are read (so a busy log — a task run every minute — cannot push an event out
        of the bell before it is shown, unless SCAN entries come within CACHE_SECONDS)."""
        now = time.monotonic()
        if now - self._cached[0] < CACHE_SECONDS:
            return self._cached[1]
        fresh = self.store.audit_log(limit=SCAN, after_id=self._newest)
        found = []
        for entry in fresh:
            shown = headline(entry)
            if shown is not None:
                found.append({"id": entry.id, "at": entry.at, "level": shown[0],
                              "text": shown[1], "by": entry.actor})
        if fresh:
            self._newest = fresh[0].id
        items = (found + self._cached[1])[:SHOWN]
        self._cached = (now, items)
        return items

    def unread(self, user: str) -> int:
        seen = self.marks.get(user, 0)
        return sum(1 for item in self.items() if item["id"] > seen)

    def read(self, user: str) -> bool:
        """Everything shown is read by `user`; whether the marks changed (to be kept)."""
        newest = max((item["id"] for item in self.items()), default=0)
        if newest <= self.marks.get(user, 0):
            return False
        self.marks[user] = newest
        return True

    def keep(self, text: str) -> None:
        """(A worker thread.) `text`: the marks, dumped on the loop."""
        with self._keeping:  # two administrators opening the list at once
            write_atomic(self.path, text.encode(), 0o600)
