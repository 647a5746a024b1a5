"""Install wizard or sign-in page, signing in and out, and the strong password a blank
`admin` (after Mode 1) or a must-change account sets first."""

from __future__ import annotations

import secrets

from aiohttp import web

from openstation.accounts.login import (
    BLANK_ADMIN,
    ENROL_OTP,
    MUST_CHANGE,
    OTP_REQUIRED,
    LoginRequest,
)
from openstation.accounts.service import UserChanges
from openstation.config import auto_backup
from openstation.errors import LoginRefused, OpenStationError
from openstation.ui.kit import COOKIE, LOGIN_CSRF, Messages, PageKit, problems

ENROL_AGAIN = ("2-step verification was not in the restored backup: set it up again with "
               "a DSM client (Personal > Security > 2-step verification), then sign in here.")


class SignIn:
    """`/`, `/login`, `/logout`, `/password`."""

    def __init__(self, kit: PageKit) -> None:
        self.kit = kit
        self.ctx = kit.ctx

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/", self.home)
        app.router.add_post("/login", self.login)
        app.router.add_post("/logout", self.logout)
        app.router.add_get("/password", self.password_form)
        app.router.add_post("/password", self.password_set)

    async def home(self, request: web.Request) -> web.StreamResponse:
        status = self.ctx.state.status
        if status.needs_install:
            found = auto_backup.snapshots(self.ctx.data_dir.volume)
            return self.kit.render("wizard.html", request, title="Install",
                                   status=status.label,
                                   reinstall=status.label == "Configuration lost",
                                   policy=self.ctx.accounts.policy(),
                                   snapshot=found[0].name if found else None)
        session = self.kit.session(request)
        if session is not None:
            raise web.HTTPSeeOther("/password" if session.restricted else "/desktop")
        messages = [("ok", "DSM is installed. Sign in with your administrator account.")] \
            if request.query.get("installed") else []
        if request.query.get("changed"):
            messages = [("ok", "Your password was changed. Sign in with the new password.")]
        if request.query.get("restored"):
            messages = [("ok", "The configuration was restored. Sign in again.")]
        return self.login_page(request, messages)

    def login_page(self, request: web.Request, messages: Messages, account: str = "",
                   otp: bool = False) -> web.Response:
        # The sign-in form's CSRF token: in the page and in a strict cookie.
        token = secrets.token_urlsafe(16)
        response = self.kit.render("login.html", request, None, messages, csrf_token=token,
                                   title="Sign in", account=account, otp=otp)
        response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="Strict",
                            secure=request.secure, path="/")
        return response

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()  # its CSRF token was checked by the middleware
        account = str(form.get("account", ""))
        try:
            result = await self.ctx.login.login(LoginRequest(
                account=account, password=str(form.get("passwd", "")),
                ip=request.remote or "", otp_code=str(form.get("otp_code", "")),
                want_synotoken=True))  # for Web API calls made with its cookie
        except LoginRefused as refused:
            return self.login_page(request, [("error", refusal_text(refused))], account,
                                   otp=refused.code == OTP_REQUIRED or
                                   bool(form.get("otp_code")))
        session = result.session
        if session.restricted == ENROL_OTP:  # these pages have no 2-step enrolment yet
            self.ctx.sessions.end(session.sid)
            return self.login_page(request, [("error", ENROL_AGAIN)], account)
        session.extra["csrf"] = secrets.token_urlsafe(24)
        response = web.HTTPSeeOther("/password" if session.restricted else "/desktop")
        response.set_cookie(COOKIE, session.sid, httponly=True, samesite="Strict",
                            secure=request.secure, path="/")
        response.del_cookie(LOGIN_CSRF, path="/")
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        session = self.kit.session(request)
        if session is not None:
            self.ctx.sessions.end(session.sid)
        response = web.HTTPSeeOther("/")
        response.del_cookie(COOKIE, path="/")
        raise response

    async def password_form(self, request: web.Request) -> web.StreamResponse:
        session = self.kit.session(request)
        if session is None or not session.restricted:
            raise web.HTTPSeeOther("/")
        return self.kit.render("password.html", request, session,
                               title="Create a strong password", account_name=session.user,
                               policy=self.ctx.accounts.policy())

    async def password_set(self, request: web.Request) -> web.StreamResponse:
        session = self.kit.session(request)
        if session is None or session.restricted not in (BLANK_ADMIN, MUST_CHANGE):
            raise web.HTTPSeeOther("/")
        form = await request.post()
        new, confirm = str(form.get("new_password", "")), str(form.get("confirm", ""))
        messages: Messages = []
        if new != confirm:
            messages = [("error", "The passwords do not match.")]
        else:
            try:
                await self.ctx.accounts.set_user(session.user, UserChanges(password=new),
                                                 actor=session.user)
            except OpenStationError as exc:
                messages = problems(exc)
        if messages:
            return self.kit.render("password.html", request, session, messages,
                                   account_name=session.user,
                                   policy=self.ctx.accounts.policy(),
                                   title="Create a strong password")
        response = web.HTTPSeeOther("/?changed=1")
        response.del_cookie(COOKIE, path="/")
        raise response


def refusal_text(refused: LoginRefused) -> str:
    """A refused sign-in in the words of DSM's sign-in page."""
    texts = {400: "The account or password is invalid. Please try again.",
             401: "This account has been disabled. Ask an administrator.",
             403: "Enter the 2-step verification code from your authenticator app.",
             404: "The 2-step verification code is wrong.",
             407: "Your IP address has been blocked. " + refused.reason}
    if refused.code == 400 and "RESET" in refused.reason:
        return refused.reason[0].upper() + refused.reason[1:] + "."
    return texts.get(refused.code, refused.reason)
