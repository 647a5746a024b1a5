"""Can this node reach the quorum reference (e.g. the gateway)?

A TCP connection that is accepted or refused both prove the host is up; failing that, an
ICMP echo (a datagram ICMP socket, or a raw one as root) is tried."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import time


def split(reference: str, default_port: int = 80) -> tuple[str, int]:
    host, sep, port = reference.rpartition(":")
    if sep and port.isdigit() and host:
        return host, int(port)
    return reference, default_port


def reachable(reference: str, timeout: float = 1.0) -> bool:
    host, port = split(reference)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except ConnectionRefusedError:
        return True
    except OSError:
        pass
    return _echo(host, timeout)


def _echo(host: str, timeout: float) -> bool:
    ident = os.getpid() & 0xFFFF
    header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    payload = b"openstation-quorum"
    packet = header[:2] + struct.pack("!H", _checksum(header + payload)) + header[4:] + payload
    for kind in (socket.SOCK_DGRAM, socket.SOCK_RAW):
        try:
            sock = socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP)
        except OSError:
            continue
        with contextlib.closing(sock):
            sock.settimeout(timeout)
            try:
                sock.sendto(packet, (host, 0))
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    data, (source, _) = sock.recvfrom(1024)
                    reply = data[20:] if kind == socket.SOCK_RAW else data
                    if source == host and reply[:1] == b"\x00":
                        return True
            except OSError:
                continue
    return False


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF
