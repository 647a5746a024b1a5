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
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
PER_OWNER = 4  # streams one session may hold (a browser has 6 connections per host)
SMOOTH = 60  # alarms judge the average of the last minute, not one bursty second


class Sampler:
    def __init__(self, store: ConfigStore, volume: Path, kept: Path,
                 clock: Callable[[], float]) -> None:
        self.store = store
        self.volume = volume
        self.kept = kept  # system/monitor-history.json
        self.clock = clock
        self.history = History()
        self.alarms = Alarms()
        self.streams: dict[asyncio.Queue[str | None], str] = {}  # queue → its owner
        self._last: tuple[float, tuple[int, int, int, int]] | None = None
        self._cpu: Any = None  # the previous psutil.cpu_times(): this sampler's own base
        self._recent: deque[tuple[float, ...]] = deque(maxlen=SMOOTH)
        self._keeping = threading.Lock()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.history = await offload.run(self._load)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="monitor")

    def _load(self) -> History:
        try:
            return History.from_json(json.loads(self.kept.read_text()))
        except (OSError, ValueError):
            return History()

    def read(self) -> tuple[float, ...]:
        """One sample (a worker thread): CPU % (user, system), memory %, network and disk
        bytes a second since the last sample, volume1's use %."""
        user, system = self._cpu_percent()
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
        return (user, system, round(memory, 1),
                *(round(r) for r in rates), round(volume, 1))

    def _cpu_percent(self) -> tuple[float, float]:
        """User and system CPU % since the last sample, from this sampler's own reading
        (psutil's cpu_times_percent keeps one base for the whole process, which another
        caller would cut short)."""
        now, last = psutil.cpu_times(), self._cpu
        self._cpu = now
        if last is None:
            return 0.0, 0.0
        total = sum(now) - sum(last)
        if total <= 0:
            return 0.0, 0.0
        user = (now.user + now.nice - last.user - last.nice) / total * 100
        return round(max(0.0, user), 1), round(max(0.0, (now.system - last.system) / total
                                                        * 100), 1)

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
                self._recent.append(values)
                smooth = tuple(sum(v[i] for v in self._recent) / len(self._recent)
                               for i in range(len(values)))
                fired = self.alarms.check(settings.rules, at, smooth)
                if fired:
                    self._fired([(r.rule_id, r.metric, round(v, 1), r.threshold)
                                 for r, v in fired])
                self._send(at, values)
                if settings.history and time.monotonic() - kept_at >= KEEP_EVERY:
                    kept_at = time.monotonic()
                    await offload.run(self._keep, json.dumps(self.history.to_json()))
            except Exception:  # one bad reading must not end the monitor
                log.exception("a resource sample failed")

    def _fired(self, alarms: list[tuple[str, str, float, float]]) -> None:
        """Alarms: entries in Log Center (the bell shows them), one commit a tick."""
        with contextlib.suppress(OpenStationError, sqlite3.Error), \
                self.store.transaction("resource monitor", "resource_monitor") as tx:
            for rule, metric, value, threshold in alarms:
                tx.audit("alarm", "resource_monitor", rule,
                         {"metric": metric, "value": value, "threshold": threshold})

    def _send(self, at: float, values: tuple[float, ...]) -> None:
        if not self.streams:
            return
        line = json.dumps({"time": at, **dict(zip(METRICS, values, strict=True))})
        for queue in list(self.streams):
            _put(queue, line)

    def subscribe(self, owner: str) -> asyncio.Queue[str | None] | None:
        """A live stream's queue (None: too many streams, in all or for `owner`). A None
        in it means the stream is over (the device stops)."""
        if len(self.streams) >= MAX_STREAMS or \
                sum(1 for o in self.streams.values() if o == owner) >= PER_OWNER:
            return None
        queue: asyncio.Queue[str | None] = asyncio.Queue(STREAM_QUEUE)
        self.streams[queue] = owner
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str | None]) -> None:
        self.streams.pop(queue, None)

    def _keep(self, text: str) -> None:
        with self._keeping:  # the minute's write and the one at close never cross
            write_atomic(self.kept, text.encode(), 0o600)

    async def close(self) -> None:
        for queue in list(self.streams):  # every open page's stream ends now
            _put(queue, None)
        if self._task is not None:
            await background.ended(self._task)
            self._task = None
            if self.store.get(ResourceMonitorSettings).history:
                with contextlib.suppress(OSError):
                    await offload.run(self._keep, json.dumps(self.history.to_json()))


def _put(queue: asyncio.Queue[str | None], item: str | None) -> None:
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()  # the oldest goes: a slow page sees fresh numbers
    queue.put_nowait(item)
