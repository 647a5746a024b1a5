"""Resource Monitor's sampler: once a second it reads the host's CPU, memory, network,
disk and volume1's use (psutil, in a worker thread), adds the sample to the history, checks
the alarm rules and hands the sample to every live stream (server-sent events). The
history's minute and hour rings are written to system/ once a minute (off the loop) and
read back at boot; a stream that cannot keep up loses samples, never holds the sampler.

One sample costs the device the same whatever number of pages watch it: the streams only
get a copy of a small JSON line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from openstation import background, offload
from openstation.config.sections import ResourceMonitorSettings
from openstation.config.store import ConfigStore
from openstation.errors import OpenStationError
from openstation.files import write_atomic
from openstation.monitor.alarms import Alarms
from openstation.monitor.history import METRICS, History

log = logging.getLogger(__name__)
EVERY = 1.0
KEEP_EVERY = 60.0  # seconds between writes of the history
STREAM_QUEUE = 8  # samples a slow stream may fall behind before it loses some
MAX_STREAMS = 64


class Sampler:
    def __init__(self, store: ConfigStore, volume: Path, kept: Path,
                 clock: Callable[[], float]) -> None:
        self.store = store
        self.volume = volume
        self.kept = kept  # system/monitor-history.json
        self.clock = clock
        self.history = History()
        self.alarms = Alarms()
        self.streams: set[asyncio.Queue[str]] = set()
        self._last: tuple[float, tuple[int, int, int, int]] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.history = await offload.run(self._load)
        psutil.cpu_times_percent(interval=None)  # the first reading only sets a base
        self._task = asyncio.get_running_loop().create_task(self._run(), name="monitor")

    def _load(self) -> History:
        try:
            return History.from_json(json.loads(self.kept.read_text()))
        except (OSError, ValueError):
            return History()

    def read(self) -> tuple[float, ...]:
        """One sample (a worker thread): CPU % (user, system), memory %, network and disk
        bytes a second since the last sample, volume1's use %."""
        cpu = psutil.cpu_times_percent(interval=None)
        memory = psutil.virtual_memory().percent
        net = psutil.net_io_counters()
        disk = psutil.disk_io_counters()
        counters = (net.bytes_recv, net.bytes_sent, disk.read_bytes if disk else 0,
                    disk.write_bytes if disk else 0)
        now = time.monotonic()
        last, self._last = self._last, (now, counters)
        rates = [0.0] * 4
        if last is not None and now > last[0]:
            rates = [max(0.0, (c - b) / (now - last[0])) for c, b in zip(counters, last[1],
                                                                         strict=True)]
        usage = shutil.disk_usage(self.volume)
        volume = 100.0 * (usage.total - usage.free) / usage.total if usage.total else 0.0
        return (round(cpu.user + cpu.nice, 1), round(cpu.system, 1), round(memory, 1),
                *(round(r) for r in rates), round(volume, 1))

    async def _run(self) -> None:
        kept_at = time.monotonic()
        while True:
            await asyncio.sleep(EVERY)
            try:
                values = await offload.run(self.read)
                at = self.clock()
                settings = self.store.get(ResourceMonitorSettings)
                if settings.history:
                    self.history.add(at, values)
                for rule, value in self.alarms.check(settings.rules, at, values):
                    self._fired(rule.rule_id, rule.metric, value, rule.threshold)
                self._send(at, values)
                if settings.history and time.monotonic() - kept_at >= KEEP_EVERY:
                    kept_at = time.monotonic()
                    await offload.run(self._keep)
            except Exception:  # one bad reading must not end the monitor
                log.exception("a resource sample failed")

    def _fired(self, rule: str, metric: str, value: float, threshold: float) -> None:
        """An alarm: an entry in Log Center (and a notification, if a rule says)."""
        with contextlib.suppress(OpenStationError, sqlite3.Error), \
                self.store.transaction("resource monitor", "resource_monitor") as tx:
            tx.audit("alarm", "resource_monitor", rule,
                     {"metric": metric, "value": value, "threshold": threshold})

    def _send(self, at: float, values: tuple[float, ...]) -> None:
        if not self.streams:
            return
        line = json.dumps({"time": at, **dict(zip(METRICS, values, strict=True))})
        for queue in list(self.streams):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()  # the oldest goes: a slow page sees fresh numbers
            queue.put_nowait(line)

    def subscribe(self) -> asyncio.Queue[str] | None:
        """A live stream's queue (None: too many streams already)."""
        if len(self.streams) >= MAX_STREAMS:
            return None
        queue: asyncio.Queue[str] = asyncio.Queue(STREAM_QUEUE)
        self.streams.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        self.streams.discard(queue)

    def _keep(self) -> None:
        write_atomic(self.kept, json.dumps(self.history.to_json()).encode(), 0o600)

    async def close(self) -> None:
        if self._task is not None:
            await background.ended(self._task)
            self._task = None
            if self.store.get(ResourceMonitorSettings).history:
                with contextlib.suppress(OSError):
                    await offload.run(self._keep)
