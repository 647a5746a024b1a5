"""File Station's background tasks: copy/move, delete, search, folder size, MD5, compress
and extract run in threads of their own, off the event loop and out of the pool that
hashes passwords, so a 1 GiB copy never delays a login.

A task belongs to the user who started it; another user's task id is "no such task". It
runs to its end whether or not the client that started it is still connected, reports
progress as it goes, and stops at its next block when asked to. Each user keeps a bounded
number of tasks: the oldest finished ones are forgotten first, and a user whose tasks are
all still running is told the system is busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openstation.errors import ApiError, BusyError, NotFoundError
from openstation.storage.service import StorageService

PER_USER = 32  # tasks a user keeps (running or finished)
RUNNING_PER_USER = 4
THREADS = 2


class Cancelled(Exception):
    """The task was stopped by its user (or the device is shutting down)."""


@dataclass
class Task:
    """One background task and what it reports."""

    id: str
    user: str
    api: str
    version: int
    method: str
    params: dict[str, Any]
    started: float
    status: dict[str, Any] = field(default_factory=dict)  # written by the worker thread
    finished: bool = False
    error: ApiError | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    found: list[Any] = field(default_factory=list)  # a search's results, as they come
    # Tell the device (HA replication) of each path the task writes, from its thread.
    changed: Callable[[Path], None] = lambda _path: None
    renamed: Callable[[Path, Path], None] = lambda _src, _dst: None

    def check(self) -> None:
        """Raise Cancelled if the task was asked to stop (the worker calls this often)."""
        if self.stop.is_set():
            raise Cancelled

    def update(self, **values: Any) -> None:
        self.status.update(values)


Work = Callable[[Task], dict[str, Any] | None]


class TaskBoard:
    """Every user's background tasks."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._tasks: dict[str, Task] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._running: set[asyncio.Future[Any]] = set()

    def start(self, user: str, api: str, version: int, method: str, params: dict[str, Any],
              work: Work, storage: StorageService | None = None) -> Task:
        """Run `work` in a task thread; returns at once with the task."""
        mine = sorted((t for t in self._tasks.values() if t.user == user),
                      key=lambda t: t.started)
        if sum(not t.finished for t in mine) >= RUNNING_PER_USER:
            raise BusyError("too many file operations are running; wait for one to finish")
        for old in [t for t in mine if t.finished][:max(0, len(mine) + 1 - PER_USER)]:
            del self._tasks[old.id]
        task = Task(f"FileStation_{secrets.token_hex(8).upper()}", user, api, version,
                    method, params, self.clock())
        if storage is not None:  # its callbacks belong to the loop
            loop = asyncio.get_running_loop()

            def changed(path: Path) -> None:
                loop.call_soon_threadsafe(storage.changed, path)

            def renamed(src: Path, dst: Path) -> None:
                loop.call_soon_threadsafe(storage.renamed, src, dst)

            task.changed, task.renamed = changed, renamed
        self._tasks[task.id] = task
        if self._pool is None:
            self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="filestation-task")
        future = asyncio.get_running_loop().run_in_executor(self._pool, _run, task, work)
        self._running.add(future)
        future.add_done_callback(lambda f: self._ended(task, f))
        return task

    def _ended(self, task: Task, future: asyncio.Future[Any]) -> None:
        self._running.discard(future)
        task.finished = True
        task.done.set()

    def get(self, user: str, task_id: str) -> Task:
        task = self._tasks.get(task_id)
        if task is None or task.user != user:
            raise NotFoundError(f"no task {task_id!r}")
        return task

    def stop(self, user: str, task_id: str) -> Task:
        task = self.get(user, task_id)
        task.stop.set()
        return task

    def forget(self, user: str, task_id: str) -> None:
        task = self.stop(user, task_id)
        self._tasks.pop(task.id, None)

    def of(self, user: str, apis: set[str] | None = None) -> list[Task]:
        return sorted((t for t in self._tasks.values()
                       if t.user == user and (apis is None or t.api in apis)),
                      key=lambda t: t.started)

    def clear_finished(self, user: str, task_ids: list[str] | None = None) -> None:
        for task in self.of(user):
            if task.finished and (task_ids is None or task.id in task_ids):
                del self._tasks[task.id]

    async def close(self) -> None:
        """Stop every task and wait for their threads (shutdown, Mode 2's reboot)."""
        for task in self._tasks.values():
            task.stop.set()
        if self._running:
            await asyncio.wait(list(self._running), timeout=30)
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None


def _run(task: Task, work: Work) -> None:
    """The thread's side: run the work and record how it ended (never raises)."""
    try:
        result = work(task)
        if result:
            task.update(**result)
    except Cancelled:
        task.update(cancelled=True)
    except ApiError as exc:
        task.error = exc
    except Exception as exc:  # a task's failure is its status, never a lost thread
        with contextlib.suppress(Exception):
            task.error = ApiError(401, errors={"reason": str(exc) or type(exc).__name__})
