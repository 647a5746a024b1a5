"""The local control channel: HTTP over a Unix socket in system/ (mode 0600).

The virtual panel is driven only through this socket, never a network port: whoever can
press RESET can take over the admin account, so pressing it needs local file access to
the data directory, as pressing a real one needs hands on the box.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from openstation.panel import control_client
from openstation.panel.control_client import reachable

Route = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]


class ControlServer:
    """Serves the control routes on the socket until `stop`."""

    def __init__(self, socket_path: Path, routes: list[Route]) -> None:
        self.socket_path = socket_path
        # Room for a configuration backup (64 MiB) sent base64 in JSON by `config restore`;
        # the socket is the owner's alone (mode 0600).
        self.app = web.Application(client_max_size=96 << 20)
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
    """`control_client.call` for code on an event loop (tests): run in a thread."""
    return await asyncio.to_thread(control_client.call, socket_path, method, path, payload,
                                   timeout)
