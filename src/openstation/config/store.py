"""The configuration store: one SQLite file, typed sections, transactions, an audit log.

Every change to the configuration goes through `ConfigStore.transaction()`; the audit
entries of a change are written in the same SQLite transaction as the change, so the log
can never claim a change that did not happen, nor miss one that did.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from openstation.config.codec import from_dict, to_dict
from openstation.config.sections import COLLECTIONS, SINGLETONS, Record, Section, secret_fields
from openstation.errors import NotFoundError, PassiveServerError, StoreError, ValidationError
from openstation.hardware import Hardware

if TYPE_CHECKING:
    from openstation.events import EventBus

S = TypeVar("S", bound=Section)
R = TypeVar("R", bound=Record)

Clock = Callable[[], float]
REDACTED = "***"


@dataclass(frozen=True)
class RowChange:
    """One committed row: a section (key "") or a record; `data` None means deleted.

    What a high-availability active ships to its passive, in commit order."""

    section: str
    key: str
    data: dict[str, Any] | None
    singleton: bool

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "key": self.key, "data": self.data,
                "singleton": self.singleton}

    @classmethod
    def from_json(cls, raw: Any) -> RowChange:
        if not isinstance(raw, dict):
            raise ValueError("a row change is an object")
        data = raw.get("data")
        if not isinstance(raw.get("section"), str) or not isinstance(raw.get("key"), str) \
                or not (data is None or isinstance(data, dict)):
            raise ValueError("a row change needs section, key and data")
        return cls(raw["section"], raw["key"], data, bool(raw.get("singleton")))


CommitListener = Callable[[list[RowChange]], None]

# MIGRATIONS[n] takes a database from schema version n to n + 1 (PRAGMA user_version).
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sections (name TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE records (
        section TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (section, key)
    ) WITHOUT ROWID;
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY, at REAL NOT NULL, actor TEXT NOT NULL, source TEXT NOT NULL,
        action TEXT NOT NULL, section TEXT NOT NULL, key TEXT NOT NULL, detail TEXT NOT NULL
    );
    CREATE INDEX audit_section ON audit (section, id);
    """,
    # A narrow index of the keys alone: counting and paging 10,000 users reads it instead
    # of every record's JSON.
    """
    CREATE INDEX records_keys ON records (section, key);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditEntry:
    """One audited change: when, who (and from where), what."""

    id: int
    at: float
    actor: str
    source: str
    action: str
    section: str
    key: str
    detail: dict[str, Any]


def diff(old: dict[str, Any] | None, new: dict[str, Any] | None, secrets: frozenset[str]
         ) -> dict[str, Any]:
    """Field-by-field changes {field: [old, new]}, secrets shown as "***"."""
    old, new = old or {}, new or {}
    changes: dict[str, Any] = {}
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if before != after:
            if name in secrets:
                before = REDACTED if before else before
                after = REDACTED if after else after
            changes[name] = [before, after]
    return changes


_KINDS: dict[tuple[str, bool], type[Any]] = {
    **{(cls.section, True): cls for cls in SINGLETONS},
    **{(cls.section, False): cls for cls in COLLECTIONS},
}


def _field_path(cls: type[Record], field: str) -> str:
    """The JSON path of one of a record's fields (never anything else in the SQL)."""
    if field not in {f.name for f in dataclasses.fields(cls)}:
        raise ValueError(f"{cls.__name__} has no field {field!r}")
    return f"$.{field}"


def check_row(row: RowChange) -> None:
    """Refuse a foreign row (replicated, restored) that is not a valid section or record."""
    kind = _KINDS.get((row.section, row.singleton))
    if kind is None:
        raise ValidationError({row.section or "section": "no such section"})
    if row.data is None:
        if row.singleton:
            raise ValidationError({row.section: "a section cannot be deleted"})
        return
    decoded = from_dict(kind, row.data, f"{row.section}.")
    if not row.singleton and decoded.key != row.key:
        raise ValidationError({f"{row.section}.{decoded.key_field}": "does not match the key"})


class Transaction:
    """Reads and writes inside one SQLite transaction; each write is audited."""

    def __init__(self, store: ConfigStore, actor: str, source: str) -> None:
        self._store = store
        self.actor = actor
        self.source = source
        self.changes = 0
        self.rows: list[RowChange] = []
        self.entries: list[AuditEntry] = []

    def get(self, cls: type[S]) -> S:
        return self._store.get(cls)

    def record(self, cls: type[R], key: str) -> R | None:
        return self._store.record(cls, key)

    def records(self, cls: type[R]) -> list[R]:
        return self._store.records(cls)

    def keys_by(self, cls: type[Record], field: str, values: Iterable[Any]) -> dict[Any, str]:
        return self._store.keys_by(cls, field, values)

    def highest(self, cls: type[Record], field: str) -> int | None:
        return self._store.highest(cls, field)

    def put(self, section: Section) -> dict[str, Any]:
        """Store a singleton section; returns (and audits) what changed."""
        old = self._store._raw_section(section.section)
        new = to_dict(section)
        # What is written must read back: the same checks as decoding (types, ranges).
        from_dict(type(section), new, f"{section.section}.")
        changes = diff(old, new, secret_fields(type(section)))
        if changes:
            self._store._conn.execute(
                "INSERT OR REPLACE INTO sections (name, data) VALUES (?, ?)",
                (section.section, json.dumps(new)),
            )
            self.rows.append(RowChange(section.section, "", new, True))
            self.audit("set", section.section, "", changes)
        return changes

    def put_record(self, record: Record) -> dict[str, Any]:
        """Create or replace one record of a collection; returns what changed."""
        old = self._store._raw_record(record.section, record.key)
        new = to_dict(record)
        from_dict(type(record), new, f"{record.section}.")  # what is written must read back
        changes = diff(old, new, secret_fields(type(record)))
        if changes:
            self._store._conn.execute(
                "INSERT OR REPLACE INTO records (section, key, data) VALUES (?, ?, ?)",
                (record.section, record.key, json.dumps(new)),
            )
            self.rows.append(RowChange(record.section, record.key, new, False))
            self.audit("create" if old is None else "set", record.section, record.key, changes)
        return changes

    def delete_record(self, cls: type[Record], key: str) -> None:
        """Delete one record; a missing one is a NotFoundError."""
        cursor = self._store._conn.execute(
            "DELETE FROM records WHERE section = ? AND key = ?", (cls.section, key)
        )
        if cursor.rowcount == 0:
            raise NotFoundError(f"no {cls.section} entry named {key!r}")
        self.rows.append(RowChange(cls.section, key, None, False))
        self.audit("delete", cls.section, key, {})

    def apply_row(self, row: RowChange) -> None:
        """Write a row as another store committed it (a high-availability passive); a row
        of an unknown section or of the wrong shape is refused, naming the field."""
        check_row(row)
        conn = self._store._conn
        if row.singleton:
            if row.data is not None:
                conn.execute("INSERT OR REPLACE INTO sections (name, data) VALUES (?, ?)",
                             (row.section, json.dumps(row.data)))
        elif row.data is None:
            conn.execute("DELETE FROM records WHERE section = ? AND key = ?",
                         (row.section, row.key))
        else:
            conn.execute("INSERT OR REPLACE INTO records (section, key, data) VALUES (?, ?, ?)",
                         (row.section, row.key, json.dumps(row.data)))
        self.rows.append(row)
        self.audit("replicate", row.section, row.key,
                   {"deleted": True} if row.data is None else {})

    def audit(self, action: str, section: str, key: str, detail: dict[str, Any]) -> None:
        """Add an audit entry that commits or rolls back with this transaction."""
        self.changes += 1
        at = self._store.clock()
        cursor = self._store._conn.execute(
            "INSERT INTO audit (at, actor, source, action, section, key, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (at, self.actor, self.source, action, section, key,
             json.dumps(detail, default=str)),
        )
        if self._store.audit_listeners:
            self.entries.append(AuditEntry(cursor.lastrowid or 0, at, self.actor, self.source,
                                           action, section, key, detail))



def private(path: Path) -> None:
    """Make the database (and its -wal and -shm, if there) readable by the owner only:
    it holds password hashes and sealed secrets."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)

class ConfigStore:
    """Typed access to config.db; open it with `ConfigStore.open`."""

    def __init__(self, conn: sqlite3.Connection, hardware: Hardware, clock: Clock) -> None:
        self._conn = conn
        self.hardware = hardware
        self.clock = clock
        self._lock = threading.RLock()
        self._tx: Transaction | None = None
        # Called after each commit with its rows, in commit order (under the store lock).
        self.listeners: list[CommitListener] = []
        # Called after each commit with its audit entries (Log Center's events: the
        # notifications follow them), in commit order, under the store lock.
        self.audit_listeners: list[Callable[[list[AuditEntry]], None]] = []
        # Why a write from `source` is refused right now (an HA passive server), or None.
        self.write_guard: Callable[[str], str | None] | None = None
        # Where each commit is published, as a ConfigChanged, for the appliers.
        self.events: EventBus | None = None

    @classmethod
    def open(cls, path: Path, hardware: Hardware, *, clock: Clock = time.time,
             create: bool = True, initial_state: str = "not_installed") -> ConfigStore:
        """Open (creating if allowed) and migrate the database, or raise a one-line StoreError."""
        if not path.exists() and not create:
            raise StoreError(f"no configuration database at {path}")
        try:
            private(path)  # SQLite gives -wal and -shm the database file's mode
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                   timeout=10)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open {path}: {exc}") from None
        try:
            # Check before writing anything: a refused file must stay byte for byte.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{path} was written by a newer openstation (schema {version}, this "
                    f"version reads up to {SCHEMA_VERSION}); upgrade openstation to use it"
                )
            if version > 0:
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise StoreError(f"{path} is corrupt ({check})")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # a commit survives power loss
            store = cls(conn, hardware, clock)
            store._migrate(version)
            store._seed_defaults(initial_state)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{path} is not a valid configuration database ({exc})") from None
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def open_readonly(cls, path: Path, hardware: Hardware) -> ConfigStore:
        """Open for reading only (a stopped device's status); never migrates or writes."""
        if not path.exists():
            raise StoreError(f"no configuration database at {path}")
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                   isolation_level=None, check_same_thread=False)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path} is not a valid configuration database ({exc})") from None
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreError(f"{path} was written by a newer openstation (schema {version})")
        if version == 0:
            conn.close()
            raise StoreError(f"{path} is not initialised")
        return cls(conn, hardware, time.time)

    def close(self) -> None:
        self._conn.close()

    # --- reads ---------------------------------------------------------------------------

    def get(self, cls: type[S]) -> S:
        """The current value of a singleton section."""
        raw = self._raw_section(cls.section)
        return cls.factory(self.hardware) if raw is None else from_dict(cls, raw)

    def record(self, cls: type[R], key: str) -> R | None:
        """One record of a collection, or None."""
        raw = self._raw_record(cls.section, key)
        return None if raw is None else from_dict(cls, raw)

    def records(self, cls: type[R], offset: int = 0, limit: int = -1) -> list[R]:
        """Records of a collection ordered by key (all of them, or one page)."""
        if offset == 0 and limit < 0:
            rows = self._conn.execute(
                "SELECT data FROM records WHERE section = ? ORDER BY key", (cls.section,))
        else:  # page through the narrow key index, then fetch just that page's records
            rows = self._conn.execute(
                "SELECT r.data FROM (SELECT key FROM records INDEXED BY records_keys"
                " WHERE section = ? ORDER BY key LIMIT ? OFFSET ?) AS page"
                " JOIN records AS r ON r.section = ? AND r.key = page.key ORDER BY r.key",
                (cls.section, limit, offset, cls.section))
        return [from_dict(cls, json.loads(data)) for (data,) in rows]

    # Questions about a large collection (10,000 users) answered by SQLite, without decoding
    # every record in Python (which takes about 100 ms, on the event loop).

    def keys(self, cls: type[Record]) -> list[str]:
        """Every key of a collection, in order."""
        rows = self._conn.execute(
            "SELECT key FROM records INDEXED BY records_keys WHERE section = ? ORDER BY key",
            (cls.section,))
        return [key for (key,) in rows]

    def keys_by(self, cls: type[Record], field: str, values: Iterable[Any]) -> dict[Any, str]:
        """{value: key} for the records whose `field` holds one of `values`."""
        wanted = list(dict.fromkeys(values))
        if not wanted:
            return {}
        path = _field_path(cls, field)
        rows = self._conn.execute(
            f"SELECT json_extract(data, ?), key FROM records WHERE section = ? AND "
            f"json_extract(data, ?) IN ({', '.join('?' * len(wanted))})",
            (path, cls.section, path, *wanted))
        return {value: key for value, key in rows}

    def keys_unlike(self, cls: type[Record], field: str, prefixes: tuple[str, ...]
                    ) -> list[str]:
        """Keys of the records whose text `field` is set and starts with none of
        `prefixes`."""
        path = _field_path(cls, field)
        unlike = "".join(" AND substr(json_extract(data, ?), 1, ?) <> ?" for _ in prefixes)
        params = [value for p in prefixes for value in (path, len(p), p)]
        rows = self._conn.execute(
            f"SELECT key FROM records WHERE section = ? AND json_extract(data, ?) <> ''"
            f"{unlike}", (cls.section, path, *params))
        return [key for (key,) in rows]

    def highest(self, cls: type[Record], field: str) -> int | None:
        """The largest value of a numeric `field` in a collection (None: empty)."""
        row = self._conn.execute(
            "SELECT MAX(json_extract(data, ?)) FROM records WHERE section = ?",
            (_field_path(cls, field), cls.section)).fetchone()
        return None if row[0] is None else int(row[0])

    def count(self, cls: type[Record]) -> int:
        """How many records a collection holds."""
        row = self._conn.execute(
            "SELECT COUNT(*) FROM records INDEXED BY records_keys WHERE section = ?",
            (cls.section,)).fetchone()
        return int(row[0])

    def audit_log(self, *, limit: int = 100, section: str | None = None,
                  after_id: int = 0) -> list[AuditEntry]:
        """Audit entries, newest first."""
        query = "SELECT id, at, actor, source, action, section, key, detail FROM audit WHERE id > ?"
        params: list[Any] = [after_id]
        if section is not None:
            query += " AND section = ?"
            params.append(section)
        query += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [
            AuditEntry(row[0], row[1], row[2], row[3], row[4], row[5], row[6], json.loads(row[7]))
            for row in self._conn.execute(query, params)
        ]

    # --- writes --------------------------------------------------------------------------

    def writes_refused(self, source: str) -> str | None:
        """Why writes from `source` are refused now (an HA passive), or None."""
        return self.write_guard(source) if self.write_guard is not None else None

    def check_writes(self, source: str) -> None:
        """Raise PassiveServerError if writes from `source` are refused now (configuration,
        and writes to volume1 made through the device, which ask before they start)."""
        why = self.writes_refused(source)
        if why is not None:
            raise PassiveServerError(why)

    @contextmanager
    def transaction(self, actor: str, source: str = "local") -> Iterator[Transaction]:
        """One atomic, durable, audited change; a nested call joins the outer one."""
        with self._lock:
            if self._tx is not None:
                yield self._tx
                return
            self.check_writes(source)
            self._conn.execute("BEGIN IMMEDIATE")
            self._tx = Transaction(self, actor, source)
            try:
                yield self._tx
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
                rows, entries = self._tx.rows, self._tx.entries
                self._tx = None
                for listener in self.listeners:
                    listener(rows)
                for audited in self.audit_listeners if entries else ():
                    try:  # committed: a follower's trouble must not undo that for the caller
                        audited(entries)
                    except Exception:
                        log.exception("an audit listener failed")
                if self.events is not None and rows:
                    from openstation.events import ConfigChanged  # asyncio: only when wired

                    self.events.publish(ConfigChanged(
                        frozenset(row.section for row in rows), tuple(rows), actor, source))
            finally:
                self._tx = None

    def snapshot_rows(self, sections: frozenset[str]) -> list[RowChange]:
        """Every row of `sections`, as changes that recreate them."""
        rows = [RowChange(name, "", json.loads(data), True) for name, data in
                self._conn.execute("SELECT name, data FROM sections ORDER BY name")
                if name in sections]
        rows += [RowChange(section, key, json.loads(data), False) for section, key, data in
                 self._conn.execute("SELECT section, key, data FROM records"
                                    " ORDER BY section, key") if section in sections]
        return rows

    def record_keys(self, section: str) -> list[str]:
        return [key for (key,) in self._conn.execute(
            "SELECT key FROM records WHERE section = ? ORDER BY key", (section,))]

    # --- internals -----------------------------------------------------------------------

    def _raw_section(self, name: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT data FROM sections WHERE name = ?", (name,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def _raw_record(self, section: str, key: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            "SELECT data FROM records WHERE section = ? AND key = ?", (section, key)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def _migrate(self, version: int) -> None:
        for target in range(version, SCHEMA_VERSION):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {target + 1}")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _seed_defaults(self, initial_state: str) -> None:
        """Write the factory default of every singleton section the database lacks."""
        missing = [cls for cls in SINGLETONS if self._raw_section(cls.section) is None]
        if not missing:
            return
        with self.transaction("system", "factory") as tx:
            for cls in missing:
                section = cls.factory(self.hardware)
                if section.section == "lifecycle":
                    section = from_dict(cls, {"state": initial_state})
                tx.put(section)

