"""Control Panel > Network's other tabs over the Web API, read from the network settings and
the addresses the device serves on: SYNO.Core.Network.Interface (list), .Router.Gateway.List
(get), .Proxy (get), .WOL (get), .IPv6 (get) and the kinds of interface and routing the
virtual network backend has none of, so their lists are empty and their switches off:
.Bond, .Bridge, .LocalBridge, .USBModem, .Wifi.Client, .VPN.PPTP/.OpenVPN/.L2TP (list),
.Router.Static.Route, .TrafficControl.Rules, .TrafficControl.RouterRules (list, get),
.Ethernet.External, .IPv6.Router, .IPv6.Router.Prefix, .IPv6Tunnel, .MACClone, .OVS,
.PPPoE.Relay, .UPnPServer, .Router.Topology and .Authentication (802.1X) (get).

The virtual backend serves on the addresses `openstation run --host` gave; a stored static
address is what Control Panel shows for that port (issue 18's Linux backend makes it real)."""

from __future__ import annotations

from typing import Any

from openstation.config.sections import Network, PPPoE
from openstation.network.addresses import primary
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry

NONE_LISTED = {  # API → the list key DSM answers with
    "SYNO.Core.Network.Bond": "bonds",
    "SYNO.Core.Network.Bridge": "bridges",
    "SYNO.Core.Network.LocalBridge": "bridges",
    "SYNO.Core.Network.USBModem": "modems",
    "SYNO.Core.Network.Wifi.Client": "clients",
    "SYNO.Core.Network.VPN.PPTP": "profiles",
    "SYNO.Core.Network.VPN.OpenVPN": "profiles",
    "SYNO.Core.Network.VPN.L2TP": "profiles",
    "SYNO.Core.Network.Router.Static.Route": "routes",
    "SYNO.Core.Network.TrafficControl.Rules": "rules",
    "SYNO.Core.Network.TrafficControl.RouterRules": "rules",
}
SWITCHED_OFF = (  # features the device does not have: their settings read "off"
    "SYNO.Core.Network.Ethernet.External", "SYNO.Core.Network.IPv6.Router",
    "SYNO.Core.Network.IPv6.Router.Prefix", "SYNO.Core.Network.IPv6Tunnel",
    "SYNO.Core.Network.MACClone", "SYNO.Core.Network.OVS", "SYNO.Core.Network.PPPoE.Relay",
    "SYNO.Core.Network.UPnPServer", "SYNO.Core.Network.Router.Topology",
    "SYNO.Core.Network.Authentication",
)


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

    def empty_list(key: str) -> Handler:
        async def answer(call: ApiCall) -> dict[str, Any]:
            return {key: [], "total": 0}
        return answer

    async def off(call: ApiCall) -> dict[str, Any]:
        return {"enable": False, "supported": False}

    apis: dict[str, dict[str, Handler]] = {
        "SYNO.Core.Network.Interface": {"list": interface_list},
        "SYNO.Core.Network.Router.Gateway.List": {"get": gateway_list},
        "SYNO.Core.Network.Proxy": {"get": proxy_get},
        "SYNO.Core.Network.WOL": {"get": wol_get},
        "SYNO.Core.Network.IPv6": {"get": ipv6_get},
    }
    for name, key in NONE_LISTED.items():
        apis[name] = {"list": empty_list(key), "get": empty_list(key)}
    for name in SWITCHED_OFF:
        apis[name] = {"get": off}
    for name, methods in apis.items():
        registry.add(Api(name, "entry.cgi", 1, 1, methods, admin=frozenset(methods)))
