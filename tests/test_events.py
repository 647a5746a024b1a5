"""The event bus: appliers hear the commits they subscribed to, in commit order, on the loop,
and one failing applier never stops another."""

from __future__ import annotations

import asyncio
import threading

from openstation.config.sections import Firewall, Ports
from openstation.config.store import ConfigStore
from openstation.events import ConfigChanged, EventBus


def event(*sections: str) -> ConfigChanged:
    return ConfigChanged(frozenset(sections), (), "t", "test")


async def test_subscribers_hear_only_their_sections_in_order() -> None:
    bus = EventBus()
    bus.bind(asyncio.get_running_loop())
    heard: list[str] = []
    slow: list[str] = []

    async def applier(changed: ConfigChanged) -> None:
        await asyncio.sleep(0.01)  # a slow applier keeps its own order
        slow.append(",".join(sorted(changed.sections)))

    def broken(_changed: ConfigChanged) -> None:
        raise RuntimeError("an applier that fails")

    bus.subscribe(broken)
    bus.subscribe(lambda changed: heard.append(",".join(sorted(changed.sections))),
                  ("ports", "firewall"))
    stop = bus.subscribe(applier, ("ports",))
    for sections in (("ports",), ("users",), ("firewall", "ports"), ("ports",)):
        bus.publish(event(*sections))
    assert heard == ["ports", "firewall,ports", "ports"]  # plain functions: at once
    await bus.drain()
    assert slow == ["ports", "firewall,ports", "ports"]
    stop()
    bus.publish(event("ports"))
    await bus.drain()
    assert len(slow) == 3
    await bus.close()


async def test_a_commit_in_a_worker_thread_is_delivered_on_the_loop(
        store: ConfigStore) -> None:
    bus = EventBus()
    loop = asyncio.get_running_loop()
    bus.bind(loop)
    store.events = bus
    threads: list[threading.Thread] = []
    changes: list[ConfigChanged] = []

    def heard(changed: ConfigChanged) -> None:
        threads.append(threading.current_thread())
        changes.append(changed)

    bus.subscribe(heard, ("ports",))

    def commit() -> None:
        with store.transaction("alice", "network") as tx:
            tx.put(Ports(5050, 5051))
            tx.put(Firewall(enabled=True))

    await asyncio.to_thread(commit)
    await bus.drain()
    assert threads == [threading.main_thread()]
    assert changes[0].sections == {"ports", "firewall"}
    assert (changes[0].actor, changes[0].source) == ("alice", "network")
    await bus.close()


async def test_a_worker_threads_commit_is_delivered_before_a_later_one_on_the_loop() -> None:
    bus = EventBus()
    bus.bind(asyncio.get_running_loop())
    heard: list[str] = []
    bus.subscribe(lambda changed: heard.append(next(iter(changed.sections))))
    worker = threading.Thread(target=bus.publish, args=(event("first"),))
    worker.start()
    worker.join()  # published, its delivery only scheduled on the loop
    bus.publish(event("second"))  # on the loop, before that scheduled delivery ran
    await asyncio.sleep(0)
    assert heard == ["first", "second"]
    await bus.close()
