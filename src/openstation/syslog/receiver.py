"""Log Center's receiving role: a syslog server (UDP or TCP) on the device's addresses,
keeping what other devices send (RFC 5424 or BSD) in `received.py`. An applier: it follows
the `log_receiving` settings.

Every source is bounded: the firewall and Auto Block decide first; then at most RATE
messages a second (a burst of BURST), CONNECTIONS open TCP streams, a frame of MAX_FRAME
bytes, and IDLE seconds of silence before a stream is closed. What arrives is parsed on the
loop (cheap) and written in batches off it; past QUEUE_LIMIT waiting entries, the newest
are dropped and counted."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from openstation import offload
from openstation.config.sections import LogReceiving, SyslogTransport
from openstation.config.store import ConfigStore
from openstation.syslog import rfc5424
from openstation.syslog.received import ReceivedLogs

RATE, BURST = 100.0, 200.0  # messages per second per source, and the bucket
RATE_ALL = 1000.0  # messages per second from everyone (UDP sources can be forged)
STREAMS = 64  # open TCP streams in all
CONNECTIONS = 8  # open TCP streams per source
MAX_FRAME = 8192
IDLE = 120.0
QUEUE_LIMIT = 10_000
FLUSH_EVERY = 0.25
SOURCES = 4096  # rate buckets kept (least recently heard from go first)
Allowed = Callable[[str, int, str], bool]  # (source, port, "udp"|"tcp") → may it be heard


class Buckets:
    """Per-source token buckets, bounded (pure but for `now`)."""

    def __init__(self, rate: float = RATE, burst: float = BURST, size: int = SOURCES) -> None:
        self.rate, self.burst, self.size = rate, burst, size
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, source: str, now: float) -> bool:
        tokens, last = self._buckets.pop(source, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        self._buckets[source] = (tokens - 1, now) if tokens >= 1 else (tokens, now)
        if len(self._buckets) > self.size:
            self._buckets.popitem(last=False)
        return tokens >= 1


class LogReceiver:
    def __init__(self, store: ConfigStore, received: ReceivedLogs, hosts: list[str],
                 allowed: Allowed, clock: Callable[[], float]) -> None:
        self.store = store
        self.received = received
        self.hosts = hosts
        self.allowed = allowed
        self.clock = clock
        self.port = 0
        self.why = ""
        self.count = 0
        self.dropped = 0
        self._running: tuple[int, str] | None = None
        self._closers: list[Callable[[], None]] = []
        self._streams: dict[str, int] = {}
        self._buckets = Buckets()
        self._everyone = Buckets(RATE_ALL, RATE_ALL * 2, 1)  # spoofed sources share this
        self._writers: set[asyncio.StreamWriter] = set()
        self._lock = asyncio.Lock()
        self._pending: list[dict[str, Any]] = []
        self._flusher: asyncio.Task[None] | None = None

    def status(self) -> dict[str, Any]:
        settings = self.store.get(LogReceiving)
        return {"enabled": settings.enabled, "listening": self._running is not None,
                "port": self.port or None, "received": self.count, "dropped": self.dropped,
                "why": self.why}

    async def apply(self, _event: object = None) -> None:
        async with self._lock:  # the applier and the API's own call, one at a time
            await self._apply()

    async def _apply(self) -> None:
        settings = self.store.get(LogReceiving)
        wanted = (settings.port, settings.transport.value)
        if not settings.enabled:
            await self._close()
            return
        if self._running == wanted:
            return
        await self._close()
        try:
            if settings.transport is SyslogTransport.UDP:
                await self._listen_udp(settings.port)
            else:
                await self._listen_tcp(settings.port)
        except OSError as exc:
            await self._close()
            self.why = f"cannot listen on port {settings.port}: {exc.strerror or exc}"
            return
        self.why = ""
        self._running = wanted
        self._flusher = asyncio.get_running_loop().create_task(self._flush(),
                                                               name="log receiving")

    async def close(self) -> None:
        async with self._lock:
            await self._close()

    async def _close(self) -> None:
        for close in self._closers:
            close()
        self._closers.clear()
        for writer in list(self._writers):  # a closed server leaves its streams open
            writer.close()
        self._running, self.port = None, 0
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._flusher
            self._flusher = None
        await self._write()  # what already arrived is kept

    def _heard(self, raw: bytes, source: str) -> None:
        now = time.monotonic()
        if not self._everyone.take("", now) or not self._buckets.take(source, now):
            self.dropped += 1
            return
        if len(self._pending) >= QUEUE_LIMIT:
            self.dropped += 1
            return
        self._pending.append(rfc5424.parse(raw[:MAX_FRAME], source, self.clock()))
        self.count += 1

    async def _flush(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            await self._write()

    async def _write(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            await offload.run(self.received.add, batch)
        except (sqlite3.Error, OSError) as exc:  # a full disk: what arrived is lost, said
            self.dropped += len(batch)
            self.why = f"received logs cannot be kept: {exc}"

    async def _listen_udp(self, port: int) -> None:
        receiver = self

        class Datagrams(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
                source = str(addr[0])
                if receiver.allowed(source, receiver.port, "udp"):
                    receiver._heard(data, source)

        loop = asyncio.get_running_loop()
        for host in self.hosts:
            transport, _ = await loop.create_datagram_endpoint(
                Datagrams, local_addr=(host, port or self.port))
            self.port = int(transport.get_extra_info("sockname")[1])
            self._closers.append(transport.close)

    async def _listen_tcp(self, port: int) -> None:
        server = await asyncio.start_server(self._stream, self.hosts, port or None,
                                            limit=MAX_FRAME * 2)
        self.port = int(server.sockets[0].getsockname()[1])
        self._closers.append(server.close)

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                      ) -> None:
        source = str(writer.get_extra_info("peername")[0])
        if not self.allowed(source, self.port, "tcp") or len(self._writers) >= STREAMS or \
                self._streams.get(source, 0) >= CONNECTIONS:
            writer.close()
            return
        self._streams[source] = self._streams.get(source, 0) + 1
        self._writers.add(writer)
        buffer = bytearray()
        try:
            while True:
                chunk = await asyncio.wait_for(reader.read(MAX_FRAME), IDLE)
                if not chunk:
                    return
                buffer += chunk
                messages = rfc5424.deframe(buffer, MAX_FRAME)
                if messages is None:
                    return  # a broken stream: closed
                for message in messages:
                    self._heard(message, source)
        except (TimeoutError, ConnectionError, OSError):
            return
        finally:
            self._writers.discard(writer)
            self._streams[source] -= 1
            if not self._streams[source]:
                del self._streams[source]
            writer.close()
