"""Change events: the services decide, appliers make it real.

Every committed configuration change becomes one `ConfigChanged` (the sections it touched,
its rows in commit order, who made it). Whatever reacts to configuration — the listeners,
the firewall policy, discovery announcements, HA shipping, and the real backends to come —
subscribes here for the sections it cares about instead of being called by hand.

Handlers run in commit order. A plain function runs at once, before the writer's
transaction returns; a coroutine function is queued and run by one task per subscriber, in
order, so a slow applier never reorders or blocks another.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConfigChanged:
    """One committed transaction: the sections it touched and its rows."""

    sections: frozenset[str]
    rows: tuple[Any, ...]  # config.store.RowChange, in commit order
    actor: str = ""
    source: str = ""


Handler = Callable[[ConfigChanged], Awaitable[None] | None]


class _Subscriber:
    def __init__(self, handler: Handler, sections: frozenset[str] | None, name: str) -> None:
        self.handler = handler
        self.sections = sections
        self.name = name
        self.queued = inspect.iscoroutinefunction(handler)
        self.queue: asyncio.Queue[ConfigChanged] | None = None
        self.task: asyncio.Task[None] | None = None

    def wants(self, event: ConfigChanged) -> bool:
        return self.sections is None or bool(self.sections & event.sections)


class EventBus:
    """Publishes `ConfigChanged` to the appliers that subscribed to its sections."""

    def __init__(self) -> None:
        self._subscribers: list[_Subscriber] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        # Published, not yet delivered: appended in commit order (publish runs under the
        # store's lock), delivered in that order whichever thread committed.
        self._pending: collections.deque[ConfigChanged] = collections.deque()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on `loop`: a commit made in a worker thread (a restore, a reset step)
        is handed over to it, so appliers always run on the loop, in commit order."""
        self._loop = loop

    def subscribe(self, handler: Handler, sections: Iterable[str] | None = None,
                  name: str = "") -> Callable[[], None]:
        """Call `handler` for every change touching `sections` (None: every change);
        returns the unsubscribe function."""
        subscriber = _Subscriber(handler, frozenset(sections) if sections is not None
                                 else None, name or getattr(handler, "__qualname__", "?"))
        self._subscribers.append(subscriber)
        return lambda: self._remove(subscriber)

    def publish(self, event: ConfigChanged) -> None:
        """Deliver `event` to every interested subscriber (never raises)."""
        self._pending.append(event)
        if self._loop is not None and not self._on_loop():
            self._loop.call_soon_threadsafe(self._deliver_pending)
            return
        self._deliver_pending()

    def _on_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    def _deliver_pending(self) -> None:
        while True:
            try:
                event = self._pending.popleft()
            except IndexError:
                return
            self._deliver(event)

    def _deliver(self, event: ConfigChanged) -> None:
        for subscriber in list(self._subscribers):
            if not subscriber.wants(event):
                continue
            if subscriber.queued:
                self._queue_of(subscriber).put_nowait(event)
                continue
            try:
                subscriber.handler(event)
            except Exception:
                log.exception("applier %s failed", subscriber.name)

    async def drain(self) -> None:
        """Wait until every published event has been applied (tests, shutdown, barriers)."""
        self._deliver_pending()  # a worker thread's commit whose hand-over has not run yet
        for subscriber in list(self._subscribers):
            if subscriber.queue is not None:
                await subscriber.queue.join()

    async def close(self) -> None:
        """Stop every asynchronous subscriber's task (queued events are dropped)."""
        for subscriber in list(self._subscribers):
            self._remove(subscriber)

    def _queue_of(self, subscriber: _Subscriber) -> asyncio.Queue[ConfigChanged]:
        if subscriber.queue is None:
            subscriber.queue = asyncio.Queue()
            subscriber.task = asyncio.get_running_loop().create_task(
                self._run(subscriber, subscriber.queue), name=f"applier {subscriber.name}")
        return subscriber.queue

    async def _run(self, subscriber: _Subscriber, queue: asyncio.Queue[ConfigChanged]
                   ) -> None:
        while True:
            event = await queue.get()
            try:
                result = subscriber.handler(event)
                if result is not None:
                    await result
            except Exception:
                log.exception("applier %s failed", subscriber.name)
            finally:
                queue.task_done()

    def _remove(self, subscriber: _Subscriber) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(subscriber)
        if subscriber.task is not None:
            subscriber.task.cancel()
            subscriber.task = None
