"""Small UDP helpers shared by the responder, the finder and SSDP: sockets, PKTINFO."""

from __future__ import annotations

import socket
import struct

from openstation.accounts.failures import FailureCounter

# Answers per source address within ANSWER_WINDOW seconds, for findhost and SSDP alike: a
# query with a spoofed source must not make the device an amplifier.
ANSWERS_PER_SOURCE = 20
ANSWER_WINDOW = 10.0
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
_PKTINFO = struct.Struct("I4s4s")  # ifindex, spec_dst, addr (struct in_pktinfo)


def answer_budget() -> FailureCounter:
    """How many answers each source may still get (bounded in sources, O(1) to update)."""
    return FailureCounter(ANSWERS_PER_SOURCE, ANSWER_WINDOW)


def udp_socket(address: str, port: int, *, broadcast: bool = False, shared: bool = False,
               pktinfo: bool = False) -> socket.socket:
    """A bound, non-blocking UDP socket."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared and hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if broadcast:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        if pktinfo:
            sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        sock.setblocking(False)
        sock.bind((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


def receive(sock: socket.socket, size: int) -> tuple[bytes, tuple[str, int], int | None]:
    """One datagram, its sender, and the index of the interface it arrived on (if known)."""
    data, ancillary, _flags, sender = sock.recvmsg(size, socket.CMSG_SPACE(_PKTINFO.size))
    ifindex = None
    for level, kind, payload in ancillary:
        if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(payload) >= _PKTINFO.size:
            ifindex = _PKTINFO.unpack(payload[:_PKTINFO.size])[0]
    return data, sender, ifindex


def interface_name(ifindex: int | None) -> str | None:
    if ifindex is None:
        return None
    try:
        return socket.if_indextoname(ifindex)
    except OSError:
        return None

