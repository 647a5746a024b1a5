"""The desktop (with the seed's step-8 reminder after a reset), Options > Personal, and
Log Center.

The desktop is a page of app icons, each app a full page in the same frame (not windows
on a canvas: every app is then a plain link that works without script, keyboard and screen
reader included). An administrator also sees the widgets: System Health, Resource Monitor
(live, from `/monitor/live`), Storage and Backup."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from openstation.accounts.service import ADMIN
from openstation.accounts.sessions import Session
from openstation.errors import OpenStationError
from openstation.lifecycle.reset import RESET_ACTION
from openstation.ui.kit import COOKIE, Messages, PageKit, problems

log = logging.getLogger(__name__)
_SCRIPT = (Path(__file__).parent / "static" / "desktop.js").read_text()


class Desktop:
    """`/desktop`, `/personal`, `/logs`."""

    def __init__(self, kit: PageKit, last_reset: Callable[[], dict[str, Any] | None],
                 widgets: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self.kit = kit
        self.ctx = kit.ctx
        self.last_reset = last_reset
        self.widgets = widgets  # an administrator's: health, storage, backups

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/desktop", self.kit.signed_in(self.desktop))
        app.router.add_get("/personal", self.kit.signed_in(self.personal))
        app.router.add_post("/personal", self.kit.signed_in(self.personal_save))
        app.router.add_get("/logs", self.kit.admin(self.logs))
        app.router.add_get("/static/desktop.js", self.script)

    async def desktop(self, request: web.Request, session: Session) -> web.Response:
        widgets = None
        if session.administrator:
            try:
                widgets = await self.widgets()
            except (OSError, OpenStationError, sqlite3.Error):  # the icons still show
                log.exception("the desktop's widgets could not be read")
        return self.kit.render("desktop.html", request, session, title="Desktop",
                               admin_reminder=self.admin_reminder(), widgets=widgets,
                               admin=session.administrator)

    async def script(self, _request: web.Request) -> web.Response:
        return web.Response(text=_SCRIPT, content_type="text/javascript",
                            headers={"Cache-Control": "max-age=3600"})

    def admin_reminder(self) -> bool:
        """After Mode 1: `admin` enabled while another administrator could take over."""
        admin = self.ctx.accounts.user(ADMIN)
        if admin is None or admin.disabled:
            return False
        others = [m for m in self.ctx.accounts.administrators() if m != ADMIN]
        return bool(others) and (
            self.last_reset() is not None or admin.blank_password_until is not None
            or any(e.action == RESET_ACTION for e in
                   self.ctx.store.audit_log(limit=20, section="system")))

    async def personal(self, request: web.Request, session: Session,
                       messages: Messages | None = None) -> web.Response:
        return self.kit.render("personal.html", request, session, messages, title="Personal")

    async def personal_save(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        new, confirm = str(form.get("new_password", "")), str(form.get("confirm", ""))
        if new != confirm:
            return await self.personal(request, session,
                                       [("error", "The passwords do not match.")])
        try:
            await self.ctx.accounts.change_own_password(
                session.user, str(form.get("old_password", "")), new)
        except OpenStationError as exc:
            return await self.personal(request, session, problems(exc))
        response = web.HTTPSeeOther("/?changed=1")
        response.del_cookie(COOKIE, path="/")
        raise response

    async def logs(self, request: web.Request, session: Session) -> web.Response:
        entries = [{
            "time": datetime.fromtimestamp(e.at, UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "actor": e.actor, "action": e.action, "section": e.section, "key": e.key,
            "detail": e.detail, "text": json.dumps(e.detail)[:400],
        } for e in self.ctx.store.audit_log(limit=300)]
        return self.kit.render("logs.html", request, session, title="Log Center",
                               entries=entries)
