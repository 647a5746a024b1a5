"""Attack 1: idle and slow connections, and who may connect at all.

Before: 800 sockets that never sent a byte stayed open for over 130 s, and 300 of them
made every new request fail (EMFILE with an fd limit of 256); a blocked address could do it
too, since the firewall only looked at requests.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from openstation.config.sections import Action, Firewall, FirewallRule
from openstation.device import Device
from openstation.security.connections import ConnectionLimits, total_for_fd_limit
from tests.security.conftest import LIMITS, closed_within, connect
from tests.webapi.conftest import Api


async def test_the_defaults_bound_heads_idling_and_descriptors() -> None:
    defaults = ConnectionLimits()
    assert defaults.head_timeout <= 15 and defaults.idle_timeout <= 75
    assert total_for_fd_limit(256) < 256 and total_for_fd_limit(1024) < 1024


async def test_silent_connections_are_closed_after_the_head_timeout(device: Device) -> None:
    port = device.ports["http"]
    silent = [await connect(port) for _ in range(LIMITS.per_source)]
    started = time.monotonic()
    closed = await asyncio.gather(*(closed_within(r, LIMITS.head_timeout + 3)
                                    for r, _ in silent))
    assert all(closed)
    assert time.monotonic() - started < LIMITS.head_timeout + 2
    for _, writer in silent:
        writer.close()


async def test_a_slow_request_head_is_cut_off(device: Device) -> None:
    reader, writer = await connect(device.ports["http"])
    writer.write(b"GET /webapi/query.cgi HTTP/1.1\r\n")
    for _ in range(6):  # one header line every 0.3 s, never the blank line
        await asyncio.sleep(0.3)
        if reader.at_eof():
            break
        writer.write(b"X-Slow: 1\r\n")
    assert await closed_within(reader, LIMITS.head_timeout + 2)
    writer.close()


async def test_one_source_cannot_hold_every_connection(device: Device, api: Api) -> None:
    port = device.ports["http"]
    held = [await connect(port) for _ in range(LIMITS.per_source)]
    extra_reader, extra_writer = await connect(port)
    assert await closed_within(extra_reader, 0.5)  # over its cap: closed at once
    # Another address is still served while the first holds its share.
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.3", 0))
    async with aiohttp.ClientSession(connector=connector) as other:
        answer = await api.call("SYNO.API.Info", "query", http=other, query="SYNO.API.Auth")
    assert answer["success"]
    for _, writer in [*held, (extra_reader, extra_writer)]:
        writer.close()


async def test_all_sources_together_stay_under_the_global_cap(device: Device) -> None:
    port = device.ports["http"]
    held = []
    for n in range(LIMITS.total):
        held.append(await connect(port, f"127.0.1.{n // LIMITS.per_source + 1}"))
    over_reader, over_writer = await connect(port, "127.0.2.1")
    assert await closed_within(over_reader, 0.5)
    assert device.connections.count == LIMITS.total
    for _, writer in [*held, (over_reader, over_writer)]:
        writer.close()


async def test_a_kept_alive_connection_is_closed_once_idle(device: Device) -> None:
    reader, writer = await connect(device.ports["http"])
    writer.write(b"GET /webapi/query.cgi?api=SYNO.API.Info&method=query&version=1 HTTP/1.1\r\n"
                 b"Host: nas\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 200")
    assert not await closed_within(reader, LIMITS.head_timeout + 0.3)  # idle, not a slow head
    assert await closed_within(reader, LIMITS.idle_timeout + 2)
    writer.close()


async def test_a_denied_source_is_refused_when_it_connects(device: Device) -> None:
    with device.store.transaction("test") as tx:
        tx.put(Firewall(enabled=True))
        tx.put_record(FirewallRule(rule_id="deny-5", order=1, action=Action.DENY,
                                   source="127.0.0.5"))
    await device.bus.drain()
    reader, writer = await connect(device.ports["http"], "127.0.0.5")
    assert await closed_within(reader, 0.5)  # before any byte, long before the head timeout
    assert device.connections.refused == 1
    writer.close()


async def test_the_https_listener_is_guarded_before_its_handshake(device: Device) -> None:
    port = device.ports["https"]
    silent = [await connect(port) for _ in range(LIMITS.per_source)]
    over_reader, over_writer = await connect(port)
    assert await closed_within(over_reader, 0.5)
    assert all(await asyncio.gather(*(closed_within(r, LIMITS.head_timeout + 3)
                                      for r, _ in silent)))
    for _, writer in [*silent, (over_reader, over_writer)]:
        writer.close()


async def test_https_serves_a_client_that_speaks_at_once(device: Device, api: Api) -> None:
    """Its hello may arrive before TLS is started on the admitted connection: not lost."""
    url = f"https://127.0.0.1:{device.ports['https']}/webapi/query.cgi"
    for _ in range(5):
        async with aiohttp.ClientSession() as fresh, fresh.get(url, ssl=False, params={
                "api": "SYNO.API.Info", "version": "1", "method": "query"},
                timeout=aiohttp.ClientTimeout(total=5)) as response:
            assert (await response.json())["success"]
