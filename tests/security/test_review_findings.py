"""What a second attack pass found in the first round of fixes, one test each."""

from __future__ import annotations

import asyncio
import json
import unicodedata

import aiohttp
import pytest

from openstation.config import backup as backup_file
from openstation.config.sections import User
from openstation.device import Device
from openstation.errors import BackupError
from tests.security.conftest import (
    LIMITS,
    closed_within,
    connect,
    share_with_room,
    upload_chunked,
)
from tests.security.test_replay import encrypted_login
from tests.webapi.conftest import Api

MB = 1 << 20


async def test_a_trickling_body_is_cut_off(device: Device) -> None:
    reader, writer = await connect(device.ports["http"])
    writer.write(b"POST /webapi/auth.cgi HTTP/1.1\r\nHost: nas\r\nContent-Type: "
                 b"application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nap")
    assert await closed_within(reader, 2 * LIMITS.head_timeout + 2)
    writer.close()


async def test_an_uploads_form_fields_are_bounded(device: Device, api: Api) -> None:
    sid = await api.sid()
    assert (await api.call("SYNO.Core.Share", "create", _sid=sid, name="pub"))["success"]
    form = aiohttp.FormData()
    form.add_field("path", "/pub" + "x" * (8 * MB))  # a field, not the file: bounded
    form.add_field("file", b"data", filename="a.txt")
    url = (f"{api.base}/webapi/entry.cgi?api=SYNO.FileStation.Upload&version=2"
           f"&method=upload&_sid={sid}")
    async with api.http.post(url, data=form) as response:
        assert (await response.json())["error"]["code"] == 120


async def test_an_encrypted_login_cannot_be_replayed_under_a_fresh_token(api: Api) -> None:
    info = (await api.call("SYNO.API.Encryption", "getinfo"))["data"]
    captured = encrypted_login(info)
    assert (await api.call("SYNO.API.Auth", "login", 7, **captured))["success"]
    fresh = (await api.call("SYNO.API.Encryption", "getinfo"))["data"]
    assert fresh["server_time"] == info["server_time"]  # the same second, as in the attack
    blob = json.loads(next(iter(captured.values())))
    respelled = json.dumps(blob, indent=2)  # another JSON spelling of the same ciphertexts
    replay = await api.call("SYNO.API.Auth", "login", 7, **{fresh["cipherkey"]: respelled})
    assert replay["error"]["code"] == 120


async def test_getinfo_is_limited_per_source(device: Device, api: Api) -> None:
    for _ in range(30):
        assert (await api.call("SYNO.API.Encryption", "getinfo"))["success"]
    assert not (await api.call("SYNO.API.Encryption", "getinfo"))["success"]


async def test_parallel_uploads_share_one_reserve(device: Device, api: Api) -> None:
    sid = await share_with_room(device, api, 24)
    room = device.web.storage.room()
    answers = await asyncio.gather(*(upload_chunked(api, sid, f"f{n}.bin", 16)
                                     for n in range(4)))
    results = [answer["success"] for answer in answers]
    written = sum(p.stat().st_size for p in (device.data_dir.volume / "pub").iterdir()
                  if p.name.startswith("f"))
    assert not all(results) and written <= room
    assert device.web.storage.claimed == 0


async def test_a_restore_checks_settings_and_rules_too(device: Device) -> None:
    header, content = backup_file.open_backup(await device.backups.backup(None))
    for mutate in (
        lambda c: c["sections"]["general"].update(server_name="nas\u202e<b>"),
        lambda c: c["collections"]["firewall_rules"].append(
            {"rule_id": "x", "order": 1, "source": "bogus"}),
        lambda c: c["sections"]["autoblock"].update(allow=["not-an-address"]),
    ):
        crafted = json.loads(json.dumps(content))
        mutate(crafted)
        with pytest.raises(BackupError):
            await device.backups.restore(backup_file.seal(crafted, header["model"],
                                                          header["created"]),
                                         None, None, "alice")


async def test_a_restore_that_drops_an_account_drops_its_rights(device: Device,
                                                                api: Api) -> None:
    sid = await api.sid()
    before = await device.backups.backup(None)  # no bob in it
    assert (await api.call("SYNO.Core.User", "create", _sid=sid, name="bob",
                           password="B0b!secret"))["success"]
    assert (await api.call("SYNO.Core.Share", "create", _sid=sid, name="private",
                           shareinfo=json.dumps({"permissions": {"user:bob": "rw"}})))["success"]
    await device.backups.restore(before, None, ["users"], "alice")
    sid = await api.sid()
    assert (await api.call("SYNO.Core.User", "create", _sid=sid, name="mallory",
                           password="M4llory!pass"))["success"]
    share = device.web.storage.share("private")
    assert device.web.storage.right("mallory", share) == "na"
    refused = await api.call("SYNO.Core.Share", "set", _sid=sid, name="private",
                             shareinfo=json.dumps({"permissions": {"uid:99999": "rw"}}))
    assert refused["error"]["code"] == 120  # an id with no account


async def test_a_file_put_on_the_volume_in_nfd_stays_reachable(device: Device,
                                                               api: Api) -> None:
    sid = await api.sid()
    assert (await api.call("SYNO.Core.Share", "create", _sid=sid, name="pub"))["success"]
    name = unicodedata.normalize("NFD", "caf\u00e9.txt")
    (device.data_dir.volume / "pub" / name).write_bytes(b"x")
    listed = await api.call("SYNO.FileStation.List", "list", 2, _sid=sid, folder_path="/pub")
    path = next(f["path"] for f in listed["data"]["files"] if f["name"] == name)
    assert (await api.call("SYNO.FileStation.List", "getinfo", 2, _sid=sid,
                           path=path))["success"]


@pytest.mark.parametrize("name", ["\uff41\uff44\uff4d\uff49\uff4e", "\u0430dmin", "a\u2215b",
                                  "x\u115fy", "Alice"])
async def test_more_lookalike_account_names_are_refused(device: Device, api: Api,
                                                        name: str) -> None:
    sid = await api.sid()
    answer = await api.call("SYNO.Core.User", "create", _sid=sid, name=name,
                            password="Us3r!secret")
    assert answer["error"]["code"] == 120, name  # ("Alice" reads as the existing alice)
    assert device.store.record(User, name) is None
