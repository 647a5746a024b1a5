"""Attack 10: discovery as an amplifier, and the cost of a spray of spoofed sources."""

from __future__ import annotations

import asyncio
import socket

from openstation.accounts.failures import FailureCounter
from openstation.device import Device
from openstation.discovery.udp import ANSWERS_PER_SOURCE

SEARCH = (b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
          b'MAN: "ssdp:discover"\r\nMX: 1\r\nST: upnp:rootdevice\r\n\r\n')


async def test_ssdp_answers_one_source_a_bounded_number_of_times(device: Device) -> None:
    port = device.ports["ssdp"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        for _ in range(200):
            sock.sendto(SEARCH, ("127.0.0.1", port))
        await asyncio.sleep(0.5)
        answers = 0
        while True:
            try:
                sock.recvfrom(4096)
            except BlockingIOError:
                break
            answers += 1
    assert 1 <= answers <= ANSWERS_PER_SOURCE


def test_counters_forget_the_least_recent_source_first() -> None:
    counter = FailureCounter(limit=2, window=1e9, max_keys=1000)
    counter.record("kept", 0.0)
    counter.record("forgotten", 0.0)
    for n in range(10_000):  # a spray of spoofed sources
        counter.record(f"spoofed-{n}", float(n))
        if n % 500 == 0:
            counter.record("kept", float(n))  # counted now and then: survives the spray
    assert len(counter) == 1000
    assert counter.over_limit("kept", 10_000.0)
    counter.record("forgotten", 10_000.0)
    assert not counter.over_limit("forgotten", 10_000.0)  # evicted: counting afresh
