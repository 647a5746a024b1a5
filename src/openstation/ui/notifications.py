"""The notification centre's page (`/notifications`, administrators): what happened, newest
first; opening it reads them all (the bell's count goes to nothing)."""

from __future__ import annotations

import json
from datetime import datetime

from aiohttp import web

from openstation import offload
from openstation.accounts.sessions import Session
from openstation.notify.centre import Centre
from openstation.ui.kit import PageKit


class NotificationPages:
    def __init__(self, kit: PageKit, centre: Centre) -> None:
        self.kit = kit
        self.centre = centre
        kit.unread = centre.unread

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/notifications", self.kit.admin(self.page))

    async def page(self, request: web.Request, session: Session) -> web.Response:
        items = [{**item, "time": datetime.fromtimestamp(item["at"]).strftime(
            "%Y-%m-%d %H:%M:%S"), "new": item["id"] > self.centre.marks.get(session.user, 0)}
            for item in self.centre.items()]
        if self.centre.read(session.user):
            await offload.run(self.centre.keep, json.dumps(self.centre.marks))
        return self.kit.render("notifications.html", request, session,
                               title="Notifications", items=items)
