"""Control Panel > User and Group."""

from __future__ import annotations

from aiohttp import web

from openstation.accounts.service import UserChanges
from openstation.accounts.sessions import Session
from openstation.errors import OpenStationError
from openstation.ui.kit import Messages, PageKit, problems

ROUTES = (("GET", "/panel/user", "users"), ("GET", "/panel/user/edit", "user_edit"),
          ("POST", "/panel/user/edit", "user_save"), ("POST", "/panel/user/create", "user_create"),
          ("POST", "/panel/user/delete", "user_delete"), ("GET", "/panel/group", "groups"))


class UserPages:
    """`/panel/user…` and `/panel/group`."""

    def __init__(self, kit: PageKit) -> None:
        self.kit = kit
        self.accounts = kit.ctx.accounts

    def routes(self, app: web.Application) -> None:
        self.kit.add_admin_pages(app, self, ROUTES)

    async def users(self, request: web.Request, session: Session,
                    messages: Messages | None = None) -> web.Response:
        return self.kit.render("users.html", request, session, messages, title="User",
                               users=self.accounts.users())

    async def user_edit(self, request: web.Request, session: Session,
                        messages: Messages | None = None, name: str | None = None
                        ) -> web.Response:
        target = self.accounts.user(request.query.get("name", "") if name is None else name)
        if target is None:
            return await self.users(request, session, [("error", "No such user.")])
        return self.kit.render("user_edit.html", request, session, messages, target=target,
                               title=f"Edit {target.name}")

    async def user_save(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        name = str(form.get("name", ""))
        password, confirm = str(form.get("password", "")), str(form.get("confirm", ""))
        if password != confirm:
            return await self.user_edit(request, session,
                                        [("error", "The passwords do not match.")], name)
        try:
            await self.accounts.set_user(name, UserChanges(
                password=password or None, description=str(form.get("description", "")),
                email=str(form.get("email", "")), disabled=form.get("disabled") == "1"),
                actor=session.user)
        except OpenStationError as exc:
            return await self.user_edit(request, session, problems(exc), name)
        return await self.users(request, session, [("ok", f"Saved {name}.")])

    async def user_create(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        name = str(form.get("name", ""))
        try:
            await self.accounts.create_user(name, str(form.get("password", "")),
                                            actor=session.user,
                                            administrator=form.get("administrator") == "1")
        except OpenStationError as exc:
            return await self.users(request, session, problems(exc))
        return await self.users(request, session, [("ok", f"Created {name}.")])

    async def user_delete(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        name = str(form.get("name", ""))
        try:
            self.accounts.delete_user(name, actor=session.user)
        except OpenStationError as exc:
            return await self.users(request, session, problems(exc))
        return await self.users(request, session, [("ok", f"Deleted {name}.")])

    async def groups(self, request: web.Request, session: Session) -> web.Response:
        return self.kit.render("groups.html", request, session, title="Group",
                               groups=self.accounts.groups())
