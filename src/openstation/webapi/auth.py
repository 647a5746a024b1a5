"""SYNO.API.Auth (login/logout), the DSM 7 handshake (UIConfig, Encryption), and the check
every other call passes: which session, which token, which restrictions."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from openstation.accounts.login import ENROL_OTP, MUST_CHANGE_PASSWORD, OTP_ENFORCED, LoginRequest
from openstation.errors import ApiError, LoginRefused, SessionRefused
from openstation.security.tokens import same_token
from openstation.webapi import envelope
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall, Authenticator
from openstation.webapi.registry import Api, Registry

SOURCE_IP_MISMATCH = 150
OTP_ENROLMENT = {("SYNO.Core.OTP", "get_qrcode"), ("SYNO.Core.OTP", "save")}
SESSION_CODES = {"expired": envelope.SESSION_TIMEOUT, "unknown": envelope.SID_NOT_FOUND,
                 "moved": SOURCE_IP_MISMATCH, "revoked": envelope.SID_NOT_FOUND}
SESSION_COOKIE = "id"


def client_ip(request: web.Request) -> str:
    return request.remote or ""


def request_sid(request: web.Request, params: Mapping[str, str] | None = None) -> str | None:
    """The session a request names: `_sid` (in `params`, else its query), or the cookie."""
    return (request.query if params is None else params).get("_sid") or \
        request.cookies.get(SESSION_COOKIE)


def session_id(call: ApiCall) -> str | None:
    return request_sid(call.request, call.params)


def make_authenticator(ctx: WebContext) -> Authenticator:
    """The check run before every call that needs a session."""

    async def authenticate(call: ApiCall) -> None:
        sid = session_id(call)
        if not sid:
            raise ApiError(envelope.SID_NOT_FOUND)
        try:
            session = ctx.login.resume(sid, client_ip(call.request))
        except SessionRefused as refused:
            raise ApiError(SESSION_CODES[refused.reason]) from None
        if session.restricted == ENROL_OTP:
            if (call.api.name, call.method) not in OTP_ENROLMENT:
                raise ApiError(OTP_ENFORCED, errors={
                    "reason": "2-step verification was not in the restored backup: set it up "
                              "again first (SYNO.Core.OTP get_qrcode, then save)"})
        elif session.restricted and call.method not in call.api.while_restricted:
            raise ApiError(MUST_CHANGE_PASSWORD,
                           errors={"reason": "set a new password first"})
        # As DSM: a change authenticated by the cookie alone (which any same-site page can
        # make a browser send) must carry the session's SynoToken; so must any change of a
        # session that asked for one.
        by_cookie = not call.params.get("_sid")
        if call.method in call.api.changes and (by_cookie or session.synotoken):
            token = call.params.get("SynoToken") or call.request.headers.get("X-SYNO-TOKEN")
            if not same_token(token or "", session.synotoken or ""):
                raise ApiError(envelope.SID_NOT_FOUND)
        if call.method in call.api.admin and not session.administrator:
            raise ApiError(envelope.NO_PERMISSION)
        call.session = session

    return authenticate


def register(registry: Registry, ctx: WebContext) -> None:
    """Add SYNO.API.Auth, SYNO.API.Auth.UIConfig and SYNO.API.Encryption."""

    async def login(call: ApiCall) -> web.Response:
        request = LoginRequest(
            account=call.params.get("account", ""),
            password=call.params.get("passwd", ""),
            ip=client_ip(call.request),
            otp_code=call.params.get("otp_code", ""),
            device_id=call.params.get("device_id", ""),
            want_device_token=call.params.get("enable_device_token") == "yes",
            want_synotoken=call.params.get("enable_syno_token") == "yes",
            session_name=call.params.get("session", ""),
        )
        if not request.account:
            raise ApiError(envelope.MISSING_PARAMETER)
        try:
            result = await ctx.login.login(request)
        except LoginRefused as refused:
            raise ApiError(refused.code, errors={"reason": refused.reason, **refused.extra}
                           ) from None
        session = result.session
        data: dict[str, Any] = {"sid": session.sid, "is_portal_port": False}
        if session.synotoken:
            data["synotoken"] = session.synotoken
        if result.device_token:
            data["did"] = result.device_token
            data["device_id"] = result.device_token
        if session.restricted == ENROL_OTP:
            data["must_enrol_otp"] = True
        elif session.restricted:
            data["must_change_password"] = True
        response = envelope.success(data)
        response.set_cookie(SESSION_COOKIE, session.sid, httponly=True, samesite="Strict",
                            secure=call.request.secure, path="/")
        return response

    async def logout(call: ApiCall) -> web.Response:
        sid = session_id(call)
        if sid:
            ctx.sessions.end(sid)
        response = envelope.success()
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    async def ui_config(call: ApiCall) -> web.Response:
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        public = X25519PrivateKey.generate().public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw)
        response = envelope.success({"enable_ui_lang": False})
        response.set_cookie("_SSID", base64.urlsafe_b64encode(public).rstrip(b"=").decode(),
                            httponly=True, samesite="Strict", secure=call.request.secure,
                            path="/")
        return response

    async def encryption_info(call: ApiCall) -> dict[str, Any]:
        return await ctx.crypto.info(client_ip(call.request))

    registry.add(Api("SYNO.API.Auth", "auth.cgi", 1, 7, {"login": login, "logout": logout},
                     needs_session=False))
    registry.add(Api("SYNO.API.Auth.UIConfig", "entry.cgi", 1, 1, {"get": ui_config},
                     needs_session=False))
    registry.add(Api("SYNO.API.Encryption", "encryption.cgi", 1, 1,
                     {"getinfo": encryption_info}, needs_session=False))
