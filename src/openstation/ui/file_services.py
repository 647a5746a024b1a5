"""Control Panel > File Services: SMB, SFTP, rsync and WebDAV on or off, their ports, and
whether each runs (or why not)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from openstation.accounts.sessions import Session
from openstation.fileserv.service import FileServicesService
from openstation.ui.kit import Messages, PageKit

ROUTES = (("GET", "/panel/fileservices", "page"),
          ("POST", "/panel/fileservices", "change"))


class FileServicesPages:
    """`/panel/fileservices`."""

    def __init__(self, kit: PageKit, services: FileServicesService,
                 status: Callable[[], dict[str, Any]],
                 settle: Callable[[], Awaitable[None]]) -> None:
        self.kit = kit
        self.services = services
        self.status = status
        self.settle = settle  # the page shows the services as they run after a change

    def routes(self, app: web.Application) -> None:
        self.kit.add_admin_pages(app, self, ROUTES)

    async def page(self, request: web.Request, session: Session,
                   messages: Messages | None = None) -> web.Response:
        return self.kit.render("file_services.html", request, session, messages,
                               title="File Services", settings=self.services.settings(),
                               status=self.status())

    async def change(self, request: web.Request, session: Session) -> web.Response:
        async def apply(form: Any) -> None:
            def port(name: str) -> int:
                return int(str(form.get(name, "0")))

            self.services.set(
                session.user, smb_enabled=form.get("smb_enabled") == "1",
                smb_port=port("smb_port"), workgroup=str(form.get("workgroup", "")),
                sftp_enabled=form.get("sftp_enabled") == "1", sftp_port=port("sftp_port"),
                rsync_enabled=form.get("rsync_enabled") == "1",
                webdav_enabled=form.get("webdav_enabled") == "1",
                webdav_port=port("webdav_port"), webdav_https_port=port("webdav_https_port"))
            await self.settle()

        return await self.kit.apply(request, session, self.page, apply)
