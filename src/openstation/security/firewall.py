"""Firewall rules: validation and a compiled policy (pure).

Rules apply in order; the first that matches decides, else the default action. A rule names
ports (all, a built-in service — dsm, findhost, ssdp — or a list of ports and ranges), a
protocol (all, tcp, udp) and a source (all, an address, a subnet, or a range a-b). The
compiled policy turns each rule into integer ranges and memoises decisions per (source,
port, protocol), so checking a connection from a known source costs a dictionary lookup,
not a scan of 1,000 rules.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from openstation.config.sections import Action, Firewall, FirewallRule, Protocol

Services = dict[str, tuple[str, tuple[tuple[int, int], ...]]]  # name -> (protocol, ports)


def services(http: int = 5000, https: int = 5001, findhost: int = 9999, ssdp: int = 1900
             ) -> Services:
    """The built-in services a rule may name, at the ports the device really uses."""
    return {"dsm": ("tcp", ((http, http), (https, https))),
            "findhost": ("udp", ((findhost, findhost),)),
            "ssdp": ("udp", ((ssdp, ssdp),))}


def services_at(ports: Mapping[str, int]) -> Services:
    """The built-in services at the ports a device reports (`Device.ports`)."""
    return services(ports.get("http", 5000), ports.get("https", 5001),
                    ports.get("findhost", 9999), ports.get("ssdp", 1900))


ACTIONS = tuple(action.value for action in Action)
PROTOCOLS = tuple(protocol.value for protocol in Protocol)
CACHE_SIZE = 65536


@dataclass(frozen=True)
class CompiledRule:
    low: int  # source range, as integers
    high: int
    ports: tuple[tuple[int, int], ...] | None  # None: all ports
    protocol: str
    allow: bool


def parse_source(text: str) -> tuple[int, int]:
    """(first, last) address of "all", "1.2.3.4", "10.0.0.0/8" or "1.2.3.4-1.2.3.9"."""
    if text == "all":
        return 0, 2**32 - 1
    if "-" in text:
        first, _, last = text.partition("-")
        low, high = int(ipaddress.IPv4Address(first.strip())), \
            int(ipaddress.IPv4Address(last.strip()))
        if low > high:
            raise ValueError("the range's first address is after its last")
        return low, high
    network = ipaddress.IPv4Network(text, strict=False)
    return int(network.network_address), int(network.broadcast_address)


def parse_ports(text: str, known: Services
                ) -> tuple[str | None, tuple[tuple[int, int], ...] | None]:
    """(protocol forced by a service or None, port ranges or None for all)."""
    if text == "all":
        return None, None
    if text in known:
        return known[text]
    ranges = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        low, high = int(first), int(last or first)
        if not (1 <= low <= high <= 65535):
            raise ValueError(f"{part.strip()!r} is not a port or port range")
        ranges.append((low, high))
    if not ranges:
        raise ValueError("no ports")
    return None, tuple(ranges)


def rule_problems(rule: FirewallRule) -> dict[str, str]:
    """Every invalid field of one rule."""
    problems: dict[str, str] = {}
    try:
        parse_source(rule.source)
    except ValueError as exc:
        problems["source"] = f"{rule.source!r}: {exc}"
    try:
        parse_ports(rule.ports, services())
    except ValueError as exc:
        problems["ports"] = f"{rule.ports!r}: {exc}"
    if rule.protocol not in PROTOCOLS:
        problems["protocol"] = f"one of {', '.join(PROTOCOLS)}"
    if rule.action not in ACTIONS:
        problems["action"] = "allow or deny"
    return problems


def rule_from_text(rule_id: str, order: int, *, source: str = "all", ports: str = "all",
                   protocol: str = "all", action: str = "allow", interface: str = "all",
                   enabled: bool = True) -> FirewallRule:
    """A rule as typed by a person; a protocol or action out of the list is kept as text
    so that `rule_problems` reports it with every other problem."""
    return FirewallRule(
        rule_id=rule_id, order=order, interface=interface, ports=ports, source=source,
        protocol=Protocol(protocol) if protocol in PROTOCOLS else protocol,  # type: ignore[arg-type]
        action=Action(action) if action in ACTIONS else action,  # type: ignore[arg-type]
        enabled=enabled)


class FirewallPolicy:
    """Decides whether a source may reach a port."""

    def __init__(self, settings: Firewall, rules: list[FirewallRule],
                 known: Services | None = None) -> None:
        known = known or services()
        self.enabled = settings.enabled
        self.default_allow = settings.default_action == "allow"
        self.rules: list[CompiledRule] = []
        for rule in sorted(rules, key=lambda r: (r.order, r.rule_id)):
            if not rule.enabled:
                continue
            low, high = parse_source(rule.source)
            forced, ports = parse_ports(rule.ports, known)
            protocol = forced or rule.protocol
            self.rules.append(CompiledRule(low, high, ports, protocol, rule.action == "allow"))
        self._cache: OrderedDict[tuple[str, int, str], bool] = OrderedDict()

    def allowed(self, source: str, port: int, protocol: str) -> bool:
        """Whether a packet from `source` to `port`/`protocol` is let in."""
        if not self.enabled:
            return True
        key = (source, port, protocol)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        decision = self._decide(source, port, protocol)
        self._cache[key] = decision
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return decision

    def _decide(self, source: str, port: int, protocol: str) -> bool:
        try:
            address = int(ipaddress.IPv4Address(source))
        except ValueError:
            return self.default_allow  # IPv6 and the like: the default applies
        for rule in self.rules:
            if not rule.low <= address <= rule.high:
                continue
            if rule.protocol != "all" and rule.protocol != protocol:
                continue
            if rule.ports is not None and not any(lo <= port <= hi for lo, hi in rule.ports):
                continue
            return rule.allow
        return self.default_allow
