"""Attack 3: a user fills the disk that system/ also lives on.

Before: a chunked upload (no Content-Length) was not checked against free space; once the
disk was full, user and share creation failed with code 100, and the failed share create
left an orphan folder that blocked the name.
"""

from __future__ import annotations

import errno
import shutil

import pytest

from openstation.device import Device
from openstation.storage import service as storage_service
from tests.security.conftest import share_with_room, upload_chunked
from tests.webapi.conftest import Api


async def test_a_chunked_upload_stops_at_the_reserve(device: Device, api: Api) -> None:
    sid = await share_with_room(device, api, 4)
    answer = await upload_chunked(api, sid, "fill.bin", 64)  # 64 MiB, no Content-Length
    assert answer["error"]["code"] == 416
    assert [p.name for p in (device.data_dir.volume / "pub").iterdir()] == ["@share.json"]
    # The system keeps working: accounts and shares can still be made.
    assert (await api.call("SYNO.Core.User", "create", _sid=sid, name="bob",
                           password="B0b!secret"))["success"]
    assert (await api.call("SYNO.Core.Share", "create", _sid=sid, name="more"))["success"]


async def test_the_default_reserve_is_1_gib_or_5_percent(device: Device) -> None:
    total = shutil.disk_usage(device.data_dir.volume).total
    assert device.web.storage.reserve(total) == max(1 << 30, total // 20)


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
