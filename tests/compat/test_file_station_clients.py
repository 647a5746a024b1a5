"""File Station with real clients, unchanged: py-synologydsm-api (every File Station call
it makes, and Home Assistant's backup agent's flow end to end) and synology-api's
`filestation` module (info, shares, lists, folders, copy/move, search, size, MD5, delete,
compress/extract, favourites and sharing links)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import time
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from synology_dsm import SynologyDSM
from synology_dsm.exceptions import SynologyDSMAPIErrorException

from openstation.panel.control import call as panel_call
from openstation.testing import STRONG, DeviceProcess, openstation

Factory = Callable[..., DeviceProcess]
MB = 1 << 20


@pytest.fixture
def device(device_factory: Factory, tmp_path: Path) -> DeviceProcess:
    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    for share in ("backup", "media"):
        answer = asyncio.run(panel_call(device.data_dir / "system" / "panel.sock", "POST",
                                        "/op", {"op": "share.create",
                                                "args": {"name": share}}))
        assert "result" in answer, answer
    openstation("user", "create", "bob", "--password", "B0b!secret", "--data-dir",
                str(device.data_dir), check=True)
    return device


async def test_home_assistant_backup_agent_flow(device: DeviceProcess) -> None:
    """What HA's Synology DSM backup agent does, with its library, as it does it."""
    async with aiohttp.ClientSession() as http:
        dsm = SynologyDSM(http, "127.0.0.1", device.runtime["ports"]["http"], "alice",
                          STRONG, timeout=60)
        assert await dsm.login()
        shares = await dsm.file.get_shared_folders(only_writable=True)
        assert shares is not None and [s.path for s in shares] == ["/backup", "/media"]
        extra = shares[0].additional
        assert extra is not None and extra.perm.share_right == "RW"
        assert extra.volume_status.totalspace > extra.volume_status.freespace > 0
        assert extra.owner.user and isinstance(extra.owner.uid, int)

        digest = hashlib.sha256()

        async def backup_body() -> AsyncIterator[bytes]:  # streamed: no Content-Length
            for n in range(24):
                block = bytes([n]) * MB
                digest.update(block)
                yield block

        path = "/backup/HA"
        assert await dsm.file.upload_file(path, "a1b2c3.tar", backup_body(),
                                          create_parents=True)
        meta = json.dumps({"backup_id": "a1b2c3", "size": 24 * MB}).encode()
        assert await dsm.file.upload_file(path, "a1b2c3_meta.json", meta)

        files = await dsm.file.get_files(path)
        assert files is not None
        by_name = {f.name: f for f in files}
        assert set(by_name) == {"a1b2c3.tar", "a1b2c3_meta.json"}
        tar = by_name["a1b2c3.tar"]
        assert tar.is_dir is False and tar.path == "/backup/HA/a1b2c3.tar"
        assert tar.additional is not None
        assert tar.additional.size == 24 * MB and tar.additional.type == "TAR"
        assert tar.additional.real_path == "/volume1/backup/HA/a1b2c3.tar"
        assert tar.additional.time.mtime >= int(time.time()) - 600
        assert tar.additional.perm.acl["write"] is True
        assert tar.additional.mount_point_type == ""

        stream = await dsm.file.download_file(path, "a1b2c3_meta.json")
        assert stream is not None and not isinstance(stream, bool)
        assert json.loads(await stream.read()) == {"backup_id": "a1b2c3", "size": 24 * MB}
        stream = await dsm.file.download_file(path, "a1b2c3.tar")
        assert stream is not None and not isinstance(stream, bool)
        received = hashlib.sha256()
        async for block, _ in stream.iter_chunks():
            received.update(block)
        assert received.digest() == digest.digest()

        assert await dsm.file.delete_file(path, "a1b2c3.tar")
        assert await dsm.file.delete_file(path, "a1b2c3_meta.json")
        with pytest.raises(SynologyDSMAPIErrorException) as gone:
            await dsm.file.delete_file(path, "a1b2c3.tar")  # already gone
        details = gone.value.args[0]
        # HA's agent tolerates exactly this: 900 whose first detail is 408.
        assert details["code"] == 900 and details["details"][0]["code"] == 408
        assert await dsm.file.get_files(path) == []


async def test_py_synologydsm_api_sees_only_what_a_user_may(device: DeviceProcess) -> None:
    async with aiohttp.ClientSession() as http:
        alice = SynologyDSM(http, "127.0.0.1", device.runtime["ports"]["http"], "alice",
                            STRONG, timeout=30)
        assert await alice.login()
        assert await alice.file.upload_file("/media", "song.mp3", b"la" * 1000)
        bob = SynologyDSM(http, "127.0.0.1", device.runtime["ports"]["http"], "bob",
                          "B0b!secret", timeout=30)
        assert await bob.login()
        assert await bob.file.get_shared_folders() == []
        with pytest.raises(SynologyDSMAPIErrorException) as refused:
            await bob.file.get_files("/media")
        assert refused.value.args[0]["code"] == 407
        with pytest.raises(SynologyDSMAPIErrorException):
            await bob.file.upload_file("/media", "x.bin", b"x")
        with pytest.raises(SynologyDSMAPIErrorException):
            await bob.file.delete_file("/media", "song.mp3")
        assert (device.data_dir / "volume1" / "media" / "song.mp3").exists()


def test_synology_api_file_station_surface(device: DeviceProcess, tmp_path: Path) -> None:
    """synology-api 0.9.4's filestation module, as scripts use it (dsm_version=6: a DSM
    6.2 device has no DSM 7 handshake), over its encrypted-login HTTP path."""
    from synology_api.base_api import BaseApi
    from synology_api.filestation import FileStation

    BaseApi.shared_session = None  # synology-api reuses one session across instances
    port = str(device.runtime["ports"]["http"])
    fs = FileStation("127.0.0.1", port, "alice", STRONG, secure=False, cert_verify=False,
                     dsm_version=6, debug=False, otp_code=None,
                     interactive_output=False)
    info = fs.get_info()
    assert info["success"] and info["data"]["is_manager"] is True
    shares = fs.get_list_share(additional=["real_path", "size", "owner", "time"])
    assert [s["name"] for s in shares["data"]["shares"]] == ["backup", "media"]
    assert shares["data"]["shares"][0]["additional"]["real_path"] == "/volume1/backup"

    source = tmp_path / "notes.txt"
    source.write_bytes(b"hello file station\n" * 1000)
    uploaded = fs.upload_file("/media", str(source))
    assert isinstance(uploaded, dict) and uploaded["success"], uploaded
    assert fs.create_folder("/media", "docs")["success"]
    listed = fs.get_file_list("/media", additional=["real_path", "size", "owner", "time",
                                                      "perm", "type"])
    names = {f["name"]: f for f in listed["data"]["files"]}
    assert set(names) == {"docs", "notes.txt"}
    assert names["notes.txt"]["additional"]["size"] == 19000
    assert names["notes.txt"]["additional"]["type"] == "TXT"
    got = fs.get_file_info("/media/notes.txt")
    assert got["data"]["files"][0]["path"] == "/media/notes.txt"

    md5 = fs.start_md5_calc("/media/notes.txt")
    md5_id = md5["taskid"]
    status = _until_finished(lambda: fs.get_md5_status(md5_id))
    assert status["data"]["md5"] == hashlib.md5(source.read_bytes()).hexdigest()

    size_id = fs.start_dir_size_calc("/media")
    size_id = size_id["taskid"]
    sized = _until_finished(lambda: fs.get_dir_status(size_id))
    assert sized["data"]["num_file"] == 1 and sized["data"]["total_size"] == 19000

    copied = fs.start_copy_move("/media/notes.txt", "/media/docs")
    copy_id = copied["taskid"]
    _until_finished(lambda: fs.get_copy_move_status(copy_id))
    assert (device.data_dir / "volume1" / "media" / "docs" / "notes.txt").read_bytes() == \
        source.read_bytes()

    search = fs.search_start("/media", pattern="notes")
    search_id = search["taskid"]
    found = _until_finished(lambda: fs.get_search_list(search_id))
    assert sorted(f["path"] for f in found["data"]["files"]) == [
        "/media/docs/notes.txt", "/media/notes.txt"]
    fs.stop_all_search_task()

    compressed = fs.start_file_compression("/media/docs", "/media/docs.zip")
    compress_id = compressed["taskid"]
    _until_finished(lambda: fs.get_compress_status(compress_id))
    with zipfile.ZipFile(device.data_dir / "volume1" / "media" / "docs.zip") as archive:
        assert archive.read("docs/notes.txt") == source.read_bytes()
    listing = fs.get_file_list_of_archive("/media/docs.zip")
    assert {i["path"] for i in listing["data"]["items"]} >= {"docs/notes.txt"}
    assert fs.create_folder("/media", "unpacked")["success"]
    extracted = fs.start_extract_task("/media/docs.zip", "/media/unpacked")
    extract_id = extracted["taskid"]
    _until_finished(lambda: fs.get_extract_status(extract_id))
    assert (device.data_dir / "volume1" / "media" / "unpacked" / "docs" / "notes.txt"
            ).read_bytes() == source.read_bytes()

    tasks = fs.get_list_of_all_background_task()
    assert {t["api"] for t in tasks["data"]["tasks"]} >= {"SYNO.FileStation.CopyMove",
                                                          "SYNO.FileStation.Compress",
                                                          "SYNO.FileStation.Extract"}

    assert fs.add_a_favorite("/media/docs", "My docs")["success"]
    favorite = fs.get_favorite_list()["data"]["favorites"]
    assert [(f["path"], f["name"], f["status"]) for f in favorite] == [
        ("/media/docs", "My docs", "valid")]
    assert favorite[0]["additional"]["real_path"] == "/volume1/media/docs"
    assert fs.delete_a_favorite("/media/docs")["success"]

    link = fs.create_sharing_link("/media/notes.txt")
    made = link["data"]["links"][0]
    assert made["error"] == 0 and made["url"].endswith(f"/sharing/{made['id']}")
    links = fs.get_shared_link_list()
    assert [item["path"] for item in links["data"]["links"]] == ["/media/notes.txt"]
    assert fs.delete_shared_link(made["id"])["success"]

    assert fs.check_permissions("/media", "new.txt")["success"]
    deleted = fs.start_delete_task("/media/docs")
    delete_id = deleted["taskid"]
    _until_finished(lambda: fs.get_delete_status(delete_id))
    assert not (device.data_dir / "volume1" / "media" / "docs").exists()
    assert fs.delete_blocking_function("/media/docs.zip")["success"]

    downloaded = fs.get_file("/media/notes.txt", "serve")
    body = downloaded.getvalue() if isinstance(downloaded, io.BytesIO) else downloaded
    assert body == source.read_bytes()


def _until_finished(status: Callable[[], Any], timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        answer = status()
        assert answer["success"], answer
        if answer["data"].get("finished"):
            return dict(answer)
        assert time.monotonic() < deadline, answer
        time.sleep(0.05)
