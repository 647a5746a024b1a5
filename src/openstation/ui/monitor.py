"""Resource Monitor in the browser: `/monitor` draws CPU, memory, network and disk with
uPlot (vendored: static/vendor/uplot-1.6.32, MIT), from `/monitor/history?range=` and the
live samples of `/monitor/live` (server-sent events: one sample a second pushed to the
page, which never polls). Administrators only, as DSM's Resource Monitor."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from openstation.accounts.sessions import Session
from openstation.monitor.history import METRICS, RANGES
from openstation.monitor.sampler import Sampler
from openstation.ui.kit import PageKit

HEARTBEAT = 5.0  # seconds: a comment line keeps proxies and idle timers from closing it
STATIC = Path(__file__).parent / "static"
UPLOT = STATIC / "vendor" / "uplot-1.6.32"
FILES = {"/static/monitor.js": (STATIC / "monitor.js", "text/javascript"),
         "/static/vendor/uplot.js": (UPLOT / "uPlot.iife.min.js", "text/javascript"),
         "/static/vendor/uplot.css": (UPLOT / "uPlot.min.css", "text/css")}


class MonitorPages:
    def __init__(self, kit: PageKit, sampler: Sampler) -> None:
        self.kit = kit
        self.sampler = sampler
        self.files = {path: (source.read_bytes(), kind)
                      for path, (source, kind) in FILES.items()}

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/monitor", self.kit.admin(self.page))
        app.router.add_get("/monitor/history", self.kit.admin(self.history))
        app.router.add_get("/monitor/live", self.kit.admin(self.live))
        for path in self.files:
            app.router.add_get(path, self.static)

    async def page(self, request: web.Request, session: Session) -> web.Response:
        return self.kit.render("monitor.html", request, session, title="Resource Monitor")

    async def static(self, request: web.Request) -> web.Response:
        body, kind = self.files[request.path]
        return web.Response(body=body, content_type=kind,
                            headers={"Cache-Control": "max-age=3600"})

    async def history(self, request: web.Request, session: Session) -> web.Response:
        span = request.query.get("range", "10m")
        if span not in RANGES:
            raise web.HTTPBadRequest(text=f"range: one of {', '.join(RANGES)}")
        points = self.sampler.history.span(span, self.sampler.clock())
        return web.json_response({"range": span, "metrics": list(METRICS),
                                  "points": [[t, *values] for t, values in points]},
                                 headers={"Cache-Control": "no-store"})

    async def live(self, request: web.Request, session: Session) -> web.StreamResponse:
        queue = self.sampler.subscribe(session.sid)
        if queue is None:
            raise web.HTTPServiceUnavailable(text="too many live streams: try again later")
        sessions = self.kit.ctx.sessions
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-store"})
        try:
            await response.prepare(request)
            while sessions.alive(session.sid):  # signed out, revoked or idle: it ends
                try:
                    line = await asyncio.wait_for(queue.get(), HEARTBEAT)
                except TimeoutError:
                    await response.write(b": still here\n\n")
                    continue
                if line is None:  # the device stops
                    break
                await response.write(f"data: {line}\n\n".encode())
        except ConnectionResetError:
            pass  # the page went away
        finally:
            self.sampler.unsubscribe(queue)
        return response
