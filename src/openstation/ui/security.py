"""Control Panel > Security: the firewall and its rules, Auto Block and its lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from openstation.accounts.sessions import Session
from openstation.errors import ValidationError
from openstation.security.firewall import rule_from_text, services
from openstation.security.service import SecurityService
from openstation.ui.kit import Messages, PageKit

ROUTES = (("GET", "/panel/security", "page"), ("POST", "/panel/security/firewall", "firewall"),
          ("POST", "/panel/security/autoblock", "autoblock"),
          ("POST", "/panel/security/list", "block_lists"))


class SecurityPages:
    """`/panel/security…`."""

    def __init__(self, kit: PageKit, security: SecurityService,
                 ports: Callable[[], dict[str, int]]) -> None:
        self.kit = kit
        self.security = security
        self.ports = ports  # where the device really listens: what `dsm` means in a rule

    def routes(self, app: web.Application) -> None:
        self.kit.add_admin_pages(app, self, ROUTES)

    async def page(self, request: web.Request, session: Session,
                   messages: Messages | None = None) -> web.Response:
        return self.kit.render("security.html", request, session, messages, title="Security",
                               firewall=self.security.firewall(), rules=self.security.rules(),
                               autoblock=self.security.autoblock())

    async def firewall(self, request: web.Request, session: Session) -> web.Response:
        def change(form: Any) -> None:
            rules = []
            for n, line in enumerate(str(form.get("rules", "")).splitlines()):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 4:
                    raise ValidationError({f"rules.{n}": "source ports protocol action"})
                rules.append(rule_from_text(f"rule{n + 1}", n, source=parts[0],
                                            ports=parts[1], protocol=parts[2],
                                            action=parts[3]))
            ports = self.ports()
            self.security.set_firewall(
                session.user, request.remote, services(
                    ports.get("http", 0), ports.get("https", 0), ports.get("findhost", 0),
                    ports.get("ssdp", 0)),
                enabled=form.get("enabled") == "1",
                default_action=str(form.get("default_action", "allow")), rules=rules,
                confirm=form.get("confirm_lockout") == "1")

        return await self.kit.apply(request, session, self.page, change)

    async def autoblock(self, request: web.Request, session: Session) -> web.Response:
        return await self.kit.apply(request, session, self.page, lambda f: (
            self.security.set_autoblock(
                session.user, enabled=f.get("enabled") == "1",
                attempts=int(str(f.get("attempts", "10"))),
                within_minutes=int(str(f.get("within_minutes", "5"))),
                expire_days=int(str(f.get("expire_days", "0"))))))

    async def block_lists(self, request: web.Request, session: Session) -> web.Response:
        def change(form: Any) -> None:
            kind, address = str(form.get("list", "")), str(form.get("address", "")).strip()
            if form.get("op") == "delete":
                self.security.delete_autoblock_entry(session.user, kind, address)
            else:
                self.security.add_autoblock_entry(session.user, kind, address)

        return await self.kit.apply(request, session, self.page, change)
