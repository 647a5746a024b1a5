"""The public pages of sharing links: `/sharing/<id>` shows a shared file or folder to
anyone with the link (after its password, if it has one) and `/sharing/<id>/download`
sends a file, or a folder as a zip. Every request checks the link again, so deleting it,
its expiry, or its owner losing access ends it at once.

Wrong ids and wrong passwords are counted per source (20 a minute), so links and their
passwords cannot be guessed at speed. An unlocked link is remembered by a random cookie
for that link's path only, for an hour, or until the link's password changes.
"""

from __future__ import annotations

import secrets
import time

from aiohttp import web

from openstation.errors import OpenStationError
from openstation.filestation.archives import zip_stream
from openstation.filestation.service import Item
from openstation.filestation.sharing import GUESSES, Opened
from openstation.filestation.station import Station
from openstation.offload import run
from openstation.ui.kit import PageKit
from openstation.webapi.filestation import SANDBOX, send_blocks, send_file

UNLOCKED_FOR = 3600.0
MAX_UNLOCKED = 10_000


class SharingPages:
    def __init__(self, kit: PageKit, station: Station) -> None:
        self.kit = kit
        self.station = station
        # cookie → (link id, its password hash then, until): a new password locks it again
        self._unlocked: dict[str, tuple[str, str, float]] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/sharing/{id}", self.show)
        app.router.add_post("/sharing/{id}", self.unlock)
        app.router.add_get("/sharing/{id}/download", self.download)

    # --- checks ------------------------------------------------------------------------

    def _opened(self, request: web.Request) -> Opened:
        source = request.remote or ""
        if GUESSES.over_limit(source, time.monotonic()):
            raise web.HTTPTooManyRequests(text="Too many attempts; wait a minute.")
        opened = self.station.sharing.open(request.match_info["id"])
        if opened is None:
            GUESSES.record(source, time.monotonic())
            raise web.HTTPNotFound(text="This sharing link does not exist or has expired.")
        return opened

    def _cookie(self, link_id: str) -> str:
        return f"sharing-{link_id}"

    def _is_unlocked(self, request: web.Request, opened: Opened) -> bool:
        if not opened.link.password_hash:
            return True
        token = request.cookies.get(self._cookie(opened.link.id), "")
        held = self._unlocked.get(token)
        return held is not None and held[:2] == (opened.link.id, opened.link.password_hash) \
            and held[2] > time.monotonic()

    def _target(self, request: web.Request, opened: Opened) -> Item:
        """The entry asked for: the link's own target, or one inside a shared folder."""
        inner = request.query.get("path", "").strip("/")
        if not inner:
            return opened.item
        if not opened.item.is_dir:
            raise web.HTTPNotFound()
        try:
            return self.station.files.stat(opened.link.owner, f"{opened.link.path}/{inner}")
        except (OpenStationError, OSError):
            raise web.HTTPNotFound(text="No such file in this shared folder.") from None

    # --- pages -------------------------------------------------------------------------

    async def show(self, request: web.Request) -> web.StreamResponse:
        opened = self._opened(request)
        if not self._is_unlocked(request, opened):
            return self.kit.render("sharing.html", request, title="Shared with you",
                                   locked=True, link=opened.link.id)
        item = self._target(request, opened)
        entries: list[Item] = []
        if item.is_dir:
            entries = sorted(await run(self.station.files.children, item.at),
                             key=lambda i: (not i.is_dir, i.name.lower()))
        inner = item.path[len(opened.item.path):].strip("/")
        return self.kit.render("sharing.html", request, title=item.name, locked=False,
                               link=opened.link.id, item=item, inner=inner,
                               entries=entries, owner=opened.link.owner)

    async def unlock(self, request: web.Request) -> web.StreamResponse:
        opened = self._opened(request)
        form = await request.post()
        source = request.remote or ""
        if not await self.station.sharing.password_ok(opened.link,
                                                      str(form.get("password", ""))):
            GUESSES.record(source, time.monotonic())
            return self.kit.render("sharing.html", request, title="Shared with you",
                                   locked=True, link=opened.link.id, http_status=403,
                                   messages=[("error", "Wrong password.")])
        self._forget_old()
        token = secrets.token_urlsafe(24)
        self._unlocked[token] = (opened.link.id, opened.link.password_hash,
                                 time.monotonic() + UNLOCKED_FOR)
        response = web.HTTPSeeOther(f"/sharing/{opened.link.id}")
        response.set_cookie(self._cookie(opened.link.id), token, httponly=True,
                            samesite="Strict", path=f"/sharing/{opened.link.id}",
                            secure=request.secure, max_age=int(UNLOCKED_FOR))
        raise response

    async def download(self, request: web.Request) -> web.StreamResponse:
        opened = self._opened(request)
        if not self._is_unlocked(request, opened):
            raise web.HTTPForbidden(text="This link needs its password.")
        item = self._target(request, opened)
        if not item.is_dir:
            return await send_file(request, self.station.files, item, "download")
        response = web.StreamResponse(headers={
            "Content-Type": "application/zip", **SANDBOX,
            "Content-Disposition": f'attachment; filename="{_ascii(item.name)}.zip"'})
        blocks = zip_stream(self.station.files, [item])
        first = await run(next, blocks, b"")
        await response.prepare(request)
        await send_blocks(request, response, first, blocks)
        return response

    def _forget_old(self) -> None:
        now = time.monotonic()
        for token in [t for t, (_, _, until) in self._unlocked.items() if until < now]:
            del self._unlocked[token]
        while len(self._unlocked) >= MAX_UNLOCKED:
            self._unlocked.pop(next(iter(self._unlocked)))


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                   for c in name)
