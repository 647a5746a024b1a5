"""Control Panel > Security's other tabs over the Web API, from what the device really does:
SYNO.Core.Security.DSM (the sign-in session's idle timeout: get, set), .DSM.Embed (pages
refuse to be framed: get), .DSM.Proxy (the client address is the socket's, no forwarded
header is trusted: get), .DoS (the per-source connection caps and timeouts of every
listener, always on: get), .Firewall.Adapter (the interfaces the one firewall profile
covers: list, get), .Firewall.Conf and .Firewall.Profile (that profile: get),
.Firewall.Geoip (no country database: get) and .Firewall.Rules.Serv (the built-in services
a rule can name, at their live ports: list, get)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openstation.accounts.service import AccountService
from openstation.config.sections import Firewall, FirewallRule, LoginSettings, Network
from openstation.errors import ApiError
from openstation.security.connections import ConnectionLimits
from openstation.security.firewall import Services
from openstation.webapi import envelope
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry

PROFILE = "default"  # one firewall profile covers every interface


def register(registry: Registry, ctx: WebContext, accounts: AccountService,
             known: Callable[[], Services], limits: ConnectionLimits) -> None:
    def interfaces() -> list[str]:
        return [iface.id for iface in ctx.store.get(Network).interfaces]

    async def dsm_get(call: ApiCall) -> dict[str, Any]:
        login = ctx.store.get(LoginSettings)
        return {"timeout": login.session_timeout_minutes, "enable_csrf_protection": True,
                "skip_ip_check": False, "allow_same_origin_only": True,
                "enforce_2step_admins": login.enforce_2step_admins}

    async def dsm_set(call: ApiCall) -> dict[str, Any]:
        accounts.set_login_settings(str(call.session.user),
                                    session_timeout_minutes=call.optional_int("timeout"))
        return await dsm_get(call)

    async def embed_get(call: ApiCall) -> dict[str, Any]:
        # every page says X-Frame-Options: DENY and frame-ancestors 'none' (ui/kit.py)
        return {"allow_embed": False, "embed_list": []}

    async def proxy_get(call: ApiCall) -> dict[str, Any]:
        return {"enable_reverse_proxy": False, "trusted_proxies": []}

    async def dos_get(call: ApiCall) -> dict[str, Any]:
        limits_json = {"connections_per_source": limits.per_source,
                       "request_head_seconds": limits.head_timeout,
                       "idle_seconds": limits.idle_timeout,
                       "body_bytes_per_second": limits.body_rate}
        return {"dos": [{"adapter": name, "enable": True, **limits_json}
                        for name in interfaces()]}

    def adapter(name: str) -> dict[str, Any]:
        return {"adapter": name, "profile": PROFILE,
                "enable": ctx.store.get(Firewall).enabled}

    async def adapter_list(call: ApiCall) -> dict[str, Any]:
        return {"adapters": [adapter(name) for name in interfaces()]}

    async def adapter_get(call: ApiCall) -> dict[str, Any]:
        known = interfaces()
        name = call.params.get("adapter", known[0] if known else "").strip('"')
        if name not in known:
            raise ApiError(envelope.INVALID_PARAMETER, errors={"adapter": "no such interface"})
        return adapter(name)

    async def conf_get(call: ApiCall) -> dict[str, Any]:
        firewall = ctx.store.get(Firewall)
        return {"enable_firewall": firewall.enabled, "profile_name": PROFILE,
                "default_action": firewall.default_action.value,
                "rules": len(ctx.store.keys(FirewallRule))}

    async def profile_get(call: ApiCall) -> dict[str, Any]:
        firewall = ctx.store.get(Firewall)
        rules = sorted((rule for key in ctx.store.keys(FirewallRule)
                        if (rule := ctx.store.record(FirewallRule, key)) is not None),
                       key=lambda rule: rule.order)
        return {"name": PROFILE, "enable": firewall.enabled,
                "default_action": firewall.default_action.value,
                "rules": [{"id": rule.rule_id, "enable": rule.enabled,
                           "adapter": rule.interface, "action": rule.action.value,
                           "source": rule.source, "ports": rule.ports,
                           "protocol": rule.protocol.value} for rule in rules],
                "adapters": interfaces()}

    async def profile_list(call: ApiCall) -> dict[str, Any]:
        return {"profiles": [await profile_get(call)], "total": 1}

    async def geoip_get(call: ApiCall) -> dict[str, Any]:
        return {"supported": False, "countries": []}  # rules match addresses, not countries

    def service_json(name: str, entry: tuple[str, tuple[tuple[int, int], ...]]) -> dict[str, Any]:
        protocol, ranges = entry
        return {"id": name, "name": name, "protocol": protocol,
                "ports": [f"{low}" if low == high else f"{low}-{high}" for low, high in ranges]}

    async def services_list(call: ApiCall) -> dict[str, Any]:
        return {"services": [service_json(n, e) for n, e in sorted(known().items())]}

    async def services_get(call: ApiCall) -> dict[str, Any]:
        wanted = call.params.get("id", "").strip('"')
        found = known()
        if wanted in found:
            return service_json(wanted, found[wanted])
        return await services_list(call)

    apis: dict[str, dict[str, Handler]] = {
        "SYNO.Core.Security.DSM": {"get": dsm_get, "set": dsm_set},
        "SYNO.Core.Security.DSM.Embed": {"get": embed_get},
        "SYNO.Core.Security.DSM.Proxy": {"get": proxy_get},
        "SYNO.Core.Security.DoS": {"get": dos_get},
        "SYNO.Core.Security.Firewall.Adapter": {"list": adapter_list, "get": adapter_get},
        "SYNO.Core.Security.Firewall.Conf": {"get": conf_get},
        "SYNO.Core.Security.Firewall.Profile": {"get": profile_get, "list": profile_list},
        "SYNO.Core.Security.Firewall.Geoip": {"get": geoip_get},
        "SYNO.Core.Security.Firewall.Rules.Serv": {"list": services_list, "get": services_get},
    }
    for name, methods in apis.items():
        registry.add(Api(name, "entry.cgi", 1, 1, methods, changes=frozenset({"set"}),
                         admin=frozenset(methods)))
