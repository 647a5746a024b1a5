"""Control Panel > Network: general, interfaces, PPPoE and the DSM ports."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from openstation.accounts.sessions import Session
from openstation.network.service import NetworkService
from openstation.ui.kit import Messages, PageKit, PortsChanger

ROUTES = (("GET", "/panel/network", "page"), ("POST", "/panel/network/general", "general"),
          ("POST", "/panel/network/interface", "interface"),
          ("POST", "/panel/network/pppoe", "pppoe"), ("POST", "/panel/network/ports", "ports"))


class NetworkPages:
    """`/panel/network…`."""

    def __init__(self, kit: PageKit, network: NetworkService, change_ports: PortsChanger
                 ) -> None:
        self.kit = kit
        self.network = network
        self.change_ports = change_ports  # binds first: a busy port changes nothing

    def routes(self, app: web.Application) -> None:
        self.kit.add_admin_pages(app, self, ROUTES)

    async def page(self, request: web.Request, session: Session,
                   messages: Messages | None = None) -> web.Response:
        return self.kit.render("network.html", request, session, messages, title="Network",
                               network=self.network.settings(), pppoe=self.network.pppoe(),
                               ports=self.network.ports())

    async def general(self, request: web.Request, session: Session) -> web.Response:
        return await self.kit.apply(request, session, self.page, lambda f: (
            self.network.set_general(
                session.user, server_name=str(f.get("server_name", "")),
                default_gateway=str(f.get("gateway", "")),
                dns=[d.strip() for d in str(f.get("dns", "")).split(",") if d.strip()])))

    async def interface(self, request: web.Request, session: Session) -> web.Response:
        return await self.kit.apply(request, session, self.page, lambda f: (
            self.network.set_interface(
                session.user, str(f.get("id", "")), dhcp=f.get("dhcp") == "1",
                address=str(f.get("address", "")), netmask=str(f.get("netmask", "")),
                gateway=str(f.get("gateway", "")), mtu=int(str(f.get("mtu", "1500"))))))

    async def pppoe(self, request: web.Request, session: Session) -> web.Response:
        def change(form: Any) -> None:
            values: dict[str, Any] = {"enabled": form.get("enabled") == "1",
                                      "username": str(form.get("username", ""))}
            if form.get("password"):
                values["password"] = str(form["password"])
            self.network.set_pppoe(session.user, **values)

        return await self.kit.apply(request, session, self.page, change)

    async def ports(self, request: web.Request, session: Session) -> web.Response:
        return await self.kit.apply(request, session, self.page, lambda f: (
            self.change_ports(session.user, int(str(f.get("http", ""))),
                              int(str(f.get("https", ""))))))
