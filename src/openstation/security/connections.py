"""Who may hold a connection to the device's web listeners, and for how long.

A connection is admitted when it is accepted, before TLS and before any request: the
firewall and Auto Block decide, and caps per source address and in all keep strangers from
holding the device's file descriptors. A connection whose request head does not arrive in
time is closed, and so is one whose body arrives slower than a floor rate while the device
waits for it; aiohttp's keep-alive timeout closes one that stays idle between requests.

TLS is started here, after admission (`loop.start_tls`), so a refused or capped source never
costs a handshake, and a handshake counts against the head timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler


@dataclass(frozen=True)
class ConnectionLimits:
    """The bounds every web listener enforces."""

    head_timeout: float = 15.0  # accepted (or a new request begun) → its whole head read
    idle_timeout: float = 75.0  # a kept-alive connection waiting for its next request
    body_rate: int = 1024  # bytes/s a body must average over each head_timeout while read
    per_source: int = 64  # open connections from one address
    total: int = 0  # open connections in all; 0: from the file-descriptor limit


def total_for_fd_limit(soft: int) -> int:
    """A global cap below the fd limit, leaving room for the store, daemons and files."""
    return max(16, min(4096, soft - max(64, soft // 4)))


EARLY_LIMIT = 64 << 10  # bytes held for aiohttp while TLS finishes starting


class ConnectionGuard:
    """Counts and admits the connections of one device's web listeners."""

    def __init__(self, limits: ConnectionLimits, allowed: Callable[[str, int], bool]) -> None:
        self.limits = limits
        self.allowed = allowed  # (address, local port) → firewall and Auto Block agree
        self.total = limits.total or total_for_fd_limit(
            resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        self.open: dict[str, int] = {}
        self.refused = 0  # connections closed at accept (for tests and status)
        self.serving: dict[RequestHandler, Connection] = {}  # aiohttp's handler → ours

    @property
    def count(self) -> int:
        return sum(self.open.values())

    def admit(self, ip: str, port: int) -> bool:
        if (self.open.get(ip, 0) >= self.limits.per_source or self.count >= self.total
                or not self.allowed(ip, port)):
            self.refused += 1
            return False
        self.open[ip] = self.open.get(ip, 0) + 1
        return True

    def release(self, ip: str) -> None:
        left = self.open.get(ip, 0) - 1
        if left > 0:
            self.open[ip] = left
        else:
            self.open.pop(ip, None)

    def factory(self, server: web.Server, tls: ssl.SSLContext | None) -> Callable[[], Connection]:
        """The protocol factory of one listening socket."""
        return lambda: Connection(self, server, tls)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """A request head arrived: its connection's head timer stops until the next one."""
        connection = self.serving.get(request.protocol)
        if connection is not None:
            connection.start_request(request)
        try:
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            if connection is not None:
                connection.end_request()


class Connection(asyncio.Protocol):
    """One accepted connection: admission, TLS, the head timer, then aiohttp's handler."""

    def __init__(self, guard: ConnectionGuard, server: web.Server,
                 tls: ssl.SSLContext | None) -> None:
        self.guard = guard
        self.server = server
        self.tls = tls
        self.ip = ""
        self.admitted = False
        self.busy = False
        self.transport: asyncio.Transport | None = None
        self.inner: RequestHandler | None = None
        self.request: web.Request | None = None  # the one being handled
        self.received = 0  # bytes since the body timer last looked
        self._timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._handshake: asyncio.Task[None] | None = None
        # What the TLS layer decrypted before `start_tls` returned (a request sent in the
        # same flight as the handshake's end): handed to aiohttp once it is attached.
        self._early: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        self.ip = str(peer[0]) if peer else ""
        if not self.guard.admit(self.ip, int(local[1]) if local else 0):
            transport.abort()
            return
        self.admitted = True
        self.transport = transport
        self._arm()
        if self.tls is None:
            self._attach(transport)
        else:
            # Nothing may be read before the TLS layer takes the transport over (a client
            # sends its hello at once); start_tls resumes reading.
            transport.pause_reading()
            self._handshake = asyncio.get_running_loop().create_task(
                self._start_tls(transport, self.tls))

    async def _start_tls(self, raw: asyncio.Transport, tls: ssl.SSLContext) -> None:
        loop = asyncio.get_running_loop()
        try:
            secured = await loop.start_tls(raw, self, tls, server_side=True,
                                           ssl_handshake_timeout=self.guard.limits.head_timeout)
        except (OSError, ssl.SSLError, RuntimeError):  # TimeoutError is an OSError
            secured = None
        if secured is None or self.transport is None:
            raw.abort()
            self._done()  # the TLS layer never tells a failed handshake to its app protocol
            return
        self.transport = secured
        self._attach(secured)

    def _attach(self, transport: asyncio.Transport) -> None:
        self.inner = self.server()
        self.guard.serving[self.inner] = self
        self.inner.connection_made(transport)
        early, self._early = self._early, []
        for data in early:
            self.inner.data_received(data)

    def data_received(self, data: bytes) -> None:
        if self.inner is None:
            if self.transport is not None and sum(map(len, self._early)) < EARLY_LIMIT:
                self._early.append(data)
            elif self.transport is not None:
                self.transport.abort()
            return
        if self._timer is None and not self.busy:
            self._arm()  # the first bytes of the next request on a kept-alive connection
        self.received += len(data)
        self.inner.data_received(data)

    def eof_received(self) -> None:
        if self.inner is not None:
            self.inner.eof_received()

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._done()
        if self.inner is not None:
            self.guard.serving.pop(self.inner, None)
            inner, self.inner = self.inner, None
            inner.connection_lost(exc)

    def start_request(self, request: web.Request) -> None:
        """A request head arrived: no head timer now; its body must keep coming."""
        self.busy, self.request, self.received = True, request, 0
        self.stop_timer()
        if request.body_exists:  # (most requests have none: no timer on the hot path)
            self._body_timer = asyncio.get_running_loop().call_later(
                self.guard.limits.head_timeout, self._body_check)

    def end_request(self) -> None:
        self.busy, self.request = False, None
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_check(self) -> None:
        """Close the connection if its body trickles: the device is waiting for it (the
        body is unfinished and reading is not paused by our own backpressure) and less than
        the floor rate arrived since the last look."""
        self._body_timer = None
        limits, request, transport = self.guard.limits, self.request, self.transport
        if request is None or transport is None:
            return
        waiting = not request.content.is_eof() and transport.is_reading()
        if waiting and self.received < limits.body_rate * limits.head_timeout:
            with contextlib.suppress(Exception):
                transport.abort()
            return
        self.received = 0
        self._body_timer = asyncio.get_running_loop().call_later(limits.head_timeout,
                                                                 self._body_check)

    def stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        self.stop_timer()
        self._timer = asyncio.get_running_loop().call_later(
            self.guard.limits.head_timeout, self._too_slow)

    def _too_slow(self) -> None:
        self._timer = None
        if self.transport is not None and not self.busy:
            with contextlib.suppress(Exception):
                self.transport.abort()

    def _done(self) -> None:
        self.stop_timer()
        self.end_request()
        if self.admitted:
            self.admitted = False
            self.guard.release(self.ip)
        self.transport = None


class GuardedSite(web.TCPSite):
    """A TCP site whose connections go through a `ConnectionGuard` (and TLS, if given)."""

    __slots__ = ("_guard", "_tls")

    def __init__(self, runner: web.AppRunner, host: str, port: int, guard: ConnectionGuard,
                 tls: ssl.SSLContext | None) -> None:
        super().__init__(runner, host, port, reuse_address=True)
        self._guard = guard
        self._tls = tls

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            self._guard.factory(server, self._tls), self._host, self._port,
            backlog=self._backlog, reuse_address=True)
        self._bound_port = self._server.sockets[0].getsockname()[1]
