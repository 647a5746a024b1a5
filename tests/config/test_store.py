from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from openstation.config.sections import (
    COLLECTIONS,
    SINGLETONS,
    Firewall,
    FirewallRule,
    General,
    Network,
    Ports,
    PPPoE,
    User,
)
from openstation.config.store import SCHEMA_VERSION, ConfigStore, RowChange
from openstation.errors import NotFoundError, StoreError
from openstation.hardware import Hardware
from tests.conftest import FakeClock


def test_a_new_store_holds_the_factory_default_of_every_section(store: ConfigStore,
                                                                hardware: Hardware) -> None:
    for cls in SINGLETONS:
        assert store.get(cls) == cls.factory(hardware)
    assert store.get(Ports) == Ports(http=5000, https=5001)
    assert store.get(General).server_name == "DiskStation"
    network = store.get(Network)
    assert [i.id for i in network.interfaces] == ["eth0", "eth1"]
    assert all(i.dhcp for i in network.interfaces)
    for cls in COLLECTIONS:
        assert store.records(cls) == []


def test_a_committed_change_survives_reopening(tmp_path: Path, hardware: Hardware,
                                               clock: FakeClock) -> None:
    path = tmp_path / "config.db"
    store = ConfigStore.open(path, hardware, clock=clock)
    with store.transaction("alice") as tx:
        tx.put(Ports(http=5050, https=5051))
        tx.put_record(User(name="bob", uid=1026))
    store.close()
    reopened = ConfigStore.open(path, hardware, clock=clock)
    assert reopened.get(Ports) == Ports(5050, 5051)
    assert reopened.record(User, "bob") == User(name="bob", uid=1026)
    reopened.close()


def test_a_failed_transaction_changes_nothing_and_audits_nothing(store: ConfigStore) -> None:
    audit_before = store.audit_log(limit=1000)
    with pytest.raises(RuntimeError), store.transaction("alice") as tx:
        tx.put(Ports(http=6000, https=6001))
        tx.put_record(User(name="bob"))
        raise RuntimeError("boom")
    assert store.get(Ports) == Ports()
    assert store.record(User, "bob") is None
    assert store.audit_log(limit=1000) == audit_before


def test_every_change_is_audited_with_old_and_new_values(store: ConfigStore,
                                                         clock: FakeClock) -> None:
    clock.advance(60)
    with store.transaction("alice", "webapi") as tx:
        tx.put(Firewall(enabled=True))
    entry = store.audit_log(limit=1)[0]
    assert (entry.actor, entry.source, entry.action, entry.section) == (
        "alice", "webapi", "set", "firewall")
    assert entry.at == clock.now
    assert entry.detail == {"enabled": [False, True]}


def test_secrets_never_reach_the_audit_log(store: ConfigStore) -> None:
    with store.transaction("alice") as tx:
        tx.put(PPPoE(enabled=True, password="ciphertext"))
        tx.put_record(User(name="bob", password_hash="$argon2id$secret"))
    text = repr(store.audit_log(limit=10))
    assert "ciphertext" not in text and "argon2id" not in text
    assert store.audit_log(limit=10, section="pppoe")[0].detail["password"] == ["", "***"]


def test_an_unchanged_put_is_not_audited(store: ConfigStore) -> None:
    count = len(store.audit_log(limit=1000))
    with store.transaction("alice") as tx:
        tx.put(store.get(Ports))
    assert len(store.audit_log(limit=1000)) == count


def test_records_are_created_replaced_listed_and_deleted(store: ConfigStore) -> None:
    with store.transaction("admin") as tx:
        for n in range(3):
            tx.put_record(FirewallRule(rule_id=f"r{n}", order=n, source=f"10.0.0.{n}"))
        tx.put_record(FirewallRule(rule_id="r1", order=1, action="deny"))
        tx.delete_record(FirewallRule, "r0")
    assert [r.rule_id for r in store.records(FirewallRule)] == ["r1", "r2"]
    assert store.record(FirewallRule, "r1").action == "deny"  # type: ignore[union-attr]
    assert store.count(FirewallRule) == 2
    actions = [e.action for e in store.audit_log(limit=5, section="firewall_rules")]
    assert actions == ["delete", "set", "create", "create", "create"]
    with pytest.raises(NotFoundError), store.transaction("admin") as tx:
        tx.delete_record(FirewallRule, "nope")


def test_a_nested_transaction_joins_the_outer_one(store: ConfigStore) -> None:
    with pytest.raises(ValueError), store.transaction("a") as outer:
        with store.transaction("b") as inner:
            assert inner is outer
            inner.put(Ports(http=7000))
        raise ValueError
    assert store.get(Ports).http == 5000


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path: Path,
                                                              hardware: Hardware) -> None:
    path = tmp_path / "config.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer openstation"):
        ConfigStore.open(path, hardware)
    assert path.read_bytes() == before


def test_a_corrupt_database_is_refused(tmp_path: Path, hardware: Hardware) -> None:
    path = tmp_path / "config.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a valid configuration database"):
        ConfigStore.open(path, hardware)
    assert path.read_bytes() == b"this is not sqlite" * 100


def test_migrations_bring_an_empty_database_to_the_current_schema(tmp_path: Path,
                                                                  hardware: Hardware) -> None:
    path = tmp_path / "config.db"
    sqlite3.connect(path).close()
    store = ConfigStore.open(path, hardware)
    assert store._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_readonly_open_reads_without_writing(tmp_path: Path, hardware: Hardware) -> None:
    path = tmp_path / "config.db"
    ConfigStore.open(path, hardware).close()
    reader = ConfigStore.open_readonly(path, hardware)
    assert reader.get(Ports).http == 5000
    with pytest.raises(sqlite3.OperationalError), reader.transaction("x") as tx:
        tx.put(Ports(http=1))
    reader.close()
    with pytest.raises(StoreError):
        ConfigStore.open_readonly(tmp_path / "missing.db", hardware)


def test_an_older_schema_is_migrated_keeping_its_data(tmp_path: Path, hardware: Hardware
                                                      ) -> None:
    from openstation.config.store import MIGRATIONS

    path = tmp_path / "config.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("INSERT INTO records VALUES ('users', 'bob', '{\"name\": \"bob\", \"uid\": 7}')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    store = ConfigStore.open(path, hardware)
    assert store._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    indexes = {row[1] for row in store._conn.execute("PRAGMA index_list(records)")}
    assert "records_keys" in indexes
    assert store.record(User, "bob") == User(name="bob", uid=7)
    assert [u.name for u in store.records(User, offset=0, limit=1)] == ["bob"]
    store.close()


def test_commits_are_told_to_listeners_and_other_processes_commits_are_found(
        tmp_path: Path, hardware: Hardware, clock: FakeClock) -> None:
    path = tmp_path / "config.db"
    device = ConfigStore.open(path, hardware, clock=clock)
    told: list[list[RowChange]] = []
    device.listeners.append(told.append)
    with device.transaction("alice") as tx:
        tx.put(Ports(http=5050, https=5051))
        tx.put_record(User(name="bob", uid=1026))
    assert [(r.section, r.key, r.singleton) for r in told[0]] == [
        ("ports", "", True), ("users", "bob", False)]
    with pytest.raises(NotFoundError), device.transaction("alice") as tx:
        tx.delete_record(User, "nobody")
    assert len(told) == 1  # a rolled-back transaction tells nobody

    mirror = ConfigStore.open(tmp_path / "mirror.db", hardware, clock=clock)
    with mirror.transaction("ha") as tx:
        for row in device.snapshot_rows(frozenset({"users", "ports"})):
            tx.apply_row(RowChange.from_json(row.to_json()))
    assert mirror.get(Ports) == Ports(5050, 5051)
    assert [u.name for u in mirror.records(User)] == [u.name for u in device.records(User)]
    device.close()
    mirror.close()
