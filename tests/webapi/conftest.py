"""An in-process device on loopback with a fake clock, and a small Web API client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from openstation.device import Device, RunOptions
from openstation.lifecycle.install import InstallRequest
from tests.conftest import FakeClock

STRONG = "Str0ng!pass"


class Api:
    """Calls a device's Web API the way DSM clients do."""

    def __init__(self, device: Device, http: aiohttp.ClientSession) -> None:
        self.device = device
        self.http = http
        self.base = f"http://127.0.0.1:{device.ports['http']}"

    async def call(self, api: str, method: str, version: int = 1, *,
                   http: aiohttp.ClientSession | None = None, headers: dict[str, str] | None = None,
                   **params: Any) -> dict[str, Any]:
        data = {"api": api, "method": method, "version": str(version),
                **{k: str(v) for k, v in params.items()}}
        async with (http or self.http).post(f"{self.base}/webapi/entry.cgi", data=data,
                                            headers=headers) as response:
            assert response.status == 200
            assert response.content_type == "application/json"
            body: dict[str, Any] = await response.json()
            return body

    async def login(self, account: str, password: str, **params: Any) -> dict[str, Any]:
        return await self.call("SYNO.API.Auth", "login", 6, account=account, passwd=password,
                               **params)

    async def sid(self, account: str = "alice", password: str = STRONG) -> str:
        body = await self.login(account, password)
        assert body["success"], body
        return str(body["data"]["sid"])


@contextlib.asynccontextmanager
async def installed_device(data: Path, clock: FakeClock, **options: Any
                           ) -> AsyncIterator[Device]:
    """An installed in-process device on loopback's free ports (alice is its admin)."""
    options.setdefault("file_services", False)  # no smbd unless a test asks for it
    device = Device(RunOptions(data_dir=data, http_port=0, https_port=0, findhost_port=0,
                               ssdp_port=0, mdns=False, **options), clock=clock)
    await device.start()
    try:
        async for _ in device.installer.install(InstallRequest("nas1", "alice", STRONG)):
            pass
        yield device
    finally:
        await device.stop()


@pytest.fixture
async def device(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Device]:
    async with installed_device(tmp_path / "data", clock) as device:
        yield device


@pytest.fixture
async def api(device: Device) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        yield Api(device, http)
