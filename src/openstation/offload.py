"""Work that must not run on the event loop, and the pool it runs in.

Hashing, KDFs, RSA, sealing and large file I/O run in one bounded thread pool sized to the
cores (the C code of argon2, OpenSSL and hashlib releases the GIL, so they really run in
parallel). Password hashing also passes a `Gate`: at most a few hashes at once (argon2 takes
7 MiB each) and a bounded number waiting, so a login storm queues instead of growing.
"""

from __future__ import annotations

import asyncio
import functools
import os
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from openstation.errors import BusyError

P = ParamSpec("P")
T = TypeVar("T")

LARGE_IO = 64 << 10  # file reads and writes above this many bytes go to the pool


def workers() -> int:
    """Threads in the pool: one per core, at least two."""
    return max(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 2)


def install_pool(loop: asyncio.AbstractEventLoop) -> ThreadPoolExecutor:
    """Give `loop` a default executor bounded to the cores (the device calls this at start)."""
    pool = ThreadPoolExecutor(max_workers=workers(), thread_name_prefix="openstation-work")
    loop.set_default_executor(pool)
    return pool


async def run(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn` in the loop's pool and wait for it without blocking the loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))


class Gate:
    """At most `concurrency` calls at once and at most `waiting` queued; more is refused
    with BusyError. One semaphore per event loop (tests run many loops in one process)."""

    def __init__(self, concurrency: int, waiting: int) -> None:
        self.concurrency = concurrency
        self.waiting = waiting
        self._state: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop,
                                               tuple[asyncio.Semaphore, list[int]]] = (
            weakref.WeakKeyDictionary())

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        state = self._state.get(loop)
        if state is None:
            state = self._state[loop] = (asyncio.Semaphore(self.concurrency), [0])
        semaphore, queued = state
        if semaphore.locked() and queued[0] >= self.waiting:
            raise BusyError("the device is busy checking passwords; try again in a moment")
        queued[0] += 1
        try:
            await semaphore.acquire()
        finally:
            queued[0] -= 1
        try:
            return await run(fn, *args, **kwargs)
        finally:
            semaphore.release()
