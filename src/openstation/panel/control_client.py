"""The control channel's client: one HTTP request over the Unix socket, standard library only.

The CLI calls this on every command that reaches a running device, so it imports nothing
heavy (no aiohttp, not even http.client, which brings ssl and email): `openstation status`
stays fast. The device's end is aiohttp; this end speaks just enough HTTP/1.1 to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openstation.errors import DeviceNotRunningError, PeerError

# sun_path holds 108 bytes on Linux (104 on macOS); deeper data directories go through
# /proc/self/fd/N, which names the directory in a few bytes.
_MAX_SOCKET_PATH = 100


@contextlib.contextmanager
def reachable(path: Path) -> Iterator[str]:
    """A path for bind()/connect() that fits in sun_path."""
    if len(os.fsencode(path)) <= _MAX_SOCKET_PATH or not sys.platform.startswith("linux"):
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def _exchange(path: str, request: bytes, timeout: float) -> bytes:
    """Send one HTTP/1.1 request (Connection: close) and read the whole answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _body(answer: bytes) -> bytes:
    """The body of an HTTP/1.1 answer (aiohttp sends Content-Length, or chunks)."""
    head, sep, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not sep or not lines[0].startswith(b"HTTP/1."):
        raise ValueError("not an HTTP answer")
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.partition(b":") for line in lines[1:])}
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        out: list[bytes] = []
        rest = body
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                return b"".join(out)
            out.append(rest[:size])
            rest = rest[size + 2:]
    length = headers.get(b"content-length")
    return body if length is None else body[:int(length)]


def call(socket_path: Path, method: str, path: str, payload: dict[str, Any] | None = None,
         timeout: float = 120) -> dict[str, Any]:
    """Send one request over the control socket; no device there → DeviceNotRunningError."""
    where = socket_path.parent.parent
    if not socket_path.exists():
        raise DeviceNotRunningError(f"no device is running on {where} (no control socket)")
    body = json.dumps(payload).encode() if payload is not None else b""
    request = (f"{method} {path} HTTP/1.1\r\nHost: panel\r\nConnection: close\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
               ).encode() + body
    with reachable(socket_path) as connect_path:
        try:
            raw = _exchange(connect_path, request, timeout)
        except (FileNotFoundError, ConnectionRefusedError):
            raise DeviceNotRunningError(
                f"no device is running on {where} (control socket does not answer)") from None
        except OSError as exc:
            raise PeerError(f"the device's control socket answered badly: {exc}") from None
    try:
        answer = json.loads(_body(raw))
    except ValueError:
        raise PeerError("the device's control socket answered badly") from None
    if not isinstance(answer, dict):
        raise PeerError("the device's control socket answered badly")
    return answer
