"""Catch callbacks that block the event loop (tests and diagnostics).

Every asyncio callback runs through `Handle._run`; wrapped, each one is timed (two clock
reads and a getrusage). A callback blocked the loop when it ran for longer than the limit and
the time went to work or waiting of its own: CPU time of the loop's thread, or time it slept
in a system call (a voluntary context switch). Time the thread merely waited for a core on a
busy 2-core machine (an involuntary switch) is no fault of the code (see `blocked`), and
neither is a garbage collection that happens to run inside the callback: its pause is taken
out (the device freezes what boot made, so its own collections stay short).

While a callback runs past half the limit, a watcher thread samples the loop thread's stack
every few milliseconds, so a report says where the time went ("at file:line"). A block whose
samples all show a test's own code and never openstation's (a test's setup writing files,
its client parsing a reply) is marked "outside openstation": the suite watches the device,
not itself.

Off unless `OPENSTATION_LOOPWATCH` names a file: each blocking callback appends one line to
it, at once (a process killed by a test has reported already).
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

ENV = "OPENSTATION_LOOPWATCH"
LIMIT = 0.050  # seconds

OUTSIDE = "outside openstation"
OWN_CODE = str(Path(__file__).parent)  # a sample in a file under here is the device's
NOT_OWN = frozenset({__file__, str(Path(__file__).with_name("testing.py"))})  # tests' helpers

_installed = False
_sinks: list[Callable[[str], None]] = []
# thread id → (perf_counter at the callback's start, stack samples taken while it runs)
_running: dict[int, tuple[float, list[tuple[str, bool | None]]]] = {}
MAX_SAMPLES = 64


_gc = threading.local()  # per thread: CPU seconds spent in garbage collection so far


def _gc_seconds() -> float:
    return getattr(_gc, "total", 0.0)


def _count_gc(phase: str, _info: dict[str, Any]) -> None:
    if phase == "start":
        _gc.started = time.thread_time()
    elif hasattr(_gc, "started"):
        _gc.total = _gc_seconds() + time.thread_time() - _gc.started


def _switches() -> tuple[int, int]:
    """(voluntary, involuntary) context switches of the calling thread so far."""
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_nvcsw, usage.ru_nivcsw


def blocked(elapsed: float, cpu: float, slept: bool, preempted: bool,
            limit: float = LIMIT) -> bool:
    """Whether one callback blocked the loop: it worked on the CPU for longer than `limit`,
    or it slept in a system call (disk, sleep, a lock) for longer than four times `limit`.
    The looser bound for waits is the disk's: SQLite commits (fsync) run on the loop, and on
    a shared 2-core machine under a whole test suite one can wait 100 ms and more. Time the
    thread only waited for a core (it was preempted) is not counted at all."""
    if cpu > limit:
        return True
    return slept and elapsed - cpu > 4 * limit


def _sample(frame: FrameType | None) -> tuple[str, bool | None]:
    """Where a stack stands: its innermost frame of openstation (or, with none, of a project
    file, else the innermost), and whose it is: openstation's (True), a test's own code with
    no openstation frame (False), or neither, a library's on its own (None)."""
    innermost = frame
    fallback: FrameType | None = None
    tests = False
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(OWN_CODE) and name not in NOT_OWN:
            return f"{name[len(OWN_CODE) - 11:]}:{frame.f_lineno}", True
        tests = tests or f"{os.sep}tests{os.sep}" in name or name in NOT_OWN
        if fallback is None and name != __file__ and "site-packages" not in name \
                and "/lib/python" not in name:
            fallback = frame
        frame = frame.f_back
    shown = fallback or innermost
    where = "?" if shown is None else f"{Path(shown.f_code.co_filename).name}:{shown.f_lineno}"
    return where, False if tests else None


def _watch(limit: float) -> None:
    """Sample the stack of every loop thread whose callback has run past half the limit."""
    while True:
        time.sleep(limit / 10)
        if not _running:
            continue
        now = time.perf_counter()
        frames = sys._current_frames()
        for ident, (started, samples) in list(_running.items()):
            if now - started > limit / 2 and len(samples) < MAX_SAMPLES:
                samples.append(_sample(frames.get(ident)))
        del frames


def _where(samples: list[tuple[str, bool | None]]) -> str:
    """Where the time went; "outside openstation" only when every sample was a test's own
    code (a library working for the device, say aiohttp's, is the device's)."""
    if not samples:
        return ""
    places = Counter(place for place, _ in samples).most_common(3)
    shown = ", ".join(f"{place} x{count}" for place, count in places)
    outside = all(own is False for _, own in samples)
    return f" at {shown}" + (f" ({OUTSIDE})" if outside else "")


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

    gc.callbacks.append(_count_gc)
    threading.Thread(target=_watch, args=(limit,), name="loopwatch", daemon=True).start()

    def timed_run(self: asyncio.Handle) -> None:
        wall, cpu, (voluntary, involuntary) = (time.perf_counter(), time.thread_time(),
                                               _switches())
        collected = _gc_seconds()
        ident = threading.get_ident()
        samples: list[tuple[str, bool | None]] = []
        outer = _running.get(ident)  # a loop run inside a callback (asyncio.run in a sync call)
        _running[ident] = (wall, samples)
        try:
            original(self)
        finally:
            if outer is None:
                del _running[ident]
            else:
                _running[ident] = outer
            elapsed = time.perf_counter() - wall
            if elapsed > limit:
                # A garbage collection that struck during the callback is the heap's
                # (in a test process: the whole suite's), not the callback's own work.
                paused = _gc_seconds() - collected
                used = time.thread_time() - cpu - paused
                elapsed -= paused
                now_voluntary, now_involuntary = _switches()
                if blocked(elapsed, used, now_voluntary > voluntary,
                           now_involuntary > involuntary, limit):
                    line = (f"loop blocked {elapsed * 1000:.0f} ms (cpu {used * 1000:.0f} ms) "
                            f"by {_describe(self)}{_where(samples)}")
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
