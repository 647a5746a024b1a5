"""What every page area shares: rendering, the session, the guards, and the two boundaries
of the pages — the CSRF check (a middleware, before any handler) and turning a refused
change into a message on the page.

Security: the session cookie is HttpOnly + SameSite=Strict (+ Secure over HTTPS) and shares
the Web API's sessions (idle timeout, address binding, revocation); every state change is a
POST carrying the session's CSRF token (the sign-in form: a per-visit token in a cookie); no
secret travels in a URL.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from openstation.accounts.sessions import Session
from openstation.config.sections import General
from openstation.errors import OpenStationError, SessionRefused, ValidationError
from openstation.security.tokens import same_token
from openstation.webapi.context import WebContext

COOKIE = "id"
LOGIN_CSRF = "login_csrf"
CSRF_FIELD = "csrf"
FORM = "application/x-www-form-urlencoded"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SessionHandler = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]
Messages = list[tuple[str, str]]
PortsChanger = Callable[[str, int, int], Awaitable[dict[str, int]]]

# The pages' state-changing paths: every POST to them must carry the CSRF token.
PAGE_POSTS = ("/login", "/logout", "/password", "/personal", "/panel/")

_env = jinja2.Environment(loader=jinja2.PackageLoader("openstation.ui", "templates"),
                          autoescape=True)


class PageKit:
    """Rendering and sessions for the pages of one device."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        # An administrator's unread notifications, shown on every page (the bell)
        self.unread: Callable[[str], int] = lambda _user: 0

    def render(self, name: str, request: web.Request, session: Session | None = None,
               messages: Messages | None = None, http_status: int = 200,
               csrf_token: str | None = None, **values: Any) -> web.Response:
        nonce = secrets.token_urlsafe(16)
        page = _env.get_template(name).render(
            server_name=self.ctx.store.get(General).server_name, nonce=nonce,
            model=self.ctx.hardware.model_name,
            user=session.user if session and not session.restricted else None,
            csrf=csrf_token or (session.extra.get("csrf", "") if session else ""),
            messages=messages or [], title=values.pop("title", "DSM"),
            bell=session is not None and session.administrator and not session.restricted,
            unread=self.unread(session.user) if session and session.administrator else 0,
            **values)
        response = web.Response(text=page, content_type="text/html", status=http_status)
        response.headers.update(page_headers(nonce))
        return response

    def session(self, request: web.Request) -> Session | None:
        sid = request.cookies.get(COOKIE)
        if not sid:
            return None
        try:
            return self.ctx.login.resume(sid, request.remote or "")
        except SessionRefused:
            return None

    def signed_in(self, handler: SessionHandler, admin: bool = False) -> Handler:
        """`handler` for a signed-in user (an administrator if `admin`)."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            session = self.session(request)
            if session is None:
                raise web.HTTPSeeOther("/")
            if session.restricted:
                raise web.HTTPSeeOther("/password")
            if admin and not session.administrator:
                return self.render("desktop.html", request, session, http_status=403,
                                   messages=[("error", "Only administrators may open this.")])
            return await handler(request, session)

        return wrapped

    def admin(self, handler: SessionHandler) -> Handler:
        return self.signed_in(handler, admin=True)

    def add_admin_pages(self, app: web.Application, area: object,
                        routes: tuple[tuple[str, str, str], ...]) -> None:
        """An area's (method, path, handler name) routes, for administrators only."""
        for method, path, name in routes:
            app.router.add_route(method, path, self.admin(getattr(area, name)))

    async def apply(self, request: web.Request, session: Session,
                    page: Callable[..., Awaitable[web.Response]],
                    change: Callable[[Any], Any], done: str = "Settings applied."
                    ) -> web.Response:
        """Run a form's change and show `page` again with what came of it."""
        form = await request.post()
        try:
            result = change(form)
            if hasattr(result, "__await__"):
                await result
        except OpenStationError as exc:
            return await page(request, session, problems(exc))
        except ValueError:
            return await page(request, session, [("error", "A number is expected.")])
        return await page(request, session, [("ok", done)])

    @web.middleware
    async def csrf(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every POST to a page carries the token of its session (of the visit, for the
        sign-in form) and, if the browser names one, comes from this origin; anything else
        is refused before its handler runs. Nothing of the body is read unless the session
        is live (its size is bounded by then); an upload's token is in its query, so it is
        checked before its body is read."""
        if request.method != "POST" or not request.path.startswith(PAGE_POSTS):
            return await handler(request)
        if request.path == "/login":
            expected = request.cookies.get(LOGIN_CSRF, "")
        else:
            session = self.session(request)
            expected = session.extra.get("csrf", "") if session is not None else ""
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{request.host}":
            expected = ""
        sent = request.query.get(CSRF_FIELD, "")
        if expected and not sent and request.content_type == FORM:
            try:
                sent = str((await request.post()).get(CSRF_FIELD, ""))
            except ValueError:
                sent = ""
        if not same_token(sent, expected):
            if request.path == "/logout":  # nothing to protect: just forget the cookie
                response = web.HTTPSeeOther("/")
                response.del_cookie(COOKIE, path="/")
                raise response
            return web.Response(status=403, text="Missing or wrong CSRF token.")
        return await handler(request)


def page_headers(nonce: str) -> dict[str, str]:
    """What every page is sent with: scripts only from the device or with this response's
    nonce (no inline handlers, no injected script), never framed, never cached."""
    return {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin",
            "Content-Security-Policy": (
                f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
                "style-src 'self' 'unsafe-inline'; form-action 'self'; "
                "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")}


async def pages_script(_request: web.Request) -> web.Response:
    return web.Response(text=_PAGES_JS, content_type="text/javascript",
                        headers={"Cache-Control": "max-age=3600"})


_PAGES_JS = (Path(__file__).parent / "static" / "pages.js").read_text()


def problems(exc: OpenStationError) -> Messages:
    """A refused change as the page shows it: each invalid field, or the reason."""
    if isinstance(exc, ValidationError):
        return [("error", f"{key}: {why}") for key, why in exc.problems.items()]
    return [("error", str(exc))]
