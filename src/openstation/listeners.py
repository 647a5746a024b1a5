"""The device's HTTP and HTTPS listeners: one aiohttp application, served on both.

A listener is a set of sites (one per served host) on one port of the application's single
runner. Moving a listener (Control Panel > DSM Settings, a Mode 1 reset, a restore, a
replicated change) binds the new port first, so a busy port changes nothing, and closes the
old sites afterwards, in the background: the request that asked for the move is still being
answered on them.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web

from openstation.errors import PortInUseError, ValidationError
from openstation.events import ConfigChanged
from openstation.network.validate import ports_problems
from openstation.security.connections import ConnectionGuard, GuardedSite

log = logging.getLogger(__name__)

KINDS = ("http", "https")


class Listeners:
    """Where the device's web application listens."""

    def __init__(self, app: web.Application, guard: ConnectionGuard, hosts: list[str],
                 ports: dict[str, int], wanted: Callable[[], tuple[int, int]],
                 spawn: Callable[[Coroutine[Any, Any, Any]], None],
                 moved: Callable[[], Awaitable[None]]) -> None:
        self.hosts = hosts
        self.tls: ssl.SSLContext | None = None  # until `serve_https`
        self._current: ssl.SSLContext | None = None  # what new handshakes use
        self.wanted = wanted  # (http, https) the device should listen on now
        self.spawn = spawn  # run a coroutine in the background, awaited at shutdown
        self.moved = moved  # after every move: firewall, announcements, runtime file
        self.guard = guard  # admission, caps and the head timer of every connection
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                    keepalive_timeout=guard.limits.idle_timeout,
                                    max_line_size=8190, max_field_size=8190, max_headers=64,
                                    lingering_time=0)  # an unread body is not drained
        self.ports = ports  # shared with the device: its real ports, UDP ones included
        self._sites: dict[str, list[web.TCPSite]] = {}
        self._extra: list[web.TCPSite] = []  # the HA cluster address, when serving it

    async def start(self) -> None:
        """Set the application up and listen for HTTP on the wanted port."""
        await self.runner.setup()
        sites, bound = await self._bind("http", self.wanted()[0])
        self._sites["http"], self.ports["http"] = sites, bound
        await self.moved()

    async def serve_https(self, tls: ssl.SSLContext) -> None:
        """Listen for HTTPS too, now that the certificate exists (a first boot makes it
        while the rest of the device starts)."""
        self.tls = self._current = tls
        tls.sni_callback = self._hand_over
        sites, bound = await self._bind("https", self.wanted()[1])
        self._sites["https"], self.ports["https"] = sites, bound
        await self.moved()

    def replace_tls(self, fresh: ssl.SSLContext) -> None:
        """(On the loop.) New handshakes use `fresh`: the sites keep the context they were
        made with, whose callback hands each new connection the current one (OpenSSL calls
        it for every client hello, with or without a server name)."""
        self._current = fresh

    def _hand_over(self, tls: ssl.SSLObject, _name: str | None, context: ssl.SSLContext
                   ) -> None:
        if self._current is not None and self._current is not context:
            tls.context = self._current

    async def change(self, http: int, https: int, commit: Callable[[], object]) -> None:
        """Move to new ports: bind them, then `commit` (store them), then switch over; a
        busy or invalid port is refused and changes nothing."""
        problems = ports_problems(http, https)
        if problems:
            raise ValidationError(problems)
        fresh: dict[str, tuple[list[web.TCPSite], int]] = {}
        try:
            for kind, port in zip(KINDS, (http, https), strict=True):
                if port != self.ports.get(kind) and kind in self._sites:
                    fresh[kind] = await self._bind(kind, port)
            commit()
        except BaseException as exc:
            for sites, _ in fresh.values():
                await _stop(sites)
            if isinstance(exc, PortInUseError):
                raise ValidationError({f"{kind}_port": str(exc)}) from None
            raise
        for kind, (sites, port) in fresh.items():
            self._switch(kind, sites, port)
        if fresh:
            await self.moved()

    async def follow(self, _event: ConfigChanged | None = None) -> None:
        """Move to the wanted ports if the listeners are elsewhere (an applier on `ports`:
        after Mode 1, a restore or a replicated change). A busy port keeps the old one."""
        moved = False
        for kind, port in zip(KINDS, self.wanted(), strict=True):
            if port in (0, self.ports.get(kind)) or kind not in self._sites:
                continue  # (HTTPS not serving yet: it starts on the wanted port)
            try:
                sites, bound = await self._bind(kind, port)
            except PortInUseError as exc:
                log.error("keeping the %s listener on port %s: %s", kind,
                          self.ports.get(kind), exc)
                continue
            self._switch(kind, sites, bound)
            moved = True
        if moved:
            await self.moved()

    async def also_serve(self, address: str | None) -> None:
        """Listen on `address` too (the HA cluster address), or stop doing so (None)."""
        await _stop(self._extra)
        self._extra = []
        if address is None or "0.0.0.0" in self.hosts:
            return
        for kind in KINDS:
            if kind not in self.ports:
                continue
            site = self._site(address, self.ports[kind], kind)
            try:
                await site.start()
            except OSError as exc:
                log.error("cannot listen on cluster address %s: %s", address, exc)
                continue
            self._extra.append(site)

    async def close(self) -> None:
        await self.runner.cleanup()
        self._sites.clear()
        self._extra = []
        for kind in KINDS:
            self.ports.pop(kind, None)

    def _site(self, host: str, port: int, kind: str) -> web.TCPSite:
        return GuardedSite(self.runner, host, port, self.guard,
                           self.tls if kind == "https" else None)

    async def _bind(self, kind: str, port: int) -> tuple[list[web.TCPSite], int]:
        """Sites for `kind` on `port` on every host (port 0: one free port for all)."""
        sites: list[web.TCPSite] = []
        bound = port
        try:
            for host in self.hosts:
                site = self._site(host, bound, kind)
                try:
                    await site.start()
                except OSError as exc:
                    if exc.errno == errno.EADDRINUSE:
                        raise PortInUseError(
                            f"port {port} on {host} is already in use") from None
                    raise PortInUseError(
                        f"cannot listen on {host}:{port} ({exc.strerror})") from None
                sites.append(site)
                bound = site.port
        except BaseException:
            await _stop(sites)
            raise
        return sites, bound

    def _switch(self, kind: str, sites: list[web.TCPSite], port: int) -> None:
        old = self._sites.get(kind, [])
        self._sites[kind], self.ports[kind] = sites, port
        self.spawn(_stop(old))


async def _stop(sites: list[web.TCPSite]) -> None:
    for site in sites:
        with contextlib.suppress(Exception):
            await site.stop()
