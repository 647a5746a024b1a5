"""The loop watch itself: it must see a blocked loop, and not a loop that only waits."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from openstation import loopwatch


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


@pytest.mark.blocks_loop_on_purpose
async def test_cpu_work_and_a_blocking_sleep_on_the_loop_are_reported() -> None:
    found: list[str] = []
    loopwatch.install(found.append)
    try:
        _burn(0.08)
        await asyncio.sleep(0)  # ends the task step that burned
        time.sleep(0.25)
        await asyncio.sleep(0)
    finally:
        loopwatch.remove(found.append)
    assert len(found) == 2, found
    assert all("test_cpu_work_and_a_blocking_sleep" in line for line in found), found


async def test_waiting_and_work_in_threads_are_not_reported() -> None:
    found: list[str] = []
    loopwatch.install(found.append)
    try:
        await asyncio.sleep(0.08)
        await asyncio.to_thread(_burn, 0.08)
        await asyncio.to_thread(time.sleep, 0.08)
    finally:
        loopwatch.remove(found.append)
    assert found == []


@pytest.mark.parametrize(("elapsed", "cpu", "slept", "preempted", "expected"), [
    (0.080, 0.070, False, False, True),   # work
    (0.080, 0.070, False, True, True),    # work, though also preempted
    (0.250, 0.005, True, False, True),    # a blocking system call
    (0.150, 0.005, True, False, False),   # a slow disk under load: under the wait bound
    (0.300, 0.005, True, True, True),     # far too long to be the machine alone
    (0.300, 0.005, False, True, False),   # only waited for a core
])
def test_what_counts_as_blocking(elapsed: float, cpu: float, slept: bool, preempted: bool,
                                 expected: bool) -> None:
    assert loopwatch.blocked(elapsed, cpu, slept, preempted) is expected


@pytest.mark.blocks_loop_on_purpose  # building the heap takes a while, in one step
async def test_a_garbage_collection_inside_a_callback_is_not_its_fault() -> None:
    import gc

    found: list[str] = []
    heap = [[n] for n in range(600_000)]  # a big heap makes a full collection slow
    for item in heap:
        item.append(item)  # cycles: the collector must walk them
    await asyncio.sleep(0)
    loopwatch.install(found.append)
    try:
        start = time.thread_time()
        gc.collect()
        took = time.thread_time() - start
        await asyncio.sleep(0)
    finally:
        loopwatch.remove(found.append)
        del heap
    assert took > 0.02, "the heap was too small to measure anything"
    assert found == []


@pytest.mark.blocks_loop_on_purpose
async def test_a_report_says_where_and_whose_the_time_was(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    found: list[str] = []
    loopwatch.install(found.append)
    try:
        _burn(0.08)  # this file's code: not openstation's
        await asyncio.sleep(0)
        monkeypatch.setattr(loopwatch, "OWN_CODE", str(Path(__file__).parent))
        _burn(0.08)  # now "openstation's" (the watch takes this folder for its code)
        await asyncio.sleep(0)
    finally:
        loopwatch.remove(found.append)
    assert len(found) == 2, found
    assert "test_loopwatch.py:" in found[0] and loopwatch.OUTSIDE in found[0], found
    assert "test_loopwatch.py:" in found[1] and loopwatch.OUTSIDE not in found[1], found
