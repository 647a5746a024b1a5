"""The bell (pure in effect, on a real store): notable entries only, counted until read,
and a busy log does not push an unread event out."""

from __future__ import annotations

from pathlib import Path

import pytest

from openstation.config.store import ConfigStore
from openstation.hardware import Hardware
from openstation.notify import centre as centre_module
from openstation.notify.centre import Centre


def test_notable_entries_counted_until_read(tmp_path: Path, hardware: Hardware,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    store = ConfigStore.open(tmp_path / "config.db", hardware)
    bell = Centre(store, tmp_path / "read.json")
    monkeypatch.setattr(centre_module, "CACHE_SECONDS", 0.0)  # every look reads the log
    try:
        with store.transaction("t", "shares") as tx:
            tx.audit("delete-data", "shares", "old", {"uuid": "u"})
        for n in range(400):  # a task run every minute, for hours: not notable
            with store.transaction("scheduler", "scheduled_tasks") as tx:
                tx.audit("run", "scheduled_tasks", "1", {"name": "often"})
            if n == 10:
                assert bell.unread("alice") == 1
        with store.transaction("scheduler", "scheduled_tasks") as tx:
            tx.audit("run-failed", "scheduled_tasks", "2", {"name": "nightly"})
        assert [i["text"] for i in bell.items()] == [
            "Scheduled task nightly failed", "A shared folder's data was deleted"]
        assert bell.unread("alice") == 2 and bell.unread("bob") == 2
        assert bell.read("alice") and not bell.read("alice")
        assert bell.unread("alice") == 0 and bell.unread("bob") == 2
        bell.keep('{"alice": 999}')
        again = Centre(store, tmp_path / "read.json")
        again.load()
        assert again.marks == {"alice": 999}
        (tmp_path / "read.json").write_text("[not ours")
        broken = Centre(store, tmp_path / "read.json")
        broken.load()
        assert broken.marks == {}
    finally:
        store.close()
