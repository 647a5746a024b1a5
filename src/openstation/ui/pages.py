"""The device's web pages (server-rendered, Jinja2 with autoescape), calling the same services
as the Web API.

Security: the session cookie is HttpOnly + SameSite=Strict (+ Secure over HTTPS) and shares
the Web API's sessions (idle timeout, address binding, revocation); every state change is a
POST carrying the session's CSRF token (the sign-in form a per-visit token in a cookie);
no secret travels in a URL.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jinja2
from aiohttp import web

from openstation.accounts.login import BLANK_ADMIN, MUST_CHANGE, OTP_REQUIRED, LoginRequest
from openstation.accounts.service import ADMIN, UserChanges
from openstation.accounts.sessions import Session
from openstation.config import auto_backup
from openstation.config.sections import (
    AutoBlock,
    Firewall,
    FirewallRule,
    General,
    Group,
    KeyEntry,
    Network,
    PasswordPolicy,
    Ports,
    Share,
    User,
)
from openstation.errors import LoginRefused, OpenStationError, SessionRefused, ValidationError
from openstation.lifecycle.reset import RESET_ACTION
from openstation.network.service import NetworkService
from openstation.security.firewall import rule_from_text, services
from openstation.security.service import SecurityService
from openstation.webapi.context import WebContext
from openstation.webapi.shares import share_json

COOKIE = "id"
LOGIN_CSRF = "login_csrf"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PortsChanger = Callable[[str, int, int], Awaitable[dict[str, int]]]
MAX_PENDING = 4


@dataclass
class BackupHooks:
    """The device's configuration backup operations, for the Update & Restore page."""

    export: Callable[[str | None], Awaitable[bytes]]
    preview: Callable[[bytes, str | None, list[str] | None], Awaitable[dict[str, Any]]]
    restore: Callable[[bytes, str | None, list[str] | None, str], Awaitable[dict[str, Any]]]

_env = jinja2.Environment(loader=jinja2.PackageLoader("openstation.ui", "templates"),
                          autoescape=True)


class Pages:
    """Every page handler of one device."""

    def __init__(self, ctx: WebContext, network: NetworkService, security: SecurityService,
                 change_ports: PortsChanger, ports: Callable[[], dict[str, int]],
                 last_reset: Callable[[], dict[str, Any] | None],
                 backups: BackupHooks) -> None:
        self.ctx = ctx
        self.network = network
        self.security = security
        self.change_ports = change_ports
        self.ports = ports
        self.last_reset = last_reset
        self.backups = backups

    def routes(self, app: web.Application) -> None:
        get, post = app.router.add_get, app.router.add_post
        get("/", self.home)
        post("/login", self.login)
        post("/logout", self.logout)
        get("/password", self.password_form)
        post("/password", self.password_set)
        get("/desktop", self.signed_in(self.desktop))
        get("/panel/user", self.admin(self.users))
        get("/panel/user/edit", self.admin(self.user_edit))
        post("/panel/user/edit", self.admin(self.user_save, csrf=True))
        post("/panel/user/create", self.admin(self.user_create, csrf=True))
        post("/panel/user/delete", self.admin(self.user_delete, csrf=True))
        get("/panel/group", self.admin(self.groups))
        get("/panel/network", self.admin(self.network_page))
        post("/panel/network/general", self.admin(self.network_general, csrf=True))
        post("/panel/network/interface", self.admin(self.network_interface, csrf=True))
        post("/panel/network/pppoe", self.admin(self.network_pppoe, csrf=True))
        post("/panel/network/ports", self.admin(self.network_ports, csrf=True))
        get("/panel/security", self.admin(self.security_page))
        post("/panel/security/firewall", self.admin(self.security_firewall, csrf=True))
        post("/panel/security/autoblock", self.admin(self.security_autoblock, csrf=True))
        post("/panel/security/list", self.admin(self.security_list, csrf=True))
        get("/personal", self.signed_in(self.personal))
        post("/personal", self.signed_in(self.personal_save, csrf=True))
        get("/logs", self.admin(self.logs))
        get("/panel/share", self.admin(self.shares_page))
        post("/panel/share/create", self.admin(self.share_create, csrf=True))
        post("/panel/share/delete", self.admin(self.share_delete, csrf=True))
        post("/panel/share/crypto", self.admin(self.share_crypto, csrf=True))
        get("/panel/restore", self.admin(self.restore_page))
        post("/panel/restore/export", self.admin(self.restore_export, csrf=True))
        post("/panel/restore/preview", self.admin(self.restore_preview, csrf=True))
        post("/panel/restore/apply", self.admin(self.restore_apply, csrf=True))

    # --- rendering and sessions ----------------------------------------------------------

    def render(self, name: str, request: web.Request, session: Session | None = None,
               messages: list[tuple[str, str]] | None = None, http_status: int = 200,
               csrf_token: str | None = None, **values: Any) -> web.Response:
        store = self.ctx.store
        page = _env.get_template(name).render(
            server_name=store.get(General).server_name, model=self.ctx.hardware.model_name,
            user=session.user if session and not session.restricted else None,
            csrf=csrf_token or (session.extra.get("csrf", "") if session else ""),
            messages=messages or [], title=values.pop("title", "DSM"), **values)
        response = web.Response(text=page, content_type="text/html", status=http_status)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
        return response

    def session(self, request: web.Request) -> Session | None:
        sid = request.cookies.get(COOKIE)
        if not sid:
            return None
        try:
            return self.ctx.login.resume(sid, request.remote or "")
        except SessionRefused:
            return None

    def signed_in(self, handler: Callable[[web.Request, Session], Awaitable[web.Response]],
                  csrf: bool = False, admin: bool = False) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            session = self.session(request)
            if session is None:
                raise web.HTTPSeeOther("/")
            if session.restricted:
                raise web.HTTPSeeOther("/password")
            if admin and not session.administrator:
                return self.render("desktop.html", request, session, http_status=403,
                                   messages=[("error", "Only administrators may open this.")])
            if csrf:
                form = await request.post()
                if not hmac.compare_digest(str(form.get("csrf", "")),
                                           session.extra.get("csrf", "")):
                    return web.Response(status=403, text="Missing or wrong CSRF token.")
            return await handler(request, session)

        return wrapped

    def admin(self, handler: Callable[[web.Request, Session], Awaitable[web.Response]],
              csrf: bool = False) -> Handler:
        return self.signed_in(handler, csrf=csrf, admin=True)

    @staticmethod
    def problems(exc: OpenStationError) -> list[tuple[str, str]]:
        if isinstance(exc, ValidationError):
            return [("error", f"{key}: {why}") for key, why in exc.problems.items()]
        return [("error", str(exc))]

    # --- install, sign in, the post-reset password -----------------------------------------

    async def home(self, request: web.Request) -> web.StreamResponse:
        status = self.ctx.state.status
        if status.needs_install:
            found = auto_backup.snapshots(self.ctx.data_dir.volume)
            return self.render("wizard.html", request, title="Install",
                               status=status.label,
                               reinstall=status.label == "Configuration lost",
                               policy=self.ctx.store.get(PasswordPolicy),
                               snapshot=found[0].name if found else None)
        session = self.session(request)
        if session is not None:
            raise web.HTTPSeeOther("/password" if session.restricted else "/desktop")
        messages = [("ok", "DSM is installed. Sign in with your administrator account.")] \
            if request.query.get("installed") else []
        if request.query.get("changed"):
            messages = [("ok", "Your password was changed. Sign in with the new password.")]
        if request.query.get("restored"):
            messages = [("ok", "The configuration was restored. Sign in again.")]
        return self.login_page(request, messages)

    def login_page(self, request: web.Request, messages: list[tuple[str, str]],
                   account: str = "", otp: bool = False) -> web.Response:
        # The sign-in form's CSRF token: in the page and in a strict cookie.
        token = secrets.token_urlsafe(16)
        response = self.render("login.html", request, None, messages, csrf_token=token,
                               title="Sign in", account=account, otp=otp)
        response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="Strict",
                            secure=request.secure, path="/")
        return response

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        if not hmac.compare_digest(str(form.get("csrf", "")),
                                   request.cookies.get(LOGIN_CSRF, "")) or not form.get("csrf"):
            return web.Response(status=403, text="Missing or wrong CSRF token.")
        account = str(form.get("account", ""))
        try:
            result = await self.ctx.login.login(LoginRequest(
                account=account, password=str(form.get("passwd", "")),
                ip=request.remote or "", otp_code=str(form.get("otp_code", ""))))
        except LoginRefused as refused:
            return self.login_page(request, [("error", self.refusal_text(refused))], account,
                                   otp=refused.code == OTP_REQUIRED or
                                   bool(form.get("otp_code")))
        session = result.session
        session.extra["csrf"] = secrets.token_urlsafe(24)
        target = "/password" if session.restricted else "/desktop"
        response = web.HTTPSeeOther(target)
        response.set_cookie(COOKIE, session.sid, httponly=True, samesite="Strict",
                            secure=request.secure, path="/")
        response.del_cookie(LOGIN_CSRF, path="/")
        raise response

    @staticmethod
    def refusal_text(refused: LoginRefused) -> str:
        texts = {400: "The account or password is invalid. Please try again.",
                 401: "This account has been disabled. Ask an administrator.",
                 403: "Enter the 2-step verification code from your authenticator app.",
                 404: "The 2-step verification code is wrong.",
                 407: "Your IP address has been blocked. " + refused.reason}
        if refused.code == 400 and "RESET" in refused.reason:
            return refused.reason[0].upper() + refused.reason[1:] + "."
        return texts.get(refused.code, refused.reason)

    async def logout(self, request: web.Request) -> web.StreamResponse:
        session = self.session(request)
        form = await request.post()
        if session is not None and hmac.compare_digest(str(form.get("csrf", "")),
                                                       session.extra.get("csrf", "")):
            self.ctx.sessions.end(session.sid)
        response = web.HTTPSeeOther("/")
        response.del_cookie(COOKIE, path="/")
        raise response

    async def password_form(self, request: web.Request) -> web.StreamResponse:
        session = self.session(request)
        if session is None or not session.restricted:
            raise web.HTTPSeeOther("/")
        return self.render("password.html", request, session, title="Create a strong password",
                           account_name=session.user,
                           policy=self.ctx.store.get(PasswordPolicy))

    async def password_set(self, request: web.Request) -> web.StreamResponse:
        session = self.session(request)
        if session is None or session.restricted not in (BLANK_ADMIN, MUST_CHANGE):
            raise web.HTTPSeeOther("/")
        form = await request.post()
        if not hmac.compare_digest(str(form.get("csrf", "")), session.extra.get("csrf", "")):
            return web.Response(status=403, text="Missing or wrong CSRF token.")
        new, confirm = str(form.get("new_password", "")), str(form.get("confirm", ""))
        messages: list[tuple[str, str]] = []
        if new != confirm:
            messages = [("error", "The passwords do not match.")]
        else:
            try:
                await self.ctx.accounts.set_user(session.user, UserChanges(password=new),
                                           actor=session.user)
            except OpenStationError as exc:
                messages = self.problems(exc)
        if messages:
            return self.render("password.html", request, session, messages,
                               account_name=session.user,
                               policy=self.ctx.store.get(PasswordPolicy),
                               title="Create a strong password")
        response = web.HTTPSeeOther("/?changed=1")
        response.del_cookie(COOKIE, path="/")
        raise response

    # --- desktop, Control Panel > User and Group -------------------------------------------

    async def desktop(self, request: web.Request, session: Session) -> web.Response:
        return self.render("desktop.html", request, session, title="Desktop",
                           admin_reminder=self.admin_reminder())

    def admin_reminder(self) -> bool:
        """After Mode 1: `admin` enabled while another administrator could take over."""
        admin = self.ctx.store.record(User, ADMIN)
        if admin is None or admin.disabled:
            return False
        others = [m for m in self.ctx.accounts.administrators() if m != ADMIN]
        last = self.last_reset()
        return bool(others) and (last is not None or admin.blank_password_until is not None
                                 or any(e.action == RESET_ACTION for e in
                                        self.ctx.store.audit_log(limit=20, section="system")))

    async def users(self, request: web.Request, session: Session,
                    messages: list[tuple[str, str]] | None = None) -> web.Response:
        return self.render("users.html", request, session, messages, title="User",
                           users=self.ctx.store.records(User))

    async def user_edit(self, request: web.Request, session: Session,
                        messages: list[tuple[str, str]] | None = None) -> web.Response:
        target = self.ctx.store.record(User, request.query.get("name", ""))
        if target is None:
            return await self.users(request, session, [("error", "No such user.")])
        return self.render("user_edit.html", request, session, messages, target=target,
                           title=f"Edit {target.name}")

    async def user_save(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        name = str(form.get("name", ""))
        password, confirm = str(form.get("password", "")), str(form.get("confirm", ""))
        if password != confirm:
            request = request.clone(rel_url=f"/panel/user/edit?name={name}")
            return await self.user_edit(request, session,
                                        [("error", "The passwords do not match.")])
        try:
            await self.ctx.accounts.set_user(name, UserChanges(
                password=password or None, description=str(form.get("description", "")),
                email=str(form.get("email", "")), disabled=form.get("disabled") == "1"),
                actor=session.user)
        except OpenStationError as exc:
            request = request.clone(rel_url=f"/panel/user/edit?name={name}")
            return await self.user_edit(request, session, self.problems(exc))
        return await self.users(request, session, [("ok", f"Saved {name}.")])

    async def user_create(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        try:
            await self.ctx.accounts.create_user(str(form.get("name", "")),
                                          str(form.get("password", "")), actor=session.user,
                                          administrator=form.get("administrator") == "1")
        except OpenStationError as exc:
            return await self.users(request, session, self.problems(exc))
        return await self.users(request, session, [("ok", f"Created {form.get('name')!s}.")])

    async def user_delete(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        try:
            self.ctx.accounts.delete_user(str(form.get("name", "")), actor=session.user)
        except OpenStationError as exc:
            return await self.users(request, session, self.problems(exc))
        return await self.users(request, session, [("ok", f"Deleted {form.get('name')!s}.")])

    async def groups(self, request: web.Request, session: Session) -> web.Response:
        return self.render("groups.html", request, session, title="Group",
                           groups=self.ctx.store.records(Group))

    # --- Control Panel > Network and Security ----------------------------------------------

    async def network_page(self, request: web.Request, session: Session,
                           messages: list[tuple[str, str]] | None = None) -> web.Response:
        return self.render("network.html", request, session, messages, title="Network",
                           network=self.ctx.store.get(Network), pppoe=self.network.pppoe(),
                           ports=self.ctx.store.get(Ports))

    async def _apply(self, request: web.Request, session: Session,
                     page: Callable[..., Awaitable[web.Response]],
                     change: Callable[[Any], Any]) -> web.Response:
        form = await request.post()
        try:
            result = change(form)
            if hasattr(result, "__await__"):
                await result
        except OpenStationError as exc:
            return await page(request, session, self.problems(exc))
        except ValueError:
            return await page(request, session, [("error", "A number is expected.")])
        return await page(request, session, [("ok", "Settings applied.")])

    async def network_general(self, request: web.Request, session: Session) -> web.Response:
        return await self._apply(request, session, self.network_page, lambda f: (
            self.network.set_general(
                session.user, server_name=str(f.get("server_name", "")),
                default_gateway=str(f.get("gateway", "")),
                dns=[d.strip() for d in str(f.get("dns", "")).split(",") if d.strip()])))

    async def network_interface(self, request: web.Request, session: Session
                                ) -> web.Response:
        return await self._apply(request, session, self.network_page, lambda f: (
            self.network.set_interface(
                session.user, str(f.get("id", "")), dhcp=f.get("dhcp") == "1",
                address=str(f.get("address", "")), netmask=str(f.get("netmask", "")),
                gateway=str(f.get("gateway", "")), mtu=int(str(f.get("mtu", "1500"))))))

    async def network_pppoe(self, request: web.Request, session: Session) -> web.Response:
        def change(form: Any) -> None:
            values: dict[str, Any] = {"enabled": form.get("enabled") == "1",
                                      "username": str(form.get("username", ""))}
            if form.get("password"):
                values["password"] = str(form["password"])
            self.network.set_pppoe(session.user, **values)

        return await self._apply(request, session, self.network_page, change)

    async def network_ports(self, request: web.Request, session: Session) -> web.Response:
        return await self._apply(request, session, self.network_page, lambda f: (
            self.change_ports(session.user, int(str(f.get("http", ""))),
                              int(str(f.get("https", ""))))))

    async def security_page(self, request: web.Request, session: Session,
                            messages: list[tuple[str, str]] | None = None) -> web.Response:
        rules = sorted(self.ctx.store.records(FirewallRule), key=lambda r: r.order)
        return self.render("security.html", request, session, messages, title="Security",
                           firewall=self.ctx.store.get(Firewall), rules=rules,
                           autoblock=self.ctx.store.get(AutoBlock))

    async def security_firewall(self, request: web.Request, session: Session) -> web.Response:
        def change(form: Any) -> None:
            rules = []
            for n, line in enumerate(str(form.get("rules", "")).splitlines()):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 4:
                    raise ValidationError({f"rules.{n}": "source ports protocol action"})
                rules.append(rule_from_text(f"rule{n + 1}", n, source=parts[0],
                                            ports=parts[1], protocol=parts[2],
                                            action=parts[3]))
            ports = self.ports()
            self.security.set_firewall(
                session.user, request.remote, services(
                    ports.get("http", 0), ports.get("https", 0), ports.get("findhost", 0),
                    ports.get("ssdp", 0)),
                enabled=form.get("enabled") == "1",
                default_action=str(form.get("default_action", "allow")), rules=rules,
                confirm=form.get("confirm_lockout") == "1")

        return await self._apply(request, session, self.security_page, change)

    async def security_autoblock(self, request: web.Request, session: Session
                                 ) -> web.Response:
        return await self._apply(request, session, self.security_page, lambda f: (
            self.security.set_autoblock(
                session.user, enabled=f.get("enabled") == "1",
                attempts=int(str(f.get("attempts", "10"))),
                within_minutes=int(str(f.get("within_minutes", "5"))),
                expire_days=int(str(f.get("expire_days", "0"))))))

    async def security_list(self, request: web.Request, session: Session) -> web.Response:
        def change(form: Any) -> None:
            kind, address = str(form.get("list", "")), str(form.get("address", "")).strip()
            if form.get("op") == "delete":
                self.security.delete_autoblock_entry(session.user, kind, address)
            else:
                self.security.add_autoblock_entry(session.user, kind, address)

        return await self._apply(request, session, self.security_page, change)

    # --- Personal and Log Center -----------------------------------------------------------

    async def personal(self, request: web.Request, session: Session,
                       messages: list[tuple[str, str]] | None = None) -> web.Response:
        return self.render("personal.html", request, session, messages, title="Personal")

    async def personal_save(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        new, confirm = str(form.get("new_password", "")), str(form.get("confirm", ""))
        if new != confirm:
            return await self.personal(request, session,
                                       [("error", "The passwords do not match.")])
        try:
            await self.ctx.accounts.change_own_password(session.user,
                                                  str(form.get("old_password", "")), new)
        except OpenStationError as exc:
            return await self.personal(request, session, self.problems(exc))
        response = web.HTTPSeeOther("/?changed=1")
        response.del_cookie(COOKIE, path="/")
        raise response

    async def logs(self, request: web.Request, session: Session) -> web.Response:
        entries = [{
            "time": datetime.fromtimestamp(e.at, UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "actor": e.actor, "action": e.action, "section": e.section, "key": e.key,
            "detail": e.detail, "text": json.dumps(e.detail)[:400],
        } for e in self.ctx.store.audit_log(limit=300)]
        return self.render("logs.html", request, session, title="Log Center", entries=entries)

    # --- Update & Restore > Configuration Backup -------------------------------------------

    async def restore_page(self, request: web.Request, session: Session,
                           messages: list[tuple[str, str]] | None = None,
                           preview: dict[str, Any] | None = None, pending: str = ""
                           ) -> web.Response:
        snapshots = [p.name for p in auto_backup.snapshots(self.ctx.data_dir.volume)]
        return self.render("restore.html", request, session, messages,
                           title="Update & Restore", preview=preview, pending=pending,
                           snapshots=snapshots)

    async def restore_export(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        body = await self.backups.export(str(form.get("passphrase", "")) or None)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(self.ctx.clock()))
        return web.Response(body=body, content_type="application/octet-stream", headers={
            "Content-Disposition": f'attachment; filename="{self.ctx.hardware.model_name}-'
                                  f'{stamp}.dss.json"', "Cache-Control": "no-store"})

    async def restore_preview(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        raw = upload.file.read() if isinstance(upload, web.FileField) else b""
        passphrase = str(form.get("passphrase", "")) or None
        try:
            preview = await self.backups.preview(raw, passphrase, None)
        except OpenStationError as exc:
            return await self.restore_page(request, session, self.problems(exc))
        # The checked file waits on the server (in this session) for the confirmation; no
        # secret goes back to the browser.
        pending = secrets.token_urlsafe(12)
        waiting = session.pending
        while len(waiting) >= MAX_PENDING:
            waiting.pop(next(iter(waiting)))
        waiting[pending] = (raw, passphrase)
        return await self.restore_page(request, session, preview=preview, pending=pending)

    async def restore_apply(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        found = session.pending.pop(str(form.get("pending", "")), None)
        if found is None:
            return await self.restore_page(request, session, [(
                "error", "Choose the backup file again (the preview expired).")])
        sections = [str(s) for s in form.getall("sections", [])]
        if not sections:
            return await self.restore_page(request, session, [("error", "Tick a section.")])
        raw, passphrase = found
        try:
            await self.backups.restore(raw, passphrase, sections, session.user)
        except OpenStationError as exc:
            return await self.restore_page(request, session, self.problems(exc))
        response = web.HTTPSeeOther("/?restored=1")
        response.del_cookie(COOKIE, path="/")
        raise response

    # --- Control Panel > Shared Folder -----------------------------------------------------

    async def shares_page(self, request: web.Request, session: Session,
                          messages: list[tuple[str, str]] | None = None) -> web.Response:
        storage = self.ctx.storage
        return self.render("shares.html", request, session, messages, title="Shared Folder",
                           shares=[share_json(storage, s)
                                   for s in self.ctx.store.records(Share)],
                           keys=self.ctx.store.records(KeyEntry))

    async def share_create(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        encrypted = form.get("encrypted") == "1"
        return await self._apply(request, session, self.shares_page, lambda f: (
            self.ctx.storage.create_share(
                str(f.get("name", "")), actor=session.user,
                description=str(f.get("description", "")), encrypted=encrypted,
                passphrase=str(f.get("passphrase", "")) or None)))

    async def share_delete(self, request: web.Request, session: Session) -> web.Response:
        return await self._apply(request, session, self.shares_page, lambda f: (
            self.ctx.storage.delete_share(str(f.get("name", "")), actor=session.user,
                                          confirm=f.get("confirm") == "1")))

    async def share_crypto(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        name, op = str(form.get("name", "")), str(form.get("op", ""))
        storage = self.ctx.storage
        if op == "export":
            try:
                body = await storage.export_key(name, str(form.get("export_passphrase", "")))
            except OpenStationError as exc:
                return await self.shares_page(request, session, self.problems(exc))
            return web.Response(body=body, content_type="application/octet-stream",
                                headers={"Content-Disposition":
                                         f'attachment; filename="{name}.key"'})

        async def change(f: Any) -> None:
            if op == "mount":
                await storage.mount(name, passphrase=str(f.get("passphrase", "")) or None)
            elif op == "unmount":
                storage.unmount(name)
            elif op == "keymanager":
                await storage.key_manager_add(
                    name, actor=session.user,
                    passphrase=str(f.get("export_passphrase", "")) or None)
                storage.set_share(name, actor=session.user, mount_on_startup=True)
            else:
                raise ValidationError({"op": "mount, unmount, export or keymanager"})

        return await self._apply(request, session, self.shares_page, change)
