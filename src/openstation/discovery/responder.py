"""The findhost responder: answers Synology Assistant queries for one device (DESIGN.md §5).

It listens on the addresses the device serves. A valid query is answered by unicast to the
querier at port 9999, to the query's source port when that differs, and by a broadcast to
port 9999 on the interface the query arrived on, if that interface has a broadcast address
(loopback has none). Malformed packets get no answer; answers are rate-limited per source,
so the device cannot be used to amplify traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable

from openstation.discovery import findhost
from openstation.discovery.facts import DeviceFacts, findhost_values
from openstation.discovery.udp import answer_budget, interface_name, receive, udp_socket
from openstation.network.addresses import Served, served

log = logging.getLogger(__name__)

ASSISTANT_PORT = 9999


class FindhostResponder:
    """Answers findhost queries on the served addresses."""

    def __init__(self, hosts: list[str], port: int, facts: Callable[[], DeviceFacts],
                 allowed: Callable[[str], bool] = lambda _ip: True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.hosts = hosts
        self.port = port
        self.facts = facts
        self.allowed = allowed  # the firewall's say on a source address
        self.clock = clock
        self.limit = answer_budget()
        self.answered = 0
        self._sockets: list[tuple[socket.socket, Served | None]] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        addresses = served(self.hosts)
        everywhere = "0.0.0.0" in self.hosts
        try:
            if everywhere:
                self._sockets.append((udp_socket("0.0.0.0", self.port, broadcast=True,
                                                 shared=True, pktinfo=True), None))
            else:
                for entry in addresses:
                    sock = udp_socket(entry.address, self.port, broadcast=True)
                    self.port = self.port or sock.getsockname()[1]
                    self._sockets.append((sock, entry))
                if any(entry.broadcast for entry in addresses):
                    # Broadcast queries reach only a wildcard socket; PKTINFO tells which
                    # interface they came in on, and only served interfaces are answered.
                    self._sockets.append((udp_socket("0.0.0.0", self.port, broadcast=True,
                                                     shared=True, pktinfo=True), None))
        except OSError as exc:
            self.close()
            from openstation.errors import PortInUseError

            raise PortInUseError(f"findhost UDP port {self.port}: {exc.strerror}") from None
        self._served = addresses
        for sock, bound in self._sockets:
            loop.add_reader(sock.fileno(), self._readable, sock, bound)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
            for sock, _ in self._sockets:
                loop.remove_reader(sock.fileno())
        for sock, _ in self._sockets:
            sock.close()
        self._sockets.clear()

    def _readable(self, sock: socket.socket, bound: Served | None) -> None:
        try:
            data, (ip, port), ifindex = receive(sock, findhost.MAX_PACKET + 1)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.debug("findhost receive failed: %s", exc)
            return
        entry = bound or self._arrival(ifindex)
        if entry is None:
            return  # arrived on an interface this device does not serve
        packet = findhost.try_decode(data)
        if packet is None or not packet.is_query or not self.allowed(ip):
            return
        if self.limit.take(ip, self.clock()):
            self._answer(sock, entry, packet, ip, port)

    def _arrival(self, ifindex: int | None) -> Served | None:
        name = interface_name(ifindex)
        # With 0.0.0.0 the interfaces may change while running: look them up afresh.
        candidates = served(["0.0.0.0"]) if "0.0.0.0" in self.hosts else self._served
        for entry in candidates:
            if entry.interface == name:
                return entry
        return None

    def _answer(self, sock: socket.socket, entry: Served, packet: findhost.Packet, ip: str,
                port: int) -> None:
        facts = self.facts()
        querier_mac = packet.get("querier_mac")
        body = findhost.response(findhost_values(facts, entry.address, entry.netmask, ip,
                                                 querier_mac))
        targets = [(ip, ASSISTANT_PORT)]
        if port != ASSISTANT_PORT:
            targets.append((ip, port))
        if entry.broadcast:
            targets.append((entry.broadcast, ASSISTANT_PORT))
        for target in targets:
            try:
                sock.sendto(body, target)
            except OSError as exc:
                log.debug("findhost answer to %s failed: %s", target, exc)
        self.answered += 1
