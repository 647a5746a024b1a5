"""The control channel's client: one HTTP request over the Unix socket, standard library only.

The CLI calls this on every command that reaches a running device, so it imports nothing
heavy (no aiohttp): `openstation status` stays fast.
"""

from __future__ import annotations

import contextlib
import http.client
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


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("panel", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.unix_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def call(socket_path: Path, method: str, path: str, payload: dict[str, Any] | None = None,
         timeout: float = 120) -> dict[str, Any]:
    """Send one request over the control socket; no device there → DeviceNotRunningError."""
    not_running = DeviceNotRunningError(
        f"no device is running on {socket_path.parent.parent} (no control socket)")
    if not socket_path.exists():
        raise not_running
    body = json.dumps(payload).encode() if payload is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    with reachable(socket_path) as connect_path:
        connection = _UnixConnection(connect_path, timeout)
        try:
            try:
                connection.request(method, path, body=body, headers=headers)
                raw = connection.getresponse().read()
            except (FileNotFoundError, ConnectionRefusedError):
                raise DeviceNotRunningError(
                    f"no device is running on {socket_path.parent.parent} (control socket "
                    "does not answer)") from None
            except (OSError, http.client.HTTPException) as exc:
                raise PeerError(f"the device's control socket answered badly: {exc}") from None
        finally:
            connection.close()
    try:
        answer = json.loads(raw)
    except ValueError:
        raise PeerError("the device's control socket answered badly") from None
    if not isinstance(answer, dict):
        raise PeerError("the device's control socket answered badly")
    return answer
