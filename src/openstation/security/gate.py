"""The firewall as the device enforces it on its own ports (the virtual network backend).

One `FirewallGate` per boot holds the compiled policy. It is an applier: it recompiles when
the firewall sections change and when the listeners move (a rule naming `dsm` follows the
UI ports) and when Auto Block's lists change. The web listeners ask it when they accept a
connection (`connections.py`) and again per request (the policy may change while a
connection lives); findhost and SSDP ask per datagram.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from openstation.accounts.login import address_in
from openstation.config.sections import AutoBlock, Firewall
from openstation.events import ConfigChanged
from openstation.security.firewall import FirewallPolicy, services
from openstation.security.service import SecurityService

SECTIONS = ("firewall", "firewall_rules", "autoblock")


class FirewallGate:
    """Whether a source may reach one of the device's ports, now."""

    def __init__(self, security: SecurityService, ports: Callable[[], dict[str, int]],
                 clock: Callable[[], float]) -> None:
        self.security = security
        self.ports = ports  # the ports the device really listens on
        self.clock = clock
        self.policy = FirewallPolicy(Firewall(), [])  # allows all until `reload`
        self.autoblock = AutoBlock()
        self._blocked: dict[str, float | None] = {}  # address → expiry (None: never)

    def reload(self, _event: ConfigChanged | None = None) -> None:
        """Compile the stored rules against the ports in use (an applier)."""
        ports = self.ports()
        self.policy = self.security.policy(services(
            ports.get("http", 0), ports.get("https", 0), ports.get("findhost", 0),
            ports.get("ssdp", 0)))
        self.autoblock = self.security.autoblock()
        self._blocked = {entry.address: entry.expires for entry in self.autoblock.block}

    def allowed(self, ip: str, port: int, protocol: str) -> bool:
        return self.policy.allowed(ip, port, protocol)

    def admits(self, ip: str, port: int) -> bool:
        """Whether a TCP connection from `ip` to `port` may be accepted: the firewall allows
        it and Auto Block does not hold the address (its allow list wins)."""
        return self.allowed(ip, port, "tcp") and not self.blocked(ip)

    def blocked(self, ip: str) -> bool:
        if ip not in self._blocked:
            return False
        expires = self._blocked[ip]
        return ((expires is None or expires > self.clock())
                and not address_in(ip, self.autoblock.allow))

    def udp(self, service: str) -> Callable[[str], bool]:
        """The check a UDP responder makes of a source (`service`: findhost or ssdp)."""
        return lambda ip: self.allowed(ip, self.ports().get(service, 0), "udp")

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """A source the firewall denies, or Auto Block holds, gets no answer: the connection
        is closed (the rules may have changed since it was accepted)."""
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        port = sockname[1] if sockname else 0
        if not self.admits(request.remote or "", port):
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPForbidden()
        response: web.StreamResponse = await handler(request)
        return response
