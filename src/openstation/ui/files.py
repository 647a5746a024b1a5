"""The File Station app in the browser: `/filestation` is one page whose script
(`/static/filestation.js`) calls the same Web API as every client, with the page's
session cookie and its SynoToken. There is no second implementation of any operation."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from openstation.accounts.sessions import Session
from openstation.ui.kit import PageKit

_SCRIPT = (Path(__file__).parent / "static" / "filestation.js").read_text()


class FileStationPages:
    def __init__(self, kit: PageKit) -> None:
        self.kit = kit

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/filestation", self.kit.signed_in(self.app))
        app.router.add_get("/static/filestation.js", self.script)

    async def app(self, request: web.Request, session: Session) -> web.Response:
        return self.kit.render("filestation.html", request, session, title="File Station",
                               synotoken=session.synotoken or "")

    async def script(self, _request: web.Request) -> web.Response:
        return web.Response(text=_SCRIPT, content_type="text/javascript",
                            headers={"Cache-Control": "max-age=3600"})
