"""The firewall as the device enforces it on its own ports (the virtual network backend).

One `FirewallGate` per boot holds the compiled policy. It is an applier: it recompiles when
the firewall sections change and when the listeners move (a rule naming `dsm` follows the
UI ports). The HTTP(S) listeners ask it in a middleware, findhost and SSDP per datagram.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from openstation.config.sections import Firewall
from openstation.events import ConfigChanged
from openstation.security.firewall import FirewallPolicy, services
from openstation.security.service import SecurityService

SECTIONS = ("firewall", "firewall_rules")


class FirewallGate:
    """Whether a source may reach one of the device's ports, now."""

    def __init__(self, security: SecurityService, ports: Callable[[], dict[str, int]]) -> None:
        self.security = security
        self.ports = ports  # the ports the device really listens on
        self.policy = FirewallPolicy(Firewall(), [])  # allows all until `reload`

    def reload(self, _event: ConfigChanged | None = None) -> None:
        """Compile the stored rules against the ports in use (an applier)."""
        ports = self.ports()
        self.policy = self.security.policy(services(
            ports.get("http", 0), ports.get("https", 0), ports.get("findhost", 0),
            ports.get("ssdp", 0)))

    def allowed(self, ip: str, port: int, protocol: str) -> bool:
        return self.policy.allowed(ip, port, protocol)

    def udp(self, service: str) -> Callable[[str], bool]:
        """The check a UDP responder makes of a source (`service`: findhost or ssdp)."""
        return lambda ip: self.allowed(ip, self.ports().get(service, 0), "udp")

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """A source the firewall denies gets no answer: the connection is closed."""
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        port = sockname[1] if sockname else 0
        if not self.allowed(request.remote or "", port, "tcp"):
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPForbidden()
        response: web.StreamResponse = await handler(request)
        return response
