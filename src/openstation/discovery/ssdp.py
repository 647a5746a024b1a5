"""SSDP / UPnP: answers M-SEARCH for the device (its description is served over HTTP at
DESCRIPTION_PATH), on the interfaces it serves only."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import struct
import time
from collections.abc import Callable

from openstation.discovery.facts import DeviceFacts, ssdp_usn
from openstation.discovery.udp import answer_budget
from openstation.network.addresses import Served, primary, served

log = logging.getLogger(__name__)

GROUP = "239.255.255.250"
DESCRIPTION_PATH = "/ssdp/desc-DSM-eth0.xml"
DEVICE_TYPE = "urn:schemas-upnp-org:device:Basic:1"
MAX_DATAGRAM = 2048


def parse_msearch(data: bytes) -> str | None:
    """The ST of a well-formed M-SEARCH request, else None."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return None
    lines = text.split("\r\n")
    if not lines or lines[0].strip().upper() != "M-SEARCH * HTTP/1.1":
        return None
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().upper()] = value.strip()
    if headers.get("MAN", "").strip('"') != "ssdp:discover":
        return None
    return headers.get("ST")


def answers_to(search_target: str, usn: str) -> list[str]:
    """The STs this device answers for a search target."""
    mine = ["upnp:rootdevice", DEVICE_TYPE, usn]
    if search_target == "ssdp:all":
        return mine
    return [search_target] if search_target in mine else []


def response(search_target: str, usn: str, location: str) -> bytes:
    full_usn = usn if search_target == usn else f"{usn}::{search_target}"
    return ("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
            f"LOCATION: {location}\r\nSERVER: Synology/DSM/{location.split('/')[2]}\r\n"
            f"ST: {search_target}\r\nUSN: {full_usn}\r\n\r\n").encode()


class SsdpResponder:
    """Listens on the SSDP port (multicast group joined on each served interface)."""

    def __init__(self, hosts: list[str], port: int, facts: Callable[[], DeviceFacts],
                 allowed: Callable[[str], bool] = lambda _ip: True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.hosts = hosts
        self.port = port
        self.facts = facts
        self.allowed = allowed
        self.clock = clock
        self.limit = answer_budget()
        self._sock: socket.socket | None = None

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setblocking(False)
        addresses = served(self.hosts)
        loopback_only = all(ipaddress.ip_address(e.address).is_loopback for e in addresses)
        try:
            sock.bind(("127.0.0.1" if loopback_only else "0.0.0.0", self.port))
        except OSError as exc:
            sock.close()
            from openstation.errors import PortInUseError

            raise PortInUseError(f"SSDP UDP port {self.port}: {exc.strerror}") from None
        self.port = sock.getsockname()[1]
        for entry in addresses:
            if ipaddress.ip_address(entry.address).is_loopback:
                continue
            membership = struct.pack("4s4s", socket.inet_aton(GROUP),
                                     socket.inet_aton(entry.address))
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        self._sock = sock
        self._served = addresses
        asyncio.get_running_loop().add_reader(sock.fileno(), self._readable)

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None

    def _local_for(self, ip: str) -> Served | None:
        """The served address on the requester's subnet (None: not one of ours)."""
        for entry in self._served:
            if ipaddress.ip_address(ip) in ipaddress.ip_network(entry.network):
                return entry
        if all(ipaddress.ip_address(e.address).is_loopback for e in self._served) and \
                ipaddress.ip_address(ip).is_loopback:
            return primary(self.hosts)
        return None

    def _readable(self) -> None:
        assert self._sock is not None
        try:
            data, (ip, port) = self._sock.recvfrom(MAX_DATAGRAM)
        except OSError:
            return
        target = parse_msearch(data)
        entry = self._local_for(ip)
        if target is None or entry is None or not self.allowed(ip):
            return
        if not self.limit.take(ip, self.clock()):
            return  # a spoofed source must not turn the device into an amplifier
        facts = self.facts()
        usn = ssdp_usn(facts)
        location = f"http://{entry.address}:{facts.http_port}{DESCRIPTION_PATH}"
        for st in answers_to(target, usn):
            with contextlib.suppress(OSError):
                self._sock.sendto(response(st, usn, location), (ip, port))
