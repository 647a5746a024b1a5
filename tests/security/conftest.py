"""An in-process device with tight connection limits (so attacks are quick to run), and
raw-socket helpers for playing a hostile client on loopback."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from openstation.config.sections import StorageSettings
from openstation.device import Device
from openstation.security.connections import ConnectionLimits
from tests.conftest import FakeClock
from tests.webapi.conftest import Api, installed_device

LIMITS = ConnectionLimits(head_timeout=1.0, idle_timeout=2.0, per_source=8, total=20)


@pytest.fixture
async def device(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Device]:
    async with installed_device(tmp_path / "data", clock, limits=LIMITS) as device:
        yield device


@pytest.fixture
async def api(device: Device) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        yield Api(device, http)


MB = 1 << 20


async def share_with_room(device: Device, api: Api, mib: int) -> str:
    """A signed-in admin's sid, a share "pub", and volume1's reserve set so that uploads
    may write about `mib` MiB more."""
    sid = await api.sid()
    assert (await api.call("SYNO.Core.Share", "create", _sid=sid, name="pub"))["success"]
    free = shutil.disk_usage(device.data_dir.volume).free
    with device.store.transaction("test") as tx:
        tx.put(StorageSettings(reserve_mb=free // MB - mib))
    return sid


async def upload_chunked(api: Api, sid: str, name: str, mib: int) -> dict[str, Any]:
    """Upload `mib` MiB to /pub as a chunked body (no Content-Length), File Station's way."""
    async def body() -> AsyncIterator[bytes]:
        for _ in range(mib):
            yield b"x" * MB
            await asyncio.sleep(0)

    form = aiohttp.FormData()
    form.add_field("path", "/pub")
    form.add_field("file", body(), filename=name, content_type="application/octet-stream")
    url = (f"{api.base}/webapi/entry.cgi?api=SYNO.FileStation.Upload&version=2"
           f"&method=upload&_sid={sid}")
    async with api.http.post(url, data=form) as response:
        answer: dict[str, Any] = await response.json()
        return answer


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
