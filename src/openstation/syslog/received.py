"""The logs other devices send here (Log Center's receiving role), kept in their own SQLite
file on the system partition (`system/received-logs.db`), bounded: past MAX_ROWS the oldest
go. Blocking: callers run these off the loop (the server writes in batches)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

MAX_ROWS = 100_000
FIELDS = ("received", "source", "host", "severity", "facility", "app", "message")
SCHEMA = """
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, received REAL, source TEXT, host TEXT,
    severity TEXT, facility INTEGER, app TEXT, message TEXT);
CREATE INDEX IF NOT EXISTS logs_host ON logs (host, id);
"""


class ReceivedLogs:
    def __init__(self, path: Path, max_rows: int = MAX_ROWS) -> None:
        self.path = path
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, check_same_thread=False)
            self.path.chmod(0o600)
            self._conn.executescript(SCHEMA)
            self._conn.execute("PRAGMA journal_mode=WAL")
        return self._conn

    def add(self, entries: list[dict[str, Any]]) -> None:
        with self._lock:
            db = self._db()
            with db:
                db.executemany(
                    f"INSERT INTO logs ({', '.join(FIELDS)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [tuple(entry[f] for f in FIELDS) for entry in entries])
                db.execute("DELETE FROM logs WHERE id <= (SELECT MAX(id) FROM logs) - ?",
                           (self.max_rows,))

    def listed(self, *, limit: int, offset: int = 0, host: str | None = None
               ) -> tuple[list[dict[str, Any]], int]:
        """Newest first, and how many are kept (of `host`, if given)."""
        with self._lock:
            db = self._db()
            where, params = ("WHERE host = ?", [host]) if host else ("", [])
            rows = db.execute(f"SELECT id, {', '.join(FIELDS)} FROM logs {where} "
                              "ORDER BY id DESC LIMIT ? OFFSET ?",
                              [*params, limit, offset]).fetchall()
            total = db.execute(f"SELECT COUNT(*) FROM logs {where}", params).fetchone()[0]
        return [dict(zip(("id", *FIELDS), row, strict=True)) for row in rows], int(total)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
