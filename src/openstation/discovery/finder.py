"""The finder: `openstation find` — findhost queries (broadcast, or unicast with --target)
and an mDNS browse at the same time, answers merged per device."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import asdict, dataclass, field
from typing import Any

from openstation.discovery import findhost
from openstation.discovery.responder import ASSISTANT_PORT
from openstation.discovery.udp import udp_socket
from openstation.errors import UserInputError
from openstation.network.addresses import host_ipv4

STATUS_LABELS = {0: "Configuration lost", 1: "Ready", 2: "Not installed", 3: "Updating",
                 5: "Booting", 7: "Starting services", 11: "Recoverable", 13: "Installing",
                 14: "Migratable"}
HTTP_SERVICE = "_http._tcp.local."


@dataclass
class Found:
    """One device, as the answers about it describe it."""

    name: str
    ip: str
    mac: str
    model: str
    version: str
    status: str
    status_code: int | None
    serial: str
    http_port: int | None
    https_port: int | None
    sources: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def from_findhost(packet: findhost.Packet, sender: str) -> Found:
    code = packet.get("status_code")
    build = packet.get("build")
    version = packet.get("version") or ""
    return Found(
        name=packet.get("server_name") or "", ip=packet.get("ip") or sender,
        mac=(packet.get("mac") or "").lower(), model=packet.get("model") or "",
        version=f"DSM {version}-{build}" if version and build else version,
        status=STATUS_LABELS.get(code, f"status {code}") if code is not None else "",
        status_code=code, serial=packet.get("serial") or "",
        http_port=packet.get("http_port"), https_port=packet.get("https_port"),
        sources=["findhost"])


def parse_target(target: str) -> tuple[str, int]:
    """HOST[:PORT] -> (address, port)."""
    host, _, port_text = target.rpartition(":") if ":" in target else (target, "", "")
    try:
        port = int(port_text) if port_text else ASSISTANT_PORT
        address = socket.gethostbyname(host)
    except (ValueError, OSError):
        raise UserInputError(f"not a usable --target: {target!r} (HOST or HOST:PORT)") from None
    if not 0 < port < 65536:
        raise UserInputError(f"--target port {port} is out of range")
    return address, port


def merge(found: list[Found]) -> list[Found]:
    """One entry per device (by serial, else MAC, else address), findhost facts first."""
    merged: dict[str, Found] = {}
    for item in found:
        key = item.serial or item.mac or item.ip
        if key not in merged:
            merged[key] = item
            continue
        current = merged[key]
        for name, value in asdict(item).items():
            if name == "sources":
                current.sources = sorted(set(current.sources) | set(value))
            elif not getattr(current, name) and value:
                setattr(current, name, value)
    return sorted(merged.values(), key=lambda f: (f.name.lower(), f.ip))


async def find(timeout: float = 3.0, interface: str | None = None, target: str | None = None,
               mdns: bool = True) -> list[Found]:
    """Search the LAN (or one `target`) for Synology and openstation devices."""
    found: list[Found] = []
    query = findhost.query()
    if target is not None:
        address, port = parse_target(target)
        sock = udp_socket("0.0.0.0", 0)
        destinations = [(address, port)]
    else:
        broadcasts = [entry for entry in host_ipv4() if entry.broadcast
                      and (interface is None or entry.interface == interface)]
        if not broadcasts:
            where = f"interface {interface!r}" if interface else "any interface"
            raise UserInputError(f"no IPv4 interface with a broadcast address on {where}")
        try:
            # Port 9999 too, so real devices' answers (sent to 9999) reach us.
            sock = udp_socket("0.0.0.0", ASSISTANT_PORT, broadcast=True, shared=True)
        except OSError as exc:
            raise UserInputError(f"UDP port {ASSISTANT_PORT} is not usable: {exc.strerror}"
                                 ) from None
        destinations = [(entry.broadcast or "", ASSISTANT_PORT) for entry in broadcasts]
    loop = asyncio.get_running_loop()

    def readable() -> None:
        with contextlib.suppress(BlockingIOError, InterruptedError, OSError):
            while True:
                data, (sender, _port) = sock.recvfrom(findhost.MAX_PACKET + 1)
                packet = findhost.try_decode(data)
                if packet is not None and packet.get("packet_type") in (
                        findhost.RESPONSE, findhost.JUNIOR_RESPONSE):
                    found.append(from_findhost(packet, sender))

    loop.add_reader(sock.fileno(), readable)
    browse = None
    try:
        for attempt in range(3):  # as the Assistant does: a few queries, answers merged
            for destination in destinations:
                with contextlib.suppress(OSError):
                    sock.sendto(query, destination)
            if attempt == 0 and mdns and target is None:
                browse = asyncio.ensure_future(browse_mdns(timeout, interface, found))
            await asyncio.sleep(min(0.2, timeout / 3))
        await asyncio.sleep(max(0.0, timeout - 3 * min(0.2, timeout / 3)))
        if browse is not None:
            await browse
    finally:
        loop.remove_reader(sock.fileno())
        sock.close()
        if browse is not None and not browse.done():
            browse.cancel()
    return merge(found)


async def browse_mdns(timeout: float, interface: str | None, found: list[Found]) -> None:
    """Collect Synology-looking `_http._tcp` services (vendor=synology*)."""
    from zeroconf import IPVersion, ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    interfaces: Any = [e.address for e in host_ipv4()
                       if interface is None or e.interface == interface]
    zc = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
    names: set[str] = set()

    def changed(zeroconf: Any, service_type: str, name: str,
                state_change: ServiceStateChange) -> None:
        if state_change is not ServiceStateChange.Removed:
            names.add(name)

    browser = AsyncServiceBrowser(zc.zeroconf, [HTTP_SERVICE], handlers=[changed])
    try:
        await asyncio.sleep(max(0.5, timeout - 1.0))
        for name in sorted(names):
            info = AsyncServiceInfo(HTTP_SERVICE, name)
            if not await info.async_request(zc.zeroconf, 1000):
                continue
            txt = {k.decode(): (v or b"").decode() for k, v in info.properties.items()}
            if not txt.get("vendor", "").lower().startswith("synology"):
                continue
            addresses = info.parsed_addresses()
            found.append(Found(
                name=name.removesuffix("." + HTTP_SERVICE), ip=addresses[0] if addresses else "",
                mac=txt.get("mac_address", "").split("|")[0].lower(), model=txt.get("model", ""),
                version=(f"DSM {txt.get('version_major')}.{txt.get('version_minor')}-"
                         f"{txt.get('version_build')}"),
                status=txt.get("status", ""), status_code=None, serial=txt.get("serial", ""),
                http_port=info.port, https_port=int(txt.get("secure_admin_port") or 0) or None,
                sources=["mdns"]))
    finally:
        await browser.async_cancel()
        await zc.async_close()
