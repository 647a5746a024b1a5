"""Attack 3: a user fills the disk that system/ also lives on.

Before: a chunked upload (no Content-Length) was not checked against free space; once the
disk was full, user and share creation failed with code 100, and the failed share create
left an orphan folder that blocked the name.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import AsyncIterator

import aiohttp
import pytest

from openstation.config.sections import StorageSettings
from openstation.device import Device
from openstation.storage import service as storage_service
from tests.webapi.conftest import Api

MB = 1 << 20


async def test_a_chunked_upload_stops_at_the_reserve(device: Device, api: Api) -> None:
    sid = await api.sid()
    assert (await api.call("SYNO.Core.Share", "create", _sid=sid, name="pub"))["success"]
    free = shutil.disk_usage(device.data_dir.volume).free
    with device.store.transaction("test") as tx:  # leave users about 4 MiB
        tx.put(StorageSettings(reserve_mb=free // MB - 4))

    async def body() -> AsyncIterator[bytes]:
        for _ in range(64):  # 64 MiB, no Content-Length
            yield b"x" * MB

    form = aiohttp.FormData()
    form.add_field("path", "/pub")
    form.add_field("file", body(), filename="fill.bin",
                   content_type="application/octet-stream")
    url = (f"{api.base}/webapi/entry.cgi?api=SYNO.FileStation.Upload&version=2"
           f"&method=upload&_sid={sid}")
    async with api.http.post(url, data=form) as response:
        answer = await response.json()
    assert answer["error"]["code"] == 416
    assert [p.name for p in (device.data_dir.volume / "pub").iterdir()] == ["@share.json"]
    # The system keeps working: accounts and shares can still be made.
    assert (await api.call("SYNO.Core.User", "create", _sid=sid, name="bob",
                           password="B0b!secret"))["success"]
    assert (await api.call("SYNO.Core.Share", "create", _sid=sid, name="more"))["success"]


async def test_the_default_reserve_is_1_gib_or_5_percent(device: Device) -> None:
    total = shutil.disk_usage(device.data_dir.volume).total
    assert device.web.storage.reserve() == max(1 << 30, total // 20)


async def test_a_failed_share_creation_leaves_nothing_behind(device: Device, api: Api,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    sid = await api.sid()

    def disk_full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage_service, "write_share_metadata", disk_full)
    assert not (await api.call("SYNO.Core.Share", "create", _sid=sid, name="docs"))["success"]
    assert not (device.data_dir.volume / "docs").exists()
    monkeypatch.undo()
    assert (await api.call("SYNO.Core.Share", "create", _sid=sid, name="docs"))["success"]
