"""What DSM's desktop asks for itself, from the session and the accounts: SYNO.Core.Desktop
.Timeout, .SessionData, .Initdata and .Upgrade (get), SYNO.Core.UserSettings and
.PersonalSettings (get: the signed-in account's own), .GroupSettings (get: its groups),
SYNO.Core.DSMNotify (notify, action=load: the notifications sent since boot),
SYNO.Core.Group.ExtraAdmin (get: groups with administrators' rights besides
"administrators": none can have them here) and .Group.ValidLocalAdmin (get: whether an
enabled administrator exists)."""

from __future__ import annotations

from typing import Any

from openstation.accounts.service import AccountService
from openstation.config.sections import LoginSettings, User
from openstation.errors import NotFoundError
from openstation.notify.notifier import Notifier
from openstation.upgrade import UpgradeService
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry


def register(registry: Registry, ctx: WebContext, accounts: AccountService,
             notifier: Notifier, upgrades: UpgradeService) -> None:
    def me(call: ApiCall) -> User:
        user = ctx.store.record(User, call.session.user)
        if user is None:  # deleting an account ends its sessions: only in a race
            raise NotFoundError(f"no account {call.session.user!r}")
        return user

    async def timeout(call: ApiCall) -> dict[str, Any]:
        return {"timeout": ctx.store.get(LoginSettings).session_timeout_minutes}

    async def session_data(call: ApiCall) -> dict[str, Any]:
        session = call.session
        return {"user": session.user, "is_admin": accounts.is_administrator(session.user),
                "ip": session.ip, "login_time": int(session.created),
                "last_seen": int(session.last_seen), "app": session.name or "dsm",
                "must_change_password": bool(session.restricted)}

    def settings_of(user: User) -> dict[str, Any]:
        return {"name": user.name, "description": user.description, "email": user.email,
                "otp_enable": bool(user.otp_secret),
                "password_last_change": int(user.password_changed),
                "cannot_change_password": user.cannot_change_password,
                "groups": [g.name for g in accounts.groups() if user.name in g.members]}

    async def user_settings(call: ApiCall) -> dict[str, Any]:
        return settings_of(me(call))

    async def group_settings(call: ApiCall) -> dict[str, Any]:
        name = me(call).name
        return {"groups": [{"name": g.name, "description": g.description}
                           for g in accounts.groups() if name in g.members]}

    async def init_data(call: ApiCall) -> dict[str, Any]:
        return {"Session": await session_data(call), "UserSettings": settings_of(me(call)),
                "Timeout": await timeout(call)}

    async def upgrade_notice(call: ApiCall) -> dict[str, Any]:
        found = upgrades.available()
        return {"available": found is not None,
                "version": found.version_string if found else None}

    async def notifications(call: ApiCall) -> dict[str, Any]:
        items = list(notifier.recent) if accounts.is_administrator(call.session.user) else []
        return {"items": items, "total": len(items)}

    async def extra_admin(call: ApiCall) -> dict[str, Any]:
        return {"groups": []}

    async def valid_admin(call: ApiCall) -> dict[str, Any]:
        enabled = [name for name in accounts.administrators()
                   if (user := accounts.user(name)) is not None and not user.disabled]
        return {"valid": bool(enabled), "administrators": len(enabled)}

    apis: dict[str, tuple[dict[str, Handler], bool]] = {  # API → (methods, admin only)
        "SYNO.Core.Desktop.Timeout": ({"get": timeout}, False),
        "SYNO.Core.Desktop.SessionData": ({"get": session_data}, False),
        "SYNO.Core.Desktop.Initdata": ({"get": init_data}, False),
        "SYNO.Core.Desktop.Upgrade": ({"get": upgrade_notice}, False),
        "SYNO.Core.UserSettings": ({"get": user_settings}, False),
        "SYNO.Core.PersonalSettings": ({"get": user_settings}, False),
        "SYNO.Core.GroupSettings": ({"get": group_settings}, False),
        "SYNO.Core.DSMNotify": ({"notify": notifications}, False),
        "SYNO.Core.Group.ExtraAdmin": ({"get": extra_admin}, True),
        "SYNO.Core.Group.ValidLocalAdmin": ({"get": valid_admin}, True),
    }
    for name, (methods, admin) in apis.items():
        registry.add(Api(name, "entry.cgi", 1, 1, methods,
                         admin=frozenset(methods) if admin else frozenset()))
