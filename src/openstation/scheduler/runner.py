"""Task Scheduler's runner: each enabled task starts when its schedule says (or when asked),
does its kind's work, and leaves a result.

- A script runs in `/bin/sh` as its own process group (an account's in its sandbox:
  sandbox.py), for at most the task's timeout
  (then SIGTERM, and SIGKILL 5 s later), stdin closed; its output (stdout and stderr, the
  first MiB) is kept with the result under system/task-runs/, and also written into a
  shared folder when Task Scheduler's output setting names one.
- A recycle-bin task empties bins by its policy (storage/recycle.py).
- A service task starts or stops features through their service (packages.py).
- A beep task sounds the virtual beeper.

Every run is an audit entry (Log Center; "run-failed" is an error there), and mails the
task's address when it asks. A task still running is not started again. An HA passive runs
nothing: its active does. Waits are on the loop; files and the bins are worked off it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import signal
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openstation import background, offload
from openstation.config.sections import (
    ScheduledTask,
    Share,
    TaskKind,
    TaskOutput,
    TaskSchedule,
    User,
)
from openstation.config.store import ConfigStore
from openstation.errors import ConflictError, OpenStationError
from openstation.fileserv.daemon import die_with_parent
from openstation.scheduler import sandbox, schedule
from openstation.scheduler.service import ROOT, TaskService
from openstation.storage import recycle

log = logging.getLogger(__name__)
TICK = 10.0  # seconds between looks at the schedule
KEEP_RUNS = 20  # results (and outputs) kept per task
OUTPUT_LIMIT = 1 << 20  # bytes of a script's output kept
KILL_GRACE = 5.0
MAX_RUNNING = 8
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

Mail = Callable[[str, str, str], Awaitable[str | None]]  # (to, subject, body) → why not


@dataclass
class Result:
    """One run's outcome, as DSM's get_history_status_list shows it."""

    start: float
    stop: float = 0.0
    exit_code: int = 0
    exit_type: str = "normal"  # normal, by_signal, timeout or error
    detail: str = ""  # what a task other than a script did, or why it could not
    output: bytes = b""
    truncated: int = 0  # bytes of output beyond the limit, not kept
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.exit_type != "normal" or self.exit_code != 0

    def to_json(self) -> dict[str, Any]:
        return {"timestamp": str(int(self.start)), "start_time": _stamp(self.start),
                "stop_time": _stamp(self.stop), "exit_code": self.exit_code,
                "exit_type": self.exit_type, "detail": self.detail,
                "output_bytes": len(self.output) + self.truncated, **self.extra}


@dataclass
class Parts:
    """What the runner works with besides the store."""

    volume: Path
    runs_dir: Path  # system/task-runs
    clock: Callable[[], float]
    switch: Callable[[str, bool, str], None]  # (package id, on, actor)
    beep: Callable[[str, int], None]  # (why, seconds)
    mail: Mail
    settle: Callable[[], Awaitable[None]]
    power: Callable[[bool], Awaitable[None]]  # the power schedule: services off, or on
    shares_of: Callable[[str], list[tuple[str, bool]]]  # an account's (share, writable)


class TaskRunner:
    def __init__(self, store: ConfigStore, service: TaskService, parts: Parts) -> None:
        self.store = store
        self.service = service
        self.parts = parts
        self.running: dict[str, asyncio.Task[Result]] = {}
        self.tick = TICK
        self.powered_off = False  # by the power schedule: no scheduled task runs
        self._schedule: asyncio.Task[None] | None = None

    # --- the schedule ---------------------------------------------------------------

    def start(self) -> None:
        self._schedule = asyncio.get_running_loop().create_task(self._scheduled(),
                                                                name="task scheduler")

    def next_run(self, task: ScheduledTask, after: float | None = None) -> float | None:
        if not task.enabled:
            return None
        now = self.parts.clock() if after is None else after
        found = schedule.next_trigger(task.schedule, _local(now))
        return found.timestamp() if found is not None else None

    def due(self, checked: float, now: float) -> list[ScheduledTask]:
        """The enabled tasks whose next run after `checked` is at `now` or before (and
        after `checked`: in the hour a clock goes back, a wall time read twice is one run)."""
        return [task for task in self.service.tasks()
                if (at := self.next_run(task, checked)) is not None and checked < at <= now]

    def power_due(self, checked: float, now: float) -> bool | None:
        """Whether the power schedule switches on (True) or off (False) between `checked`
        and `now`: the later of the two if both came round; None if neither."""
        power = self.service.power()
        latest: tuple[float, bool] | None = None
        for on, times in ((True, power.power_on), (False, power.power_off)):
            for entry in times:
                if not entry.enabled:
                    continue
                at = schedule.next_trigger(TaskSchedule(
                    week_days=entry.week_days, hour=entry.hour, minute=entry.minute),
                    _local(checked))
                if at is not None and checked < at.timestamp() <= now and \
                        (latest is None or at.timestamp() >= latest[0]):
                    latest = (at.timestamp(), on)
        return None if latest is None else latest[1]

    async def _scheduled(self) -> None:
        checked = self.parts.clock()
        while True:
            await asyncio.sleep(self.tick)
            now = self.parts.clock()
            try:
                if self.store.writes_refused("storage") is None:
                    switch = self.power_due(checked, now)
                    if switch is not None and switch == self.powered_off:
                        self.powered_off = not switch
                        await self.parts.power(switch)
                    for task in [] if self.powered_off else \
                            await offload.run(self.due, checked, now):
                        with contextlib.suppress(ConflictError):
                            self.run(task.task_id, "scheduler")
            except Exception:  # the schedule must outlive any one task's trouble
                log.exception("the task schedule failed a tick")
            checked = now

    # --- runs -----------------------------------------------------------------------

    def run(self, task_id: str, actor: str) -> asyncio.Task[Result]:
        """Start a run of `task_id` now (ConflictError while it still runs)."""
        task = self.service.task(task_id)
        if task.task_id in self.running:
            raise ConflictError(f"task {task.name} is still running")
        if len(self.running) >= MAX_RUNNING:
            raise ConflictError(f"{MAX_RUNNING} tasks are running: try again later")
        self.store.check_writes("storage")
        started = asyncio.get_running_loop().create_task(self._run(task, actor),
                                                         name=f"task {task.task_id}")
        self.running[task.task_id] = started
        started.add_done_callback(lambda _t: self.running.pop(task.task_id, None))
        return started

    async def _run(self, task: ScheduledTask, actor: str) -> Result:
        result = Result(start=self.parts.clock())
        try:
            if task.kind is TaskKind.SCRIPT:
                await self._script(task, result)
            elif task.kind is TaskKind.RECYCLE:
                await self._recycle(task, result)
            elif task.kind is TaskKind.SERVICE:
                await self._service(task, result, actor)
            else:
                self.parts.beep(f"scheduled task {task.name}", task.beep_seconds)
                result.detail = f"beeped for {task.beep_seconds} s"
        except (OpenStationError, OSError) as exc:
            result.exit_type, result.exit_code, result.detail = "error", 1, str(exc)[:500]
        except asyncio.CancelledError:  # the device stops: the run is cut short, and says so
            result.exit_type, result.detail = "by_signal", "the device stopped during the run"
            result.exit_code, result.stop = signal.SIGTERM, self.parts.clock()
            await offload.run(self._keep, task, result)
            self._audit(task, result, actor)
            raise
        result.stop = self.parts.clock()
        await offload.run(self._keep, task, result)
        self._audit(task, result, actor)
        if task.notify_mail and (result.failed or not task.notify_if_error):
            why = await self.parts.mail(task.notify_mail, *self._message(task, result))
            if why is not None:
                log.warning("task %s: its mail was not sent: %s", task.name, why)
        return result

    async def _script(self, task: ScheduledTask, result: Result) -> None:
        owner = task.owner
        shares = self.parts.shares_of(owner) if owner != ROOT else []
        home = self.parts.volume / "homes" / owner
        env = {"PATH": PATH, "LANG": "C.UTF-8", "SHELL": "/bin/sh", "USER": owner,
               "LOGNAME": owner, "HOME": str(home if (owner == ROOT or "homes" in dict(
                   shares)) and home.is_dir() else self.parts.volume),
               "VOLUME1": str(self.parts.volume), "TASK_NAME": task.name,
               "TASK_ID": task.task_id}
        argv = ["/bin/sh", "-c", task.script]
        if owner != ROOT:  # an account's script sees only what the account may
            user = self.store.record(User, owner)
            if user is None or user.disabled:
                raise ConflictError(f"the account {owner} is disabled or gone: not run")
            if (why := sandbox.missing()) is not None:
                raise ConflictError(why)
            argv = sandbox.command(self.parts.volume, shares, Path(env["HOME"]), task.script)
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=env["HOME"], env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent)
        assert process.stdout is not None
        reading = asyncio.ensure_future(_read(process.stdout, result))
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), task.timeout)
        except TimeoutError:
            result.exit_type = "timeout"
            result.detail = f"stopped after its timeout of {task.timeout} s"
            await _stop_group(process)
        except asyncio.CancelledError:
            await _stop_group(process)
            raise
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reading, KILL_GRACE)  # a child kept the pipe: let it go
        code = process.returncode if process.returncode is not None else -signal.SIGKILL
        if code < 0:
            result.exit_code = -code
            if result.exit_type == "normal":
                result.exit_type = "by_signal"
        else:
            result.exit_code = code

    async def _recycle(self, task: ScheduledTask, result: Result) -> None:
        names = [s.name for s in self.store.records(Share)] if task.all_shares else \
            [s for s in task.shares if self.store.record(Share, s) is not None]
        policy = recycle.CleanPolicy(
            kind=task.recycle_policy,  # type: ignore[arg-type]  # checked by the service
            days=task.recycle_days, size=task.recycle_size_mb << 20,
            largest_first=task.recycle_sort == 0)
        now = self.parts.clock()
        files = freed = 0
        for name in names:
            removed, size = await offload.run(recycle.empty, self.parts.volume / name,
                                              policy, now)
            files, freed = files + removed, freed + size
        result.detail = f"{files} files ({freed} bytes) removed from the recycle bins " \
                        f"of {', '.join(names) or 'no shared folder'}"
        result.extra = {"files": files, "bytes": freed}

    async def _service(self, task: ScheduledTask, result: Result, actor: str) -> None:
        on = task.service_action == "start"
        for package in task.services:
            self.parts.switch(package, on, f"task:{task.name}")
        await self.parts.settle()
        result.detail = f"{task.service_action}: {', '.join(task.services)}"

    def _audit(self, task: ScheduledTask, result: Result, actor: str) -> None:
        detail = {"name": task.name, "type": task.kind.value, "by": actor,
                  **result.to_json()}
        with contextlib.suppress(OpenStationError, sqlite3.Error), \
                self.store.transaction(actor, ScheduledTask.section) as tx:
            tx.audit("run-failed" if result.failed else "run", ScheduledTask.section,
                     task.task_id, detail)

    def _message(self, task: ScheduledTask, result: Result) -> tuple[str, str]:
        outcome = "failed" if result.failed else "finished"
        subject = f"Scheduled task {task.name} {outcome}"
        body = (f"The scheduled task {task.name} {outcome} at {_stamp(result.stop)}.\n"
                f"Exit: {result.exit_type}, code {result.exit_code}. {result.detail}\n")
        if result.output:
            body += "\nOutput (its end):\n" + result.output[-4096:].decode(errors="replace")
        return subject, body

    # --- what runs leave --------------------------------------------------------------

    def history(self, task_id: str) -> list[dict[str, Any]]:
        """The task's kept results, newest first (read off the loop by the caller)."""
        if not _canonical(task_id):
            return []
        try:
            kept = json.loads((self.parts.runs_dir / f"{task_id}.json").read_text())
        except (OSError, ValueError):
            return []
        return [r for r in kept if isinstance(r, dict)] if isinstance(kept, list) else []

    def output_of(self, task_id: str, timestamp: str) -> bytes | None:
        if not (timestamp.isascii() and timestamp.isdigit()) or not _canonical(task_id):
            return None
        try:
            return (self.parts.runs_dir / str(task_id) / f"{timestamp}.log").read_bytes()
        except OSError:
            return None

    async def stop(self, task_id: str) -> None:
        """A task being deleted: its run (if any) is stopped and waited for first."""
        running = self.running.get(task_id)
        if running is not None:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await running

    def forget(self, task_id: str) -> None:
        """A deleted task's results go with it (the device's own files, not user data)."""
        if not _canonical(task_id):
            return
        with contextlib.suppress(FileNotFoundError):
            (self.parts.runs_dir / f"{task_id}.json").unlink()
        folder = self.parts.runs_dir / task_id
        if folder.is_dir() and not folder.is_symlink():
            for entry in folder.iterdir():
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
            with contextlib.suppress(OSError):
                folder.rmdir()

    def _keep(self, task: ScheduledTask, result: Result) -> None:
        if not _canonical(task.task_id):  # a name for files: never a path
            return
        runs = self.parts.runs_dir
        (runs / task.task_id).mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = str(int(result.start))
        if task.kind is TaskKind.SCRIPT:
            (runs / task.task_id / f"{stamp}.log").write_bytes(result.output)
            self._share_copy(task, result)
        kept = [result.to_json(), *[r for r in self.history(task.task_id)
                                    if r.get("timestamp") != stamp]][:KEEP_RUNS]
        _replace(runs / f"{task.task_id}.json", json.dumps(kept).encode())
        wanted = {f"{r['timestamp']}.log" for r in kept}
        for old in (runs / task.task_id).iterdir():
            if old.name not in wanted:
                old.unlink()

    def _share_copy(self, task: ScheduledTask, result: Result) -> None:
        """Task Scheduler's output setting: <share/folder>/<task>/<time>/output.log, made
        through folder descriptors that never follow a link a user planted."""
        settings = self.store.get(TaskOutput)
        if not settings.enabled or not settings.path:
            return
        share = self.store.record(Share, settings.path.split("/")[0])
        if share is None or share.encrypted:  # gone, or its plaintext not always there
            log.warning("task %s: its output folder %s is not in a plain shared folder",
                        task.name, settings.path)
            return
        folder = time.strftime("%Y%m%d-%H%M%S", time.localtime(result.start))
        task_folder = "".join(c if c.isalnum() or c in "-_ ." else "_" for c in task.name)
        parts = [*settings.path.split("/"), f"{task.task_id}-{task_folder}".strip(), folder]
        fd = -1
        try:
            fd = os.open(self.parts.volume, os.O_RDONLY | os.O_DIRECTORY)
            for depth, name in enumerate(parts):
                if depth:  # the share's own folder is never made here
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(name, 0o755, dir_fd=fd)
                child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                                dir_fd=fd)
                os.close(fd)
                fd = child
            out = os.open("output.log", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                          0o644, dir_fd=fd)
            with os.fdopen(out, "wb") as handle:
                handle.write(result.output)
        except OSError as exc:
            log.warning("task %s: its output was not written to %s: %s", task.name,
                        settings.path, exc)
        finally:
            if fd >= 0:
                os.close(fd)

    async def close(self) -> None:
        """The device stops: the schedule ends, running scripts are stopped and their
        results kept."""
        await background.ended(self._schedule)
        for running in list(self.running.values()):
            running.cancel()
        for running in list(self.running.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await running


async def _read(stream: asyncio.StreamReader, result: Result) -> None:
    """Keep the first OUTPUT_LIMIT bytes; count (and drop) the rest."""
    kept = bytearray()
    while chunk := await stream.read(65536):
        room = OUTPUT_LIMIT - len(kept)
        kept += chunk[:room]
        result.truncated += max(0, len(chunk) - room)
    result.output = bytes(kept)


async def _stop_group(process: asyncio.subprocess.Process) -> None:
    """SIGTERM to the script's process group, SIGKILL if it is still there after a grace."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), KILL_GRACE)
            return
        except TimeoutError:
            continue


def _canonical(task_id: str) -> bool:
    """Whether `task_id` is a task id as this device makes them (ASCII digits)."""
    return isinstance(task_id, str) and task_id.isascii() and task_id.isdigit() and \
        len(task_id) <= 12 and str(int(task_id)) == task_id


def _replace(path: Path, data: bytes) -> None:
    partial = path.with_suffix(".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def _local(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch)


def _stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) if epoch else ""
