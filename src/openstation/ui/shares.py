"""Control Panel > Shared Folder: create, encrypt, mount and unmount, export the key, Key
Manager with "Mount automatically on startup", delete (with a confirmation)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from openstation.accounts.sessions import Session
from openstation.errors import OpenStationError, ValidationError
from openstation.storage.service import StorageService
from openstation.ui.kit import Messages, PageKit, problems
from openstation.webapi.shares import share_json

ROUTES = (("GET", "/panel/share", "page"), ("POST", "/panel/share/create", "create"),
          ("POST", "/panel/share/delete", "delete"), ("POST", "/panel/share/crypto", "crypto"))


class SharePages:
    """`/panel/share…`."""

    def __init__(self, kit: PageKit, storage: StorageService) -> None:
        self.kit = kit
        self.storage = storage

    def routes(self, app: web.Application) -> None:
        self.kit.add_admin_pages(app, self, ROUTES)

    async def page(self, request: web.Request, session: Session,
                   messages: Messages | None = None) -> web.Response:
        return self.kit.render("shares.html", request, session, messages, title="Shared Folder",
                               shares=[share_json(self.storage, s)
                                       for s in self.storage.shares()],
                               keys=self.storage.key_entries(),
                               encryption=self.storage.encryption_status())

    async def create(self, request: web.Request, session: Session) -> web.Response:
        return await self.kit.apply(request, session, self.page, lambda f: (
            self.storage.create_share(
                str(f.get("name", "")), actor=session.user,
                description=str(f.get("description", "")), encrypted=f.get("encrypted") == "1",
                passphrase=str(f.get("passphrase", "")) or None)))

    async def delete(self, request: web.Request, session: Session) -> web.Response:
        return await self.kit.apply(request, session, self.page, lambda f: (
            self.storage.delete_share(str(f.get("name", "")), actor=session.user,
                                      confirm=f.get("confirm") == "1")))

    async def crypto(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        name, op = str(form.get("name", "")), str(form.get("op", ""))
        storage = self.storage
        if op == "export":
            try:
                body = await storage.export_key(name, str(form.get("export_passphrase", "")))
            except OpenStationError as exc:
                return await self.page(request, session, problems(exc))
            return web.Response(body=body, content_type="application/octet-stream",
                                headers={"Content-Disposition":
                                         f'attachment; filename="{name}.key"'})

        async def change(f: Any) -> None:
            if op == "mount":
                await storage.mount(name, passphrase=str(f.get("passphrase", "")) or None)
            elif op == "unmount":
                await storage.unmount(name)
            elif op == "keymanager":
                await storage.key_manager_add(
                    name, actor=session.user,
                    passphrase=str(f.get("export_passphrase", "")) or None)
                storage.set_share(name, actor=session.user, mount_on_startup=True)
            else:
                raise ValidationError({"op": "mount, unmount, export or keymanager"})

        return await self.kit.apply(request, session, self.page, change)
