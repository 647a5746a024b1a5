"""Control Panel > Network's other tabs over the Web API, read from the network settings and
the addresses the device serves on: SYNO.Core.Network.Interface (list), .Router.Gateway.List
(get), .Proxy (get), .WOL (get) and .IPv6 (get). The kinds of interface and routing the
virtual network backend has none of (bonds, bridges, VPN, Wi-Fi, static routes …) are
answered by absent.py.

The virtual backend serves on the addresses `openstation run --host` gave; a stored static
address is what Control Panel shows for that port (issue 18's Linux backend makes it real)."""

from __future__ import annotations

from typing import Any

from openstation.config.sections import Network, PPPoE
from openstation.network.addresses import primary
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry


def register(registry: Registry, ctx: WebContext, hosts: list[str]) -> None:
    def interfaces() -> list[dict[str, Any]]:
        config = ctx.store.get(Network)
        serving = primary(hosts)
        found = []
        for index, iface in enumerate(config.interfaces):
            mac = ctx.hardware.macs[index] if index < len(ctx.hardware.macs) else ""
            if not iface.dhcp:
                address, mask, gateway = iface.address, iface.netmask, iface.gateway
            elif index == 0:
                address, mask, gateway = serving.address, serving.netmask, ""
            else:
                address = mask = gateway = ""
            found.append({"ifname": iface.id, "type": "lan", "use_dhcp": iface.dhcp,
                          "ip": address, "mask": mask, "gateway": gateway, "mac": mac,
                          "mtu": iface.mtu, "status": "connected" if address else
                          "disconnected", "ipv6": []})
        pppoe = ctx.store.get(PPPoE)
        if pppoe.enabled:
            found.append({"ifname": "pppoe", "type": "pppoe", "use_dhcp": False, "ip": "",
                          "mask": "", "gateway": "", "mac": "", "mtu": pppoe.mtu,
                          "status": "disconnected", "ipv6": []})
        return found

    async def interface_list(call: ApiCall) -> dict[str, Any]:
        return {"interfaces": interfaces()}

    async def gateway_list(call: ApiCall) -> dict[str, Any]:
        config = ctx.store.get(Network)
        gateways = [{"ifname": i["ifname"], "gateway": i["gateway"] or config.default_gateway,
                     "default": index == 0, "status": i["status"]}
                    for index, i in enumerate(interfaces())
                    if i["gateway"] or config.default_gateway]
        return {"configs": gateways}

    async def proxy_get(call: ApiCall) -> dict[str, Any]:
        return {"enable": False, "enable_auth": False, "enable_different_host": False,
                "http_host": "", "http_port": "80", "https_host": "", "https_port": "80",
                "bypass": True}

    async def wol_get(call: ApiCall) -> dict[str, Any]:
        return {"wol": [{"ifname": i["ifname"], "enable": False} for i in interfaces()
                        if i["type"] == "lan"]}

    async def ipv6_get(call: ApiCall) -> dict[str, Any]:
        return {"ipv6": [{"ifname": i["ifname"], "type": "off"} for i in interfaces()
                         if i["type"] == "lan"]}

    apis: dict[str, dict[str, Handler]] = {
        "SYNO.Core.Network.Interface": {"list": interface_list},
        "SYNO.Core.Network.Router.Gateway.List": {"get": gateway_list},
        "SYNO.Core.Network.Proxy": {"get": proxy_get},
        "SYNO.Core.Network.WOL": {"get": wol_get},
        "SYNO.Core.Network.IPv6": {"get": ipv6_get},
    }
    for name, methods in apis.items():
        registry.add(Api(name, "entry.cgi", 1, 1, methods, admin=frozenset(methods)))
