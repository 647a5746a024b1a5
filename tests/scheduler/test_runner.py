"""The runner starts a task when its schedule comes round, once, and not when it is off or
the device is an HA passive (in process, with a clock the test sets near the run time)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from openstation.config.sections import PowerSchedule, TaskKind
from openstation.config.store import ConfigStore
from openstation.errors import ValidationError
from openstation.hardware import Hardware
from openstation.scheduler.runner import Parts, TaskRunner
from openstation.scheduler.schedule import parse
from openstation.scheduler.service import TaskService, power_problems, power_time


async def nothing() -> None:
    return None


async def no_mail(to: str, subject: str, body: str) -> str | None:
    return None


def quick_runner(store: ConfigStore, service: TaskService, volume: Path,
                 clock: Callable[[], float],
                 power: Callable[[bool], Awaitable[None]]) -> TaskRunner:
    """A runner on `volume` (made here) that looks at its schedule every 0.1 s."""
    volume.mkdir()
    runner = TaskRunner(store, service, Parts(
        volume=volume, runs_dir=volume.with_name("task-runs"), clock=clock,
        switch=lambda *_: None, beep=lambda *_: None, mail=no_mail, settle=nothing,
        power=power, shares_of=lambda _user: []))
    runner.tick = 0.1
    return runner


async def power_to(on: bool) -> None:
    raise AssertionError("no power schedule here")


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
    runner = quick_runner(store, service, volume, clock, power_to)
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


def test_the_power_schedule_switches_services_and_holds_tasks(tmp_path: Path,
                                                              hardware: Hardware) -> None:
    """Off at 03:15 (before a task due then: it does not run), on again at 03:16."""
    store = ConfigStore.open(tmp_path / "config.db", hardware)
    service = TaskService(store)
    switched: list[bool] = []

    async def power(on: bool) -> None:
        switched.append(on)

    clock_at = [dt.datetime.combine(dt.date.today() + dt.timedelta(days=1),
                                    dt.time(3, 14, 59)).timestamp() + 0.5]
    start = [time.monotonic()]

    def clock() -> float:
        return clock_at[0] + time.monotonic() - start[0]

    volume = tmp_path / "volume1"
    runner = quick_runner(store, service, volume, clock, power)
    service.set_power("admin", [power_time({"hour": 3, "min": 16, "weekdays": "0,1,2,3,4,5,6"})],
                      [power_time({"hour": 3, "min": 15}),
                       power_time({"enabled": False, "hour": 3, "min": 15})])
    service.create("admin", name="held", kind=TaskKind.SCRIPT, owner="root",
                   schedule=parse({"hour": 3, "minute": 15}),
                   script="echo ran >> \"$VOLUME1/ran\"")

    async def for_a_while() -> None:
        runner.start()
        await asyncio.sleep(1.5)
        await runner.close()

    asyncio.run(for_a_while())
    assert switched == [False] and runner.powered_off
    assert not (volume / "ran").exists()  # the device was off at 03:15
    clock_at[0], start[0] = clock_at[0] + 60, time.monotonic()  # 03:15:59.5
    asyncio.run(for_a_while())
    assert switched == [False, True] and not runner.powered_off
    assert not (volume / "ran").exists()
    store.close()


def test_power_times_are_checked() -> None:
    for raw in ({"hour": 24}, {"min": "x"}, {"weekdays": "9"}, {"weekdays": ""}, "x"):
        with pytest.raises(ValidationError):
            schedule = PowerSchedule(power_on=[power_time(raw)])
            if problems := power_problems(schedule):
                raise ValidationError(problems)
