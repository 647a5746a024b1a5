"""The Hyper Backup schedule, in process with a hand-moved clock: a backup and an
integrity check start when they fall due, not before, and once."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from openstation.backup import engine as engine_module
from openstation.backup.engine import BackupEngine, Parts
from openstation.backup.service import BackupService, TaskRequest
from openstation.config.store import ConfigStore
from openstation.security.machine_key import MachineKey
from tests.conftest import FakeClock


async def never(*_args: Any) -> Any:
    raise AssertionError("not called by the schedule")


async def test_schedule_starts_backups_and_checks_when_due(
        store: ConfigStore, clock: FakeClock, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "SCHEDULE_TICK", 0.01)
    service = BackupService(store, MachineKey(os.urandom(32)), tmp_path / "data" / "volume1",
                            tmp_path / "data" / "system", clock)
    local = time.localtime(clock.now)
    in_a_minute = time.localtime(clock.now + 60 - local.tm_sec + 60)
    service.add("test", TaskRequest(
        name="t", destination=str(tmp_path / "usb"), password="pw", include_config=True,
        schedule_days=list(range(7)), schedule_hour=in_a_minute.tm_hour,
        schedule_minute=in_a_minute.tm_min, check_days=list(range(7)),
        check_hour=(local.tm_hour + 3) % 24))
    started: list[str] = []

    def spawn(work: Coroutine[Any, Any, Any]) -> None:
        name = work.__qualname__.rpartition(".")[2]
        if name in ("_backup", "_check"):
            started.append(name)
        work.close()

    engine = BackupEngine(Parts(
        service, is_reachable=lambda _share: True, config_file=never,
        restore_config=never, preview_config=never, spawn=spawn, clock=clock,
        writes_refused=lambda: None, cache_dir=tmp_path / "system" / "restic-cache"))
    engine.start()
    try:
        await asyncio.sleep(0.1)
        assert started == []  # nothing is due yet
        clock.advance(180)
        await asyncio.sleep(0.1)
        assert started == ["_backup"]  # once, however many ticks pass
        assert service.state("1").running
        engine._end(engine.runs["1"])
        clock.advance(4 * 3600)
        await asyncio.sleep(0.1)
        assert started == ["_backup", "_check"]
    finally:
        for run in list(engine.runs.values()):  # their work was never run
            engine._end(run)
        await engine.close()
