"""The local control channel: HTTP over a Unix socket in system/ (mode 0600).

The virtual panel is driven only through this socket, never a network port: whoever can
press RESET can take over the admin account, so pressing it needs local file access to
the data directory, as pressing a real one needs hands on the box.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from openstation.errors import DeviceNotRunningError, PeerError

# sun_path holds 108 bytes on Linux (104 on macOS); deeper data directories go through
# /proc/self/fd/N, which names the directory in a few bytes.
_MAX_SOCKET_PATH = 100

Route = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]


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


class ControlServer:
    """Serves the control routes on the socket until `stop`."""

    def __init__(self, socket_path: Path, routes: list[Route]) -> None:
        self.socket_path = socket_path
        self.app = web.Application()
        for method, path, handler in routes:
            self.app.router.add_route(method, path, handler)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()  # a stale socket of a device that died
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        with reachable(self.socket_path) as bind_path:
            site = web.UnixSite(self._runner, bind_path)
            await site.start()
        os.chmod(self.socket_path, 0o600)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()


async def call(socket_path: Path, method: str, path: str,
               payload: dict[str, Any] | None = None, timeout: float = 120) -> dict[str, Any]:
    """Send one request over the control socket; no device there → DeviceNotRunningError."""
    if not socket_path.exists():
        raise DeviceNotRunningError(
            f"no device is running on {socket_path.parent.parent} (no control socket)"
        )
    with reachable(socket_path) as connect_path:
        connector = aiohttp.UnixConnector(path=connect_path)
        try:
            async with aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as session, session.request(method, f"http://panel{path}",
                                          json=payload) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientConnectionError, FileNotFoundError, ConnectionRefusedError):
            raise DeviceNotRunningError(
                f"no device is running on {socket_path.parent.parent} (control socket "
                "does not answer)"
            ) from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise PeerError(f"the device's control socket answered badly: {exc}") from None
    if not isinstance(body, dict):
        raise PeerError("the device's control socket answered badly")
    return body
