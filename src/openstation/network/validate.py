"""Checks for network settings and UI ports; every problem is reported, under its field
(pure)."""

from __future__ import annotations

import ipaddress

from openstation.config.sections import Network, PPPoE

MTU_RANGE = (576, 9000)


def ipv4_problem(text: str) -> str | None:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return f"{text!r} is not an IPv4 address"
    return None


def netmask_problem(text: str) -> str | None:
    """Why `text` is not a netmask (contiguous ones, then zeros), or None."""
    if (why := ipv4_problem(text)) is not None:
        return why
    value = int(ipaddress.IPv4Address(text))
    inverted = (~value) & 0xFFFFFFFF
    if inverted & (inverted + 1) or value == 0:
        return f"{text!r} is not a netmask"
    return None


def network_problems(network: Network, interface_ids: list[str]) -> dict[str, str]:
    """Every invalid field of a Network section, by dotted path."""
    problems: dict[str, str] = {}
    if network.default_gateway and (why := ipv4_problem(network.default_gateway)):
        problems["default_gateway"] = why
    if len(network.dns) > 3:
        problems["dns"] = "at most 3 DNS servers"
    for n, server in enumerate(network.dns):
        if (why := ipv4_problem(server)) is not None:
            problems[f"dns.{n}"] = why
    seen: set[str] = set()
    subnets = []
    for iface in network.interfaces:
        where = f"interfaces.{iface.id}"
        if iface.id not in interface_ids:
            problems[where] = f"no interface {iface.id!r} on this model"
            continue
        if iface.id in seen:
            problems[where] = "listed twice"
        seen.add(iface.id)
        if not MTU_RANGE[0] <= iface.mtu <= MTU_RANGE[1]:
            problems[f"{where}.mtu"] = f"must be {MTU_RANGE[0]}-{MTU_RANGE[1]}"
        if iface.dhcp:
            continue
        if not iface.address:
            problems[f"{where}.address"] = "a static interface needs an address"
        elif (why := ipv4_problem(iface.address)) is not None:
            problems[f"{where}.address"] = why
        if not iface.netmask:
            problems[f"{where}.netmask"] = "a static address needs a netmask"
        elif (why := netmask_problem(iface.netmask)) is not None:
            problems[f"{where}.netmask"] = why
        if any(key.startswith(where + ".") for key in problems):
            continue
        subnet = ipaddress.IPv4Network(f"{iface.address}/{iface.netmask}", strict=False)
        address = ipaddress.IPv4Address(iface.address)
        if subnet.prefixlen < 31 and address in (subnet.network_address,
                                                 subnet.broadcast_address):
            problems[f"{where}.address"] = f"{iface.address} is the subnet's own address"
        subnets.append(subnet)
        if iface.gateway:
            if (why := ipv4_problem(iface.gateway)) is not None:
                problems[f"{where}.gateway"] = why
            elif ipaddress.IPv4Address(iface.gateway) not in subnet:
                problems[f"{where}.gateway"] = (
                    f"gateway {iface.gateway} is outside the subnet {subnet}")
    all_static = network.interfaces and not any(i.dhcp for i in network.interfaces)
    if (network.default_gateway and all_static and "default_gateway" not in problems
            and subnets and not any(ipaddress.IPv4Address(network.default_gateway) in s
                                    for s in subnets)):
        problems["default_gateway"] = "outside every interface's subnet"
    return problems


def pppoe_problems(pppoe: PPPoE, interface_ids: list[str]) -> dict[str, str]:
    problems: dict[str, str] = {}
    if pppoe.interface not in interface_ids:
        problems["interface"] = f"no interface {pppoe.interface!r} on this model"
    if pppoe.enabled and not pppoe.username:
        problems["username"] = "PPPoE needs a user name"
    if not 576 <= pppoe.mtu <= 1492:
        problems["mtu"] = "must be 576-1492"
    return problems


def ports_problems(http: int, https: int) -> dict[str, str]:
    problems: dict[str, str] = {}
    for name, port in (("http", http), ("https", https)):
        if not 1 <= port <= 65535:
            problems[name] = f"{port} is not a port (1-65535)"
    if http == https:
        problems["https"] = "must differ from the HTTP port"
    return problems
