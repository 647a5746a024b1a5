"""Task Scheduler's service: scheduled tasks created, changed, switched on or off and
deleted, each checked whole and committed with its audit entry (the store publishes it);
and where script output also goes.

A task runs as its owner: "root" (the device's own identity, as DSM's root) or an account.
Only administrators reach these (Control Panel), and a task owned by root needs the
password confirmed again at the face (SYNO.Core.TaskScheduler.Root)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from typing import Any

from openstation.config.sections import (
    PowerSchedule,
    PowerTime,
    ScheduledTask,
    Share,
    TaskKind,
    TaskOutput,
    TaskSchedule,
    User,
)
from openstation.config.store import ConfigStore
from openstation.errors import NotFoundError, ValidationError
from openstation.names import lookalike_problem
from openstation.packages import BUILT_IN, PACKAGES
from openstation.scheduler.schedule import parse, to_dsm
from openstation.storage.paths import name_problem

ROOT = "root"
MAX_NAME = 64
MAX_SCRIPT = 64 * 1024  # bytes
MAX_TASKS = 500
POLICIES = ("clean_all", "time", "size")
LIMITS = {"timeout": (1, 86400), "recycle_days": (1, 36500), "recycle_size_mb": (0, 1 << 30),
          "recycle_sort": (0, 1), "beep_seconds": (1, 3600)}
SWITCHABLE = tuple(p.id for p in PACKAGES if p.id not in BUILT_IN)


def task_problems(task: ScheduledTask, users: Iterable[str] | None,
                  shares: Iterable[str] | None) -> dict[str, str]:
    """What is wrong with `task` (pure; every problem at once). `users` and `shares` are
    the names that exist (None: not checked)."""
    problems: dict[str, str] = {}
    if not (isinstance(task.task_id, str) and task.task_id.isascii() and task.task_id.isdigit()
            and len(task.task_id) <= 12 and str(int(task.task_id)) == task.task_id):
        problems["id"] = "a task number"
    try:  # what was stored (a restored backup) must read as a schedule the API takes
        parse(to_dsm(task.schedule))
    except ValidationError as exc:
        problems.update({f"schedule.{k}": v for k, v in exc.problems.items()})
    if not isinstance(task.name, str) or not task.name.strip() or \
            len(task.name) > MAX_NAME or lookalike_problem(task.name):
        problems["name"] = f"1 to {MAX_NAME} characters, no control characters"
    if not isinstance(task.owner, str) or name_problem(task.owner) or (
            users is not None and task.owner != ROOT and task.owner not in set(users)):
        problems["owner"] = "root or an account of this device"
    for name, (low, high) in LIMITS.items():
        value = getattr(task, name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            problems[name] = f"a whole number from {low} to {high}"
    if task.kind is TaskKind.SCRIPT:
        if not isinstance(task.script, str) or not task.script.strip():
            problems["script"] = "a script to run"
        elif len(task.script.encode()) > MAX_SCRIPT or "\x00" in task.script:
            problems["script"] = f"at most {MAX_SCRIPT} bytes, no NUL"
    if task.notify_mail and (len(task.notify_mail) > 254 or "@" not in task.notify_mail
                             or any(c in task.notify_mail for c in "\r\n,;<> \t")):
        problems["notify_mail"] = "one e-mail address"
    if task.kind is TaskKind.RECYCLE:
        if task.recycle_policy not in POLICIES:
            problems["clean_file_policy"] = "clean_all, time or size"
        if not task.all_shares and not task.shares:
            problems["clean_share_policy"] = "all shared folders, or some by name"
        elif any(not isinstance(s, str) or name_problem(s) for s in task.shares) or (
                shares is not None and not set(task.shares) <= set(shares)):
            problems["clean_share_policy"] = "shared folders of this device"
    if task.kind is TaskKind.SERVICE:
        if task.service_action not in ("start", "stop"):
            problems["action"] = "start or stop"
        if not task.services or any(s not in SWITCHABLE for s in task.services):
            problems["services"] = "one or more of " + ", ".join(SWITCHABLE)
    return problems


MAX_POWER_TIMES = 100


def power_problems(schedule: PowerSchedule) -> dict[str, str]:
    """What is wrong with a power schedule (pure)."""
    problems: dict[str, str] = {}
    for name, times in (("poweron_tasks", schedule.power_on),
                        ("poweroff_tasks", schedule.power_off)):
        if len(times) > MAX_POWER_TIMES:
            problems[name] = f"at most {MAX_POWER_TIMES} times"
        for entry in times:
            if not (0 <= entry.hour <= 23 and 0 <= entry.minute <= 59) or not \
                    entry.week_days or any(not 0 <= d <= 6 for d in entry.week_days):
                problems[name] = "each with hour 0-23, min 0-59 and week days 0-6"
    return problems


def power_time(raw: object) -> PowerTime:
    """One of DSM's power schedule entries ({"enabled", "hour", "min", "weekdays"})."""
    if not isinstance(raw, dict):
        raise ValidationError({"tasks": "each a JSON object"})
    try:
        days = raw.get("weekdays", "0,1,2,3,4,5,6")
        parts = days.split(",") if isinstance(days, str) else list(days)
        enabled = raw.get("enabled", True)
        return PowerTime(enabled=enabled if isinstance(enabled, bool)
                         else str(enabled).lower() in ("true", "1", "yes"),
                         hour=int(raw.get("hour", 0)), minute=int(raw.get("min", 0)),
                         week_days=sorted({int(d) for d in parts if str(d).strip()}))
    except (TypeError, ValueError, OverflowError):
        raise ValidationError({"tasks": "hour, min and weekdays as numbers"}) from None


def output_problem(path: str, shares: Iterable[str] | None) -> str | None:
    """Why `path` ("share/folder…") cannot hold script output, or None. `shares`: the
    shared folders that may (not an encrypted one: its plaintext is not always there)."""
    parts = path.strip("/").split("/")
    if not path.strip("/") or (shares is not None and parts[0] not in set(shares)):
        return "a folder in an unencrypted shared folder of this device (share/folder)"
    if len(path.encode()) > 1024 or any(name_problem(p) for p in parts):
        return "a folder path without '..', '@' names or control characters"
    return None


class TaskService:
    def __init__(self, store: ConfigStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def tasks(self) -> list[ScheduledTask]:
        return sorted(self.store.records(ScheduledTask),
                      key=lambda t: (len(t.task_id), t.task_id))  # numbers, in order

    def task(self, task_id: object) -> ScheduledTask:
        found = self.store.record(ScheduledTask, str(task_id))
        if found is None:
            raise NotFoundError(f"no scheduled task {task_id}")
        return found

    def output(self) -> TaskOutput:
        return self.store.get(TaskOutput)

    def create(self, actor: str, *, name: str, kind: TaskKind, owner: str,
               schedule: TaskSchedule, enabled: bool = True, **fields: Any) -> ScheduledTask:
        tasks = self.tasks()
        if len(tasks) >= MAX_TASKS:
            raise ValidationError({"name": f"at most {MAX_TASKS} scheduled tasks"})
        now = self.clock()
        task = self._checked(ScheduledTask(
            task_id=str(max((int(t.task_id) for t in tasks), default=0) + 1), name=name,
            kind=kind, owner=owner, enabled=enabled, schedule=schedule, created=now,
            modified=now), fields)
        with self.store.transaction(actor, ScheduledTask.section) as tx:
            tx.put_record(task)
        return task

    def update(self, actor: str, task_id: object, **changes: Any) -> ScheduledTask:
        """Change some of a task's settings (None leaves one as it is)."""
        current = self.task(task_id)
        fields = {k: v for k, v in changes.items() if v is not None}
        task = self._checked(dataclasses.replace(current, modified=self.clock()), fields)
        with self.store.transaction(actor, ScheduledTask.section) as tx:
            tx.put_record(task)
        return task

    def set_enabled(self, actor: str, wanted: dict[str, bool]) -> None:
        """Switch several tasks on or off at once (all or none)."""
        tasks = [dataclasses.replace(self.task(i), enabled=on) for i, on in wanted.items()]
        with self.store.transaction(actor, ScheduledTask.section) as tx:
            for task in tasks:
                tx.put_record(task)

    def delete(self, actor: str, task_ids: list[str]) -> None:
        for task_id in task_ids:
            self.task(task_id)  # all exist, or nothing is deleted
        with self.store.transaction(actor, ScheduledTask.section) as tx:
            for task_id in task_ids:
                tx.delete_record(ScheduledTask, str(task_id))

    def set_output(self, actor: str, enabled: bool, path: str) -> TaskOutput:
        path = path.strip("/")
        plain = [s.name for s in self.store.records(Share) if not s.encrypted]
        if (enabled or path) and (why := output_problem(path, plain)) is not None:
            raise ValidationError({"output_path": why})
        settings = TaskOutput(enabled=enabled, path=path)
        with self.store.transaction(actor, TaskOutput.section) as tx:
            tx.put(settings)
        return settings

    def power(self) -> PowerSchedule:
        return self.store.get(PowerSchedule)

    def set_power(self, actor: str, power_on: list[PowerTime], power_off: list[PowerTime]
                  ) -> PowerSchedule:
        schedule = PowerSchedule(power_on=power_on, power_off=power_off)
        if problems := power_problems(schedule):
            raise ValidationError(problems)
        with self.store.transaction(actor, PowerSchedule.section) as tx:
            tx.put(schedule)
        return schedule

    def _checked(self, task: ScheduledTask, fields: dict[str, Any]) -> ScheduledTask:
        known = {f.name for f in dataclasses.fields(ScheduledTask)} - {
            "task_id", "created", "modified"}
        if unknown := sorted(set(fields) - known):
            raise ValidationError({name: "no such setting" for name in unknown})
        try:
            task = dataclasses.replace(task, **fields)
            if not isinstance(task.kind, TaskKind):
                task.kind = TaskKind(task.kind)
        except (TypeError, ValueError) as exc:
            raise ValidationError({"type": str(exc)}) from None
        problems = task_problems(task, self.store.keys(User), self.store.keys(Share))
        if problems:
            raise ValidationError(problems)
        return task
