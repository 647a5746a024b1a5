"""The runner starts a task when its schedule comes round, once, and not when it is off or
the device is an HA passive (in process, with a clock the test sets near the run time)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

from openstation.config.sections import TaskKind
from openstation.config.store import ConfigStore
from openstation.hardware import Hardware
from openstation.scheduler.runner import Parts, TaskRunner
from openstation.scheduler.schedule import parse
from openstation.scheduler.service import TaskService


async def nothing() -> None:
    return None


async def no_mail(to: str, subject: str, body: str) -> str | None:
    return None


def test_a_task_runs_when_its_time_comes(tmp_path: Path, hardware: Hardware) -> None:
    store = ConfigStore.open(tmp_path / "config.db", hardware)
    service = TaskService(store)
    # Half a second before 03:15 tomorrow, moving as real time does.
    start = time.monotonic()
    base = dt.datetime.combine(dt.date.today() + dt.timedelta(days=1),
                               dt.time(3, 14, 59)).timestamp() + 0.5

    def clock() -> float:
        return base + time.monotonic() - start

    volume = tmp_path / "volume1"
    volume.mkdir()
    runner = TaskRunner(store, service, Parts(
        volume=volume, runs_dir=tmp_path / "task-runs", clock=clock,
        switch=lambda *_: None, beep=lambda *_: None, mail=no_mail, settle=nothing))
    runner.tick = 0.1
    at_315 = parse({"hour": 3, "minute": 15})
    due = service.create("admin", name="due", kind=TaskKind.SCRIPT, owner="root",
                         schedule=at_315, script="echo ran >> \"$VOLUME1/ran\"")
    service.create("admin", name="off", kind=TaskKind.SCRIPT, owner="root",
                   schedule=at_315, enabled=False, script="echo off >> \"$VOLUME1/off\"")
    later = service.create("admin", name="later", kind=TaskKind.SCRIPT, owner="root",
                           schedule=parse({"hour": 3, "minute": 16}), script="echo later")
    assert runner.next_run(later, clock()) == base + 60.5

    async def scenario() -> None:
        runner.start()
        await asyncio.sleep(2.0)  # 03:15 comes, and a second and a half more
        await runner.close()

    asyncio.run(scenario())
    assert (volume / "ran").read_text() == "ran\n"  # once, though ten ticks saw it due
    assert not (volume / "off").exists()
    assert [r["exit_code"] for r in runner.history(due.task_id)] == [0]
    assert runner.history(later.task_id) == []
    audit = [e.action for e in store.audit_log(limit=20, section="scheduled_tasks")]
    assert audit.count("run") == 1

    # An HA passive runs nothing: its active does.
    store.write_guard = lambda source: "this server is the passive"
    start, base = time.monotonic(), base + 86400
    asyncio.run(scenario())
    assert (volume / "ran").read_text() == "ran\n"
    store.close()
