"""An installed in-process device with two shares and two users, and a File Station
client that calls it as DSM's clients do."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from openstation.device import Device
from tests.conftest import FakeClock
from tests.webapi.conftest import STRONG, Api, installed_device

BOB = ("bob", "B0b!secret")


class Files:
    """One signed-in user's File Station."""

    def __init__(self, device: Device, http: aiohttp.ClientSession, sid: str) -> None:
        self.device, self.http, self.sid = device, http, sid
        self.base = f"http://127.0.0.1:{device.ports['http']}"

    async def call(self, api: str, method: str, version: int = 2, **params: Any
                   ) -> dict[str, Any]:
        data = {"api": f"SYNO.FileStation.{api}", "method": method, "version": str(version),
                "_sid": self.sid,
                **{k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}}
        async with self.http.post(f"{self.base}/webapi/entry.cgi", data=data) as response:
            assert response.status == 200
            assert response.content_type == "application/json"
            return dict(await response.json())

    async def ok(self, api: str, method: str, version: int = 2, **params: Any) -> Any:
        answer = await self.call(api, method, version, **params)
        assert answer["success"], (api, method, answer)
        return answer.get("data")

    async def finished(self, api: str, task_id: str, timeout: float = 30) -> dict[str, Any]:
        """Poll a task's status until it is finished (its answer, success or not)."""
        method = "list" if api == "Search" else "status"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            answer = await self.call(api, method, taskid=task_id)
            if not answer["success"] or answer["data"].get("finished"):
                return answer
            assert loop.time() < deadline, answer
            await asyncio.sleep(0.02)

    async def run(self, api: str, version: int = 2, **params: Any) -> dict[str, Any]:
        """Start a task and wait for its end."""
        started = await self.ok(api, "start", version, **params)
        return await self.finished(api, started["taskid"])

    async def upload(self, folder: str, name: str, body: bytes, **fields: str
                     ) -> dict[str, Any]:
        form = aiohttp.FormData()
        form.add_field("path", folder)
        for key, value in fields.items():
            form.add_field(key, value)
        form.add_field("file", body, filename=name, content_type="application/octet-stream")
        async with self.http.post(f"{self.base}/webapi/entry.cgi?api=SYNO.FileStation.Upload"
                                  f"&version=2&method=upload&_sid={self.sid}",
                                  data=form) as response:
            return dict(await response.json())

    async def get(self, api: str, method: str, version: int = 2, **params: str
                  ) -> tuple[int, dict[str, str], bytes]:
        query = {"api": f"SYNO.FileStation.{api}", "method": method,
                 "version": str(version), "_sid": self.sid, **params}
        async with self.http.get(f"{self.base}/webapi/entry.cgi", params=query) as response:
            return response.status, dict(response.headers), await response.read()


@pytest.fixture
async def device(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Device]:
    async with installed_device(tmp_path / "data", clock) as device:
        await device.accounts.create_user(BOB[0], BOB[1], actor="test")
        storage = device.web.storage
        await storage.create_share("pub", actor="test",
                                   permissions={"user:bob": "ro"})
        await storage.create_share("vault", actor="test", encrypted=True,
                                   passphrase="vault pass 1")
        yield device


@pytest.fixture
async def api(device: Device, http: aiohttp.ClientSession) -> Api:
    return Api(device, http)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


async def sign_in(device: Device, http: aiohttp.ClientSession, user: str, password: str
                  ) -> Files:
    async with http.post(f"http://127.0.0.1:{device.ports['http']}/webapi/auth.cgi", data={
            "api": "SYNO.API.Auth", "version": "6", "method": "login", "account": user,
            "passwd": password}) as response:
        body = await response.json()
    assert body["success"], body
    return Files(device, http, body["data"]["sid"])


@pytest.fixture
async def alice(device: Device, http: aiohttp.ClientSession) -> Files:
    return await sign_in(device, http, "alice", STRONG)


@pytest.fixture
async def bob(device: Device, http: aiohttp.ClientSession) -> Files:
    return await sign_in(device, http, *BOB)


@pytest.fixture
def volume(device: Device) -> Path:
    return device.data_dir.volume


Tree = Callable[[dict[str, Any]], None]


@pytest.fixture
def tree(volume: Path) -> Tree:
    """Write {"a/b.txt": b"..", "dir/": None} under volume1/pub."""

    def make(entries: dict[str, Any]) -> None:
        for name, body in entries.items():
            path = volume / "pub" / name
            if name.endswith("/"):
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(body)

    return make
