"""An in-process device with tight connection limits (so attacks are quick to run), and
raw-socket helpers for playing a hostile client on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from openstation.device import Device, RunOptions
from openstation.lifecycle.install import InstallRequest
from openstation.security.connections import ConnectionLimits
from tests.conftest import FakeClock
from tests.webapi.conftest import STRONG, Api

LIMITS = ConnectionLimits(head_timeout=1.0, idle_timeout=2.0, per_source=8, total=20)


@pytest.fixture
async def device(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Device]:
    device = Device(RunOptions(data_dir=tmp_path / "data", http_port=0, https_port=0,
                               findhost_port=0, ssdp_port=0, mdns=False, limits=LIMITS),
                    clock=clock)
    await device.start()
    async for _ in device.installer.install(InstallRequest("nas1", "alice", STRONG)):
        pass
    yield device
    await device.stop()


@pytest.fixture
async def api(device: Device) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        yield Api(device, http)


async def connect(port: int, source: str = "127.0.0.2"
                  ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Whether the device closes the connection within `seconds` (False: still open)."""
    try:
        while await asyncio.wait_for(reader.read(65536), seconds):
            pass
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True
