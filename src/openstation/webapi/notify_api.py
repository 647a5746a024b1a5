"""Control Panel > Notification over the Web API: SYNO.Core.Notification.Mail.Conf (get,
set), .Mail (get, send_test), .Mail.Auth and .Mail.Profile.Conf (get), .Push.Webhook.Provider
(get, set), .Advance.FilterSettings (get, set: which events notify), its .Template and
.Profile (get), .Advance.WarningPercentage (get, set: volume 1's use that warns), and
.Sysnotify (get: the notifications sent since boot, with their outcome). The SMTP password
is taken, sealed, and never shown: answers say only whether one is set.

Synology's own push service, SMS and LINE need Synology's servers: absent.py answers them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from openstation.config.sections import NotifyEvent
from openstation.errors import ApiError
from openstation.notify.notifier import Notifier
from openstation.notify.service import NotificationService
from openstation.webapi import envelope
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry


def addresses(value: Any) -> list[str] | None:
    """Recipients as DSM sends them: a JSON list, or one string of comma-separated ones."""
    if value is None:
        return None
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    raise ApiError(envelope.INVALID_PARAMETER, errors={"mail": "a list of mail addresses"})


def masked(url: str) -> str:
    """A webhook URL as shown: its password and query (where tokens travel) hidden."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc, query="***" if parts.query else ""))


def register(registry: Registry, service: NotificationService, notifier: Notifier) -> None:
    def who(call: ApiCall) -> str:
        return str(call.session.user)

    async def mail_get(call: ApiCall) -> dict[str, Any]:
        settings = service.settings()
        return {"enable_mail": settings.mail_enabled, "smtp_server": settings.smtp_server,
                "smtp_port": settings.smtp_port, "security": settings.security.value,
                "smtp_ssl": settings.security.value != "none",
                "smtp_auth": bool(settings.smtp_user), "smtp_user": settings.smtp_user,
                "smtp_password_set": bool(settings.smtp_password),
                "sender_mail": settings.sender, "mail": list(settings.recipients),
                "subject_prefix": settings.subject_prefix}

    async def mail_set(call: ApiCall) -> dict[str, Any]:
        auth = call.bool_param("smtp_auth")
        service.set(who(call), mail_enabled=call.bool_param("enable_mail"),
                    smtp_server=call.params.get("smtp_server"),
                    smtp_port=call.optional_int("smtp_port"),
                    security=call.params.get("security"),
                    smtp_user="" if auth is False else call.params.get("smtp_user"),
                    smtp_password=call.params.get("smtp_password"),
                    sender=call.params.get("sender_mail"),
                    recipients=addresses(call.json_param("mail")),
                    subject_prefix=call.params.get("subject_prefix"))
        return await mail_get(call)

    async def send_test(call: ApiCall) -> dict[str, Any]:
        outcome = await notifier.test()
        return {"mail": outcome.get("mail", "not set up"),
                "webhook": outcome.get("webhook", "off")}

    async def auth_get(call: ApiCall) -> dict[str, Any]:
        settings = service.settings()
        return {"smtp_auth": bool(settings.smtp_user), "smtp_user": settings.smtp_user,
                "smtp_password_set": bool(settings.smtp_password)}

    async def profiles(call: ApiCall) -> dict[str, Any]:
        return {"profiles": [await mail_get(call)], "total": 1}

    async def webhook_get(call: ApiCall) -> dict[str, Any]:
        settings = service.settings()
        return {"list": [{"provider": "custom", "enable": settings.webhook_enabled,
                          "url": masked(settings.webhook_url), "method": "POST",
                          "content_type": "application/json"}]}

    async def webhook_set(call: ApiCall) -> dict[str, Any]:
        service.set(who(call), webhook_enabled=call.bool_param("enable"),
                    webhook_url=call.params.get("url"))
        return await webhook_get(call)

    async def rules_get(call: ApiCall) -> dict[str, Any]:
        chosen = set(service.settings().events)
        return {"events": [{"event": event.value, "enable": event in chosen}
                           for event in NotifyEvent]}

    async def rules_set(call: ApiCall) -> dict[str, Any]:
        events = call.json_param("events")
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise ApiError(envelope.INVALID_PARAMETER,
                           errors={"events": "a list of event names"})
        service.set(who(call), events=events)
        return await rules_get(call)

    async def warning_get(call: ApiCall) -> dict[str, Any]:
        return {"percentage": service.settings().volume_warning_percent}

    async def warning_set(call: ApiCall) -> dict[str, Any]:
        service.set(who(call), volume_warning_percent=call.optional_int("percentage"))
        return await warning_get(call)

    async def sent(call: ApiCall) -> dict[str, Any]:
        return {"items": list(notifier.recent), "total": len(notifier.recent),
                "dropped": notifier.dropped}

    base = "SYNO.Core.Notification"
    apis: dict[str, dict[str, Handler]] = {
        f"{base}.Mail.Conf": {"get": mail_get, "set": mail_set},
        f"{base}.Mail": {"get": mail_get, "send_test": send_test},
        f"{base}.Mail.Auth": {"get": auth_get},
        f"{base}.Mail.Profile.Conf": {"get": profiles},
        f"{base}.Push.Webhook.Provider": {"get": webhook_get, "set": webhook_set},
        f"{base}.Advance.FilterSettings": {"get": rules_get, "set": rules_set},
        f"{base}.Advance.FilterSettings.Template": {"get": rules_get},
        f"{base}.Advance.FilterSettings.Profile": {"get": rules_get},
        f"{base}.Sysnotify": {"get": sent},
        f"{base}.Advance.WarningPercentage": {"get": warning_get, "set": warning_set},
    }
    for name, methods in apis.items():
        registry.add(Api(name, "entry.cgi", 1, 1, methods,
                         changes=frozenset({"set", "send_test"}), admin=frozenset(methods)))
