"""The cluster address: an IPv4 address the active server adds to its LAN interface, with
a gratuitous ARP so that clients and switches learn where it moved."""

from __future__ import annotations

import errno
import ipaddress
import json
import socket
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from openstation.errors import ValidationError


@dataclass(frozen=True)
class Placement:
    interface: str
    prefix: int


def address_problem(address: str) -> str | None:
    """Why `address` cannot be a cluster address (None: it can, or it is empty)."""
    if not address:
        return None
    try:
        parsed = ipaddress.IPv4Address(address)
    except ValueError:
        return f"{address!r} is not an IPv4 address"
    if parsed.is_loopback or parsed.is_multicast or parsed.is_unspecified:
        return f"{address} cannot be a cluster address (loopback, multicast or 0.0.0.0)"
    return None


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)


def placement(address: str) -> Placement:
    """The LAN interface whose subnet holds `address` (loopback never counts)."""
    wanted = ipaddress.IPv4Address(address)
    try:
        shown = _ip("-j", "-4", "addr", "show")
        interfaces = json.loads(shown.stdout or "[]")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        interfaces = []
    for interface in interfaces:
        if interface.get("ifname") == "lo" or "LOOPBACK" in interface.get("flags", []):
            continue
        for info in interface.get("addr_info", []):
            network = ipaddress.IPv4Network(f"{info['local']}/{info['prefixlen']}",
                                            strict=False)
            if wanted in network and info["local"] != address:
                return Placement(interface["ifname"], int(info["prefixlen"]))
    raise ValidationError({"cluster_address": f"{address} is on none of this device's LAN "
                                              "subnets"})


def holds(address: str) -> bool:
    shown = _ip("-4", "-o", "addr", "show", "to", f"{address}/32")
    return bool(shown.stdout.strip())


def add(address: str) -> str | None:
    """Take `address` (idempotent); None, or why it could not be taken."""
    try:
        where = placement(address)
    except ValidationError as exc:
        return str(exc)
    if not holds(address):
        result = _ip("addr", "add", f"{address}/{where.prefix}", "dev", where.interface)
        if result.returncode != 0:
            return result.stderr.strip() or "ip addr add failed"
    try:
        announce(where.interface, address)
    except OSError as exc:
        return f"gratuitous ARP not sent: {exc.strerror}"
    return None


def remove(address: str) -> None:
    """Give `address` up, wherever it is held (idempotent)."""
    shown = _ip("-4", "-o", "addr", "show", "to", f"{address}/32")
    for line in shown.stdout.splitlines():
        fields = line.split()
        if len(fields) > 3:
            _ip("addr", "del", fields[3], "dev", fields[1])


def announce(interface: str, address: str) -> None:
    """A gratuitous ARP request: `address` is now at this interface's MAC."""
    mac = bytes.fromhex(Path(f"/sys/class/net/{interface}/address").read_text().strip()
                        .replace(":", ""))
    ip = socket.inet_aton(address)
    frame = (b"\xff" * 6 + mac + struct.pack("!H", 0x0806)
             + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + ip + b"\x00" * 6 + ip)
    try:
        with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as raw:
            raw.bind((interface, 0))
            raw.send(frame)
    except PermissionError as exc:
        raise OSError(errno.EPERM, "needs CAP_NET_RAW") from exc
