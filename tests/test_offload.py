"""The worker pool's gate: a login storm waits its turn, and past the bound it is told the
device is busy instead of growing without end."""

from __future__ import annotations

import asyncio
import threading

import pytest

from openstation.errors import BusyError
from openstation.offload import Gate


async def test_the_gate_bounds_work_at_once_and_waiting() -> None:
    gate = Gate(concurrency=2, waiting=3)
    release = threading.Event()
    running = 0
    most = 0
    lock = threading.Lock()

    def work() -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(5)
        with lock:
            running -= 1
        return 1

    tasks = [asyncio.ensure_future(gate.run(work)) for _ in range(5)]  # 2 at work, 3 wait
    await asyncio.sleep(0.05)
    with pytest.raises(BusyError):
        await gate.run(work)  # the sixth: nowhere to wait
    release.set()
    assert sum(await asyncio.gather(*tasks)) == 5
    assert most == 2
    assert await gate.run(work) == 1  # room again
