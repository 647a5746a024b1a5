"""Control Panel > Network and > Security over the Web API: SYNO.Core.Network(.Ethernet,
.PPPoE), SYNO.Core.Web.DSM, SYNO.Core.Security.Firewall(.Rules), .AutoBlock(.Rules)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from openstation.config.sections import AutoBlock, Firewall, FirewallRule, General, Network
from openstation.errors import ApiError
from openstation.network.service import NetworkService
from openstation.security.firewall import Services, rule_from_text, services_at
from openstation.security.service import SecurityService
from openstation.webapi import envelope
from openstation.webapi.auth import client_ip
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Registry

PortsChanger = Callable[[str, int, int], Awaitable[dict[str, int]]]


def register(registry: Registry, ctx: WebContext, network: NetworkService,
             security: SecurityService, change_ports: PortsChanger,
             current_ports: Callable[[], dict[str, int]]) -> None:
    """Add the settings APIs (the appliers make each change live)."""

    def who(call: ApiCall) -> str:
        return str(call.session.user)

    def dsm_ports() -> tuple[int, int]:
        ports = current_ports()
        return ports.get("http", 5000), ports.get("https", 5001)

    def known() -> Services:
        return services_at(current_ports())

    async def network_get(call: ApiCall) -> dict[str, Any]:
        config = ctx.store.get(Network)
        dns = [*config.dns, "", ""]
        return {"server_name": ctx.store.get(General).server_name,
                "gateway": config.default_gateway, "dns_primary": dns[0],
                "dns_secondary": dns[1], "dns_manual": bool(config.dns)}

    async def network_set(call: ApiCall) -> dict[str, Any]:
        dns = None
        if "dns_primary" in call.params or "dns_secondary" in call.params:
            dns = [d for d in (call.params.get("dns_primary", ""),
                               call.params.get("dns_secondary", "")) if d]
        network.set_general(who(call), server_name=call.params.get("server_name"),
                            default_gateway=call.params.get("gateway"), dns=dns)
        return await network_get(call)

    def ethernet_json(index: int, iface: Any) -> dict[str, Any]:
        return {"id": iface.id, "ifname": iface.id, "use_dhcp": iface.dhcp, "ip": iface.address,
                "mask": iface.netmask, "gateway": iface.gateway, "mtu": iface.mtu,
                "mac": ctx.hardware.macs[index] if index < len(ctx.hardware.macs) else ""}

    async def ethernet_list(call: ApiCall) -> dict[str, Any]:
        interfaces = ctx.store.get(Network).interfaces
        return {"interfaces": [ethernet_json(n, i) for n, i in enumerate(interfaces)]}

    async def ethernet_set(call: ApiCall) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        dhcp = call.bool_param("use_dhcp")
        if dhcp is not None:
            changes["dhcp"] = dhcp
        for param, field in (("ip", "address"), ("mask", "netmask"), ("gateway", "gateway")):
            if param in call.params:
                changes[field] = call.params[param]
        if "mtu" in call.params:
            changes["mtu"] = call.int_param("mtu")
        network.set_interface(who(call), call.param("id"), **changes)
        return await ethernet_list(call)

    async def pppoe_list(call: ApiCall) -> dict[str, Any]:
        return {"pppoe": [network.pppoe()]}

    async def pppoe_set(call: ApiCall) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for param, field in (("enable", "enabled"), ("dns_from_provider", "dns_from_provider")):
            value = call.bool_param(param)
            if value is not None:
                changes[field] = value
        for param, field in (("ifname", "interface"), ("username", "username"),
                             ("password", "password")):
            if param in call.params:
                changes[field] = call.params[param]
        if "mtu" in call.params:
            changes["mtu"] = call.int_param("mtu")
        network.set_pppoe(who(call), **changes)
        return await pppoe_list(call)

    async def dsm_get(call: ApiCall) -> dict[str, Any]:
        ports = dsm_ports()
        return {"http_port": ports[0], "https_port": ports[1]}

    async def dsm_set(call: ApiCall) -> dict[str, Any]:
        current = dsm_ports()
        http = call.int_param("http_port", current[0], low=0, high=65535)
        https = call.int_param("https_port", current[1], low=0, high=65535)
        bound = await change_ports(who(call), http, https)
        # (HTTPS may still be starting on a first boot: it will use the stored port.)
        return {"http_port": bound.get("http", http), "https_port": bound.get("https", https)}

    async def firewall_get(call: ApiCall) -> dict[str, Any]:
        settings = ctx.store.get(Firewall)
        return {"enable_firewall": settings.enabled, "default_action": settings.default_action}

    async def firewall_set(call: ApiCall) -> dict[str, Any]:
        security.set_firewall(who(call), client_ip(call.request), known(),
                              enabled=call.bool_param("enable_firewall"),
                              default_action=call.params.get("default_action"),
                              confirm=bool(call.bool_param("confirm_lockout")))
        return await firewall_get(call)

    def rule_json(rule: FirewallRule) -> dict[str, Any]:
        return {"id": rule.rule_id, "order": rule.order, "interface": rule.interface,
                "ports": rule.ports, "protocol": rule.protocol, "source": rule.source,
                "action": rule.action, "enabled": rule.enabled}

    async def rules_list(call: ApiCall) -> dict[str, Any]:
        rules = sorted(ctx.store.records(FirewallRule), key=lambda r: r.order)
        return {"total": len(rules), "rules": [rule_json(r) for r in rules]}

    async def rules_set(call: ApiCall) -> dict[str, Any]:
        raw = call.json_param("rules")
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            raise ApiError(envelope.INVALID_PARAMETER, errors={"rules": "a JSON list of rules"})
        rules = []
        for n, item in enumerate(raw):
            try:
                rules.append(rule_from_text(
                    str(item.get("id") or f"rule{n + 1}"), n,
                    interface=str(item.get("interface", "all")),
                    ports=str(item.get("ports", "all")),
                    protocol=str(item.get("protocol", "all")),
                    source=str(item.get("source", "all")),
                    action=str(item.get("action", "allow")),
                    enabled=bool(item.get("enabled", True))))
            except (TypeError, ValueError):
                raise ApiError(envelope.INVALID_PARAMETER, errors={f"rules.{n}": "invalid"}
                               ) from None
        security.set_firewall(who(call), client_ip(call.request), known(), rules=rules,
                              confirm=bool(call.bool_param("confirm_lockout")))
        return await rules_list(call)

    async def autoblock_get(call: ApiCall) -> dict[str, Any]:
        settings = ctx.store.get(AutoBlock)
        return {"enable": settings.enabled, "attempts": settings.attempts,
                "within_mins": settings.within_minutes, "expire_day": settings.expire_days}

    async def autoblock_set(call: ApiCall) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        enabled = call.bool_param("enable")
        if enabled is not None:
            changes["enabled"] = enabled
        for param, field in (("attempts", "attempts"), ("within_mins", "within_minutes"),
                             ("expire_day", "expire_days")):
            if param in call.params:
                changes[field] = call.int_param(param, high=10**6)
        security.set_autoblock(who(call), **changes)
        return await autoblock_get(call)

    async def block_list(call: ApiCall) -> dict[str, Any]:
        settings = ctx.store.get(AutoBlock)
        kind = call.params.get("type", "block")
        if kind == "allow":
            items = [{"ip": a, "expire": 0} for a in settings.allow]
        else:
            items = [{"ip": e.address, "expire": int(e.expires or 0), "added": int(e.added)}
                     for e in settings.block]
        return {"type": kind, "total": len(items), "items": items}

    async def block_set(call: ApiCall) -> dict[str, Any]:
        expire = call.int_param("expire", 0, high=2**40)
        security.add_autoblock_entry(who(call), call.params.get("type", "block"),
                                     call.param("ip"), float(expire) if expire else None)
        return await block_list(call)

    async def block_delete(call: ApiCall) -> dict[str, Any]:
        security.delete_autoblock_entry(who(call), call.params.get("type", "block"),
                                        call.param("ip"))
        return await block_list(call)

    def admin_api(name: str, methods: dict[str, Any], writes: set[str]) -> None:
        registry.add(Api(name, "entry.cgi", 1, 1, methods, changes=frozenset(writes),
                         admin=frozenset(methods)))

    admin_api("SYNO.Core.Network", {"get": network_get, "set": network_set}, {"set"})
    admin_api("SYNO.Core.Network.Ethernet", {"list": ethernet_list, "set": ethernet_set},
              {"set"})
    admin_api("SYNO.Core.Network.PPPoE", {"list": pppoe_list, "set": pppoe_set}, {"set"})
    admin_api("SYNO.Core.Web.DSM", {"get": dsm_get, "set": dsm_set}, {"set"})
    admin_api("SYNO.Core.Security.Firewall", {"get": firewall_get, "set": firewall_set},
              {"set"})
    # `get` is what synology-api's core_security asks; it answers as `list`
    admin_api("SYNO.Core.Security.Firewall.Rules",
              {"list": rules_list, "get": rules_list, "set": rules_set}, {"set"})
    admin_api("SYNO.Core.Security.AutoBlock", {"get": autoblock_get, "set": autoblock_set},
              {"set"})
    admin_api("SYNO.Core.Security.AutoBlock.Rules",
              {"list": block_list, "get": block_list, "set": block_set,
               "delete": block_delete},
              {"set", "delete"})
