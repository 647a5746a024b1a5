"""Catch callbacks that block the event loop (tests and diagnostics).

Every asyncio callback runs through `Handle._run`; wrapped, each one is timed. A callback
blocked the loop when it ran for longer than the limit *and* the time went to work or waiting
of its own: CPU time of the loop's thread, or time it slept in a system call (a voluntary
context switch). Time the thread merely waited for a core on a busy 2-core machine (an
involuntary switch) is no fault of the code, and is not counted as blocking.

Off unless `OPENSTATION_LOOPWATCH` names a file: each blocking callback appends one line to
it, at once (a process killed by a test has reported already).
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV = "OPENSTATION_LOOPWATCH"
LIMIT = 0.050  # seconds

_installed = False
_sinks: list[Callable[[str], None]] = []


def _voluntary_switches() -> int:
    return resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw


def _describe(handle: asyncio.Handle) -> str:
    callback: Any = getattr(handle, "_callback", None)
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        frame = getattr(coro, "cr_frame", None)
        where = (f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "")
        name = getattr(coro, "__qualname__", repr(coro))
        return f"task {name} {where}".strip()
    module = getattr(callback, "__module__", None) or type(callback).__module__
    name = getattr(callback, "__qualname__", None) or type(callback).__qualname__
    return f"{module}.{name}"[:200]


def install(sink: Callable[[str], None], limit: float = LIMIT) -> None:
    """Report every blocking callback to `sink` (installed once per process)."""
    global _installed
    _sinks.append(sink)
    if _installed:
        return
    _installed = True
    original = asyncio.events.Handle._run

    def timed_run(self: asyncio.Handle) -> None:
        wall, cpu, switches = time.perf_counter(), time.thread_time(), _voluntary_switches()
        try:
            original(self)
        finally:
            elapsed = time.perf_counter() - wall
            if elapsed > limit:
                used = time.thread_time() - cpu
                slept = _voluntary_switches() > switches
                if used > limit or (slept and elapsed > limit):
                    line = (f"loop blocked {elapsed * 1000:.0f} ms (cpu {used * 1000:.0f} ms) "
                            f"by {_describe(self)}")
                    for report in list(_sinks):
                        report(line)

    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]


def remove(sink: Callable[[str], None]) -> None:
    """Stop reporting to `sink` (the wrapper stays: it costs two clock reads a callback)."""
    if sink in _sinks:
        _sinks.remove(sink)


def from_environment() -> None:
    """Install the watch if `OPENSTATION_LOOPWATCH` names a report file."""
    target = os.environ.get(ENV)
    if not target:
        return
    path = Path(target)

    def append(line: str) -> None:
        with path.open("a") as report:
            report.write(f"[pid {os.getpid()}] {line}\n")

    install(append)
