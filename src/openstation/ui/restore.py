"""Control Panel > Update & Restore > Configuration Backup: back up, preview, restore."""

from __future__ import annotations

import secrets
import time
from typing import Any

from aiohttp import web

from openstation import offload
from openstation.accounts.sessions import Session
from openstation.config import auto_backup
from openstation.errors import OpenStationError
from openstation.lifecycle.restore_engine import ConfigBackups
from openstation.ui.kit import COOKIE, Messages, PageKit, problems

MAX_PENDING = 4  # previewed files a session keeps waiting for their confirmation


ROUTES = (("GET", "/panel/restore", "page"), ("POST", "/panel/restore/export", "export"),
          ("POST", "/panel/restore/preview", "preview"), ("POST", "/panel/restore/apply", "apply"))


class RestorePages:
    """`/panel/restore…`."""

    def __init__(self, kit: PageKit, backups: ConfigBackups) -> None:
        self.kit = kit
        self.ctx = kit.ctx
        self.backups = backups

    def routes(self, app: web.Application) -> None:
        self.kit.add_admin_pages(app, self, ROUTES)

    async def page(self, request: web.Request, session: Session,
                   messages: Messages | None = None, preview: dict[str, Any] | None = None,
                   pending: str = "") -> web.Response:
        snapshots = [p.name for p in auto_backup.snapshots(self.ctx.data_dir.volume)]
        return self.kit.render("restore.html", request, session, messages,
                               title="Update & Restore", preview=preview, pending=pending,
                               snapshots=snapshots)

    async def export(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        body = await self.backups.backup(str(form.get("passphrase", "")) or None)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(self.ctx.clock()))
        return web.Response(body=body, content_type="application/octet-stream", headers={
            "Content-Disposition": f'attachment; filename="{self.ctx.hardware.model_name}-'
                                  f'{stamp}.dss.json"', "Cache-Control": "no-store"})

    async def preview(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        raw = (await offload.run(upload.file.read)  # up to 64 MiB
               if isinstance(upload, web.FileField) else b"")
        passphrase = str(form.get("passphrase", "")) or None
        try:
            preview = await self.backups.preview(raw, passphrase, None)
        except OpenStationError as exc:
            return await self.page(request, session, problems(exc))
        # The checked file waits on the server (in this session) for the confirmation; no
        # secret goes back to the browser.
        pending = secrets.token_urlsafe(12)
        waiting = session.pending
        while len(waiting) >= MAX_PENDING:
            waiting.pop(next(iter(waiting)))
        waiting[pending] = (raw, passphrase)
        return await self.page(request, session, preview=preview, pending=pending)

    async def apply(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        found = session.pending.pop(str(form.get("pending", "")), None)
        if found is None:
            return await self.page(request, session, [(
                "error", "Choose the backup file again (the preview expired).")])
        sections = [str(s) for s in form.getall("sections", [])]
        if not sections:
            return await self.page(request, session, [("error", "Tick a section.")])
        raw, passphrase = found
        try:
            await self.backups.restore(raw, passphrase, sections, session.user)
        except OpenStationError as exc:
            return await self.page(request, session, problems(exc))
        response = web.HTTPSeeOther("/?restored=1")
        response.del_cookie(COOKIE, path="/")
        raise response
