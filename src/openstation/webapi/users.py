"""Accounts over the Web API: SYNO.Core.User, .Group, .User.PasswordPolicy,
.User.PasswordExpiry, .User.UsernamePolicy, .NormalUser, .OTP."""

from __future__ import annotations

from typing import Any

import pyotp

from openstation.accounts.login import ENROL_OTP
from openstation.accounts.service import UserChanges
from openstation.config.sections import Group, LoginSettings, PasswordPolicy, User
from openstation.errors import ApiError
from openstation.webapi import envelope
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Registry


def _expired(call: ApiCall) -> bool | None:
    """DSM's `expired`: "normal" is enabled, "now" is disabled."""
    raw = call.params.get("expired")
    if raw is None:
        return None
    if raw not in ("normal", "now"):
        raise ApiError(envelope.INVALID_PARAMETER, errors={"expired": "is normal or now"})
    return raw == "now"


def user_json(user: User, administrators: list[str], additional: list[str]) -> dict[str, Any]:
    """A user as DSM lists it (never a hash or secret)."""
    entry: dict[str, Any] = {
        "name": user.name, "uid": user.uid, "description": user.description,
        "email": user.email, "expired": "now" if user.disabled else "normal",
    }
    extra = {
        "cannot_chg_passwd": user.cannot_change_password,
        "passwd_never_expire": user.password_never_expires,
        "is_admin": user.name in administrators,
        "2fa_status": bool(user.otp_secret),
        "must_change_password": user.must_change_password,
    }
    for key in additional:
        if key in extra:
            entry[key] = extra[key]
    return entry


def register(registry: Registry, ctx: WebContext) -> None:
    """Add the account APIs."""
    accounts = ctx.accounts

    def actor(call: ApiCall) -> str:
        return str(call.session.user) if call.session else "anonymous"

    async def list_users(call: ApiCall) -> dict[str, Any]:
        offset = call.int_param("offset", 0)
        limit = call.int_param("limit", -1, low=-1)
        additional = call.json_param("additional", [])
        if not isinstance(additional, list):
            additional = [additional]
        users = ctx.store.records(User, offset=offset, limit=limit)
        admins = accounts.administrators()
        return {"offset": offset, "total": ctx.store.count(User),
                "users": [user_json(u, admins, [str(a) for a in additional]) for u in users]}

    async def get_user(call: ApiCall) -> dict[str, Any]:
        name = call.param("name")
        if name != call.session.user and not call.session.administrator:
            raise ApiError(envelope.NO_PERMISSION)
        user = ctx.store.record(User, name)
        if user is None:
            raise ApiError(envelope.INVALID_PARAMETER, errors={"name": "no such user"})
        return {"users": [user_json(user, accounts.administrators(),
                                    ["cannot_chg_passwd", "passwd_never_expire", "is_admin",
                                     "2fa_status", "must_change_password"])]}

    async def create_user(call: ApiCall) -> dict[str, Any]:
        name, password = call.param("name"), call.param("password")
        user = await accounts.create_user(name, password, actor=actor(call),
                                    description=call.params.get("description", ""),
                                    email=call.params.get("email", ""))
        changes = UserChanges(
            disabled=_expired(call), cannot_change_password=call.bool_param("cannot_chg_passwd"),
            password_never_expires=call.bool_param("passwd_never_expire"))
        if any(v is not None for v in vars(changes).values()):
            user = await accounts.set_user(name, changes, actor=actor(call))
        return {"name": user.name, "uid": user.uid}

    async def set_user(call: ApiCall) -> dict[str, Any]:
        name = call.param("name")
        session = call.session
        if session.restricted:
            # The one thing a must-change session may do: give itself a strong password.
            if name != session.user or not call.params.get("password"):
                raise ApiError(410, errors={"reason": "set a new password first"})
            await accounts.set_user(name, UserChanges(password=call.params["password"]),
                              actor=session.user)
            return {"name": name}
        if not session.administrator:
            raise ApiError(envelope.NO_PERMISSION)
        changes = UserChanges(
            new_name=call.params.get("new_name") or None,
            password=call.params.get("password") or None,
            description=call.params.get("description"),
            email=call.params.get("email"),
            disabled=_expired(call),
            cannot_change_password=call.bool_param("cannot_chg_passwd"),
            password_never_expires=call.bool_param("passwd_never_expire"),
            must_change_password=call.bool_param("must_change_password"),
        )
        user = await accounts.set_user(name, changes, actor=actor(call))
        return {"name": user.name, "uid": user.uid}

    async def delete_user(call: ApiCall) -> dict[str, Any]:
        names = call.json_param("name")
        accounts.delete_users([str(name) for name in
                               (names if isinstance(names, list) else [names])],
                              actor=actor(call))
        return {}

    async def list_groups(call: ApiCall) -> dict[str, Any]:
        offset = call.int_param("offset", 0)
        limit = call.int_param("limit", -1, low=-1)
        groups = ctx.store.records(Group, offset=offset, limit=limit)
        return {"offset": offset, "total": ctx.store.count(Group), "groups": [
            {"name": g.name, "gid": g.gid, "description": g.description,
             "members": list(g.members)} for g in groups]}

    async def get_policy(call: ApiCall) -> dict[str, Any]:
        policy = ctx.store.get(PasswordPolicy)
        return {"strong_password_enable": True, "min_length": policy.min_length,
                "mixed_case": policy.mixed_case, "included_numeric_char": policy.digit,
                "included_special_char": policy.special,
                "exclude_username": policy.exclude_username,
                "max_age_days": policy.max_age_days}

    async def set_policy(call: ApiCall) -> dict[str, Any]:
        changes: dict[str, Any] = {
            # Only parsed here: the account service owns the rules' ranges.
            "min_length": call.optional_int("min_length"),
            "max_age_days": call.optional_int("max_age_days")}
        for param, field in (("mixed_case", "mixed_case"), ("included_numeric_char", "digit"),
                             ("included_special_char", "special"),
                             ("exclude_username", "exclude_username")):
            changes[field] = call.bool_param(param)
        accounts.set_password_policy(actor(call), **changes)
        return await get_policy(call)

    async def expiry_get(call: ApiCall) -> dict[str, Any]:
        """Password expiry, DSM's view of the policy's maximum age (0: never)."""
        days = ctx.store.get(PasswordPolicy).max_age_days
        return {"enable_pwd_expiry": days > 0, "password_expire_day": days or 90,
                "enable_login_prompt": False, "allow_reset_after_expired": True,
                "enable_mail_notification": False}

    async def expiry_set(call: ApiCall) -> dict[str, Any]:
        enable = call.bool_param("enable_pwd_expiry")
        days = call.optional_int("password_expire_day")
        if enable is False:
            days = 0
        elif enable and days is None:
            days = ctx.store.get(PasswordPolicy).max_age_days or 90
        accounts.set_password_policy(actor(call), max_age_days=days)
        return await expiry_get(call)

    async def reserved_names(call: ApiCall) -> list[str]:
        """DSM's list of names no new account may take: here the system accounts' and
        groups' (a name that reads the same as an existing one is refused too)."""
        return sorted({*(u.name for u in accounts.users() if u.system),
                       *(g.name for g in accounts.groups() if g.system)})

    async def normal_get(call: ApiCall) -> dict[str, Any]:
        user = ctx.store.record(User, call.session.user)
        assert user is not None
        return {"username": user.name, "fullname": user.description, "email": user.email,
                "OTP_enable": bool(user.otp_secret)}

    async def normal_set(call: ApiCall) -> dict[str, Any]:
        session = call.session
        new = call.param("password")
        if session.restricted:
            await accounts.set_user(session.user, UserChanges(password=new), actor=session.user)
        else:
            await accounts.change_own_password(session.user, call.param("old_password"), new)
        return {}

    async def otp_qrcode(call: ApiCall) -> dict[str, Any]:
        secret = pyotp.random_base32()
        call.session.extra["pending_otp"] = secret
        uri = pyotp.TOTP(secret).provisioning_uri(name=call.session.user,
                                                 issuer_name=ctx.hardware.model.name)
        return {"secret": secret, "qrcode": uri}

    async def otp_save(call: ApiCall) -> dict[str, Any]:
        secret = call.session.extra.get("pending_otp")
        if not secret:
            raise ApiError(envelope.INVALID_PARAMETER, errors={"reason": "get_qrcode first"})
        if not pyotp.TOTP(secret).verify(call.param("code"), for_time=int(ctx.clock()),
                                         valid_window=1):
            raise ApiError(404, errors={"reason": "wrong 2-step verification code"})
        accounts.enrol_otp(call.session.user, secret)
        del call.session.extra["pending_otp"]
        if call.session.restricted == ENROL_OTP:
            call.session.restricted = ""  # enrolled again: the session may do the rest
        return {}

    admin_all = frozenset({"list", "create", "delete"})
    registry.add(Api("SYNO.Core.User", "entry.cgi", 1, 1,
                     {"list": list_users, "get": get_user, "create": create_user,
                      "set": set_user, "delete": delete_user},
                     changes=frozenset({"create", "set", "delete"}), admin=admin_all,
                     while_restricted=frozenset({"set"})))
    registry.add(Api("SYNO.Core.Group", "entry.cgi", 1, 1, {"list": list_groups},
                     admin=frozenset({"list"})))
    registry.add(Api("SYNO.Core.User.PasswordPolicy", "entry.cgi", 1, 1,
                     {"get": get_policy, "set": set_policy}, changes=frozenset({"set"}),
                     admin=frozenset({"set"})))
    registry.add(Api("SYNO.Core.User.PasswordExpiry", "entry.cgi", 1, 1,
                     {"get": expiry_get, "set": expiry_set}, changes=frozenset({"set"}),
                     admin=frozenset({"set"})))
    registry.add(Api("SYNO.Core.User.UsernamePolicy", "entry.cgi", 1, 1,
                     {"list": reserved_names, "get": reserved_names}))
    registry.add(Api("SYNO.Core.NormalUser", "entry.cgi", 1, 1,
                     {"get": normal_get, "set": normal_set}, changes=frozenset({"set"}),
                     while_restricted=frozenset({"set"})))
    async def otp_get(call: ApiCall) -> dict[str, Any]:
        """The signed-in account's 2-step verification, and whether it is enforced."""
        user = ctx.store.record(User, call.session.user)
        assert user is not None
        enforced = ctx.store.get(LoginSettings).enforce_2step_admins and \
            accounts.is_administrator(user.name)
        return {"otp_enable": bool(user.otp_secret), "must_enrol_again": user.otp_reenrol,
                "enforced": enforced, "trusted_devices": len(user.device_tokens)}

    async def enforce_get(call: ApiCall) -> dict[str, Any]:
        enforced = ctx.store.get(LoginSettings).enforce_2step_admins
        return {"otp_enforce_option": "admin" if enforced else "none"}

    async def enforce_set(call: ApiCall) -> dict[str, Any]:
        option = call.param("otp_enforce_option")
        if option not in ("admin", "none"):
            raise ApiError(envelope.INVALID_PARAMETER, errors={
                "otp_enforce_option": "admin (every administrator) or none"})
        accounts.set_login_settings(str(call.session.user),
                                    enforce_2step_admins=option == "admin")
        return await enforce_get(call)

    registry.add(Api("SYNO.Core.OTP", "entry.cgi", 1, 1,
                     {"get_qrcode": otp_qrcode, "save": otp_save, "get": otp_get},
                     changes=frozenset({"save"})))
    registry.add(Api("SYNO.Core.OTP.EnforcePolicy", "entry.cgi", 1, 1,
                     {"get": enforce_get, "set": enforce_set}, changes=frozenset({"set"}),
                     admin=frozenset({"get", "set"})))
