"""The IPv4 addresses (with netmasks) a device serves, read from this host's interfaces."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class Served:
    """One address the device answers on, and the interface it belongs to."""

    address: str
    netmask: str
    interface: str
    broadcast: str | None

    @property
    def network(self) -> str:
        return str(ipaddress.ip_network(f"{self.address}/{self.netmask}", strict=False))


def host_ipv4() -> list[Served]:
    """Every IPv4 address of this host."""
    found: list[Served] = []
    for name, addresses in psutil.net_if_addrs().items():
        for entry in addresses:
            if entry.family.name == "AF_INET" and entry.address:
                found.append(Served(entry.address, entry.netmask or "255.255.255.255", name,
                                    entry.broadcast))
    return found


def served(hosts: list[str]) -> list[Served]:
    """The addresses behind `--host` values ("0.0.0.0": every IPv4 address)."""
    everything = host_ipv4()
    if "0.0.0.0" in hosts:
        return everything
    chosen = [s for s in everything if s.address in hosts]
    known = {s.address for s in chosen}
    for host in hosts:
        if host not in known:  # not an interface address (e.g. 127.0.0.2): assume a /32
            chosen.append(Served(host, "255.255.255.255", "lo", None))
    return chosen


def primary(hosts: list[str]) -> Served:
    """The address shown as eth0's: the first served non-loopback one, else the first."""
    addresses = served(hosts) or [Served("127.0.0.1", "255.0.0.0", "lo", None)]
    for entry in addresses:
        if not ipaddress.ip_address(entry.address).is_loopback:
            return entry
    return addresses[0]
