"""Random and hostile parameters for every File Station method, signed in as an
administrator: never a 500, always DSM's JSON envelope (or a file, an image, or a 404 for
the methods that send those), and nothing outside the share's own files is ever touched."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openstation.panel.control import call as panel_call
from openstation.testing import STRONG, DeviceProcess

METHODS = {
    "Info": ["get"], "List": ["list_share", "list", "getinfo"],
    "Search": ["start", "list", "stop", "clean"], "VirtualFolder": ["list"],
    "Favorite": ["list", "add", "delete", "edit", "replace_all", "clear_broken"],
    "Thumb": ["get"], "DirSize": ["start", "status", "stop"], "MD5": ["start", "status", "stop"],
    "CheckPermission": ["write"], "Download": ["download"],
    "Sharing": ["getinfo", "list", "create", "delete", "clear_invalid", "edit"],
    "CreateFolder": ["create"], "Rename": ["rename"],
    "CopyMove": ["start", "status", "stop"], "Delete": ["start", "status", "stop", "delete"],
    "Extract": ["start", "status", "stop", "list"], "Compress": ["start", "status", "stop"],
    "BackgroundTask": ["list", "clear_finished"],
}
NAMES = ["path", "folder_path", "dest_folder_path", "dest_file_path", "file_path", "name",
         "taskid", "id", "additional", "offset", "limit", "sort_by", "sort_direction",
         "pattern", "filetype", "overwrite", "remove_src", "recursive", "size", "rotate",
         "password", "date_expired", "date_available", "item_id", "level", "format", "mode",
         "extension", "size_from", "mtime_from", "owner", "index", "status_filter",
         "api_filter", "force_parent", "create_subfolder", "keep_dir", "filename"]
PATHS = ["/pub", "/pub/a.txt", "/pub/dir", "/pub/a.zip", "/pub/../../etc", "/etc/passwd",
         "/pub/\x00", "/pub/@eaDir", "/pub/link", "pub/a.txt", "/", "", "//", "/pub/dir/..",
         '["/pub/a.txt","/pub/dir"]', '["/pub/../x"]', "[", '"/pub"', "/pub\\,x", "/nope/x",
         "/pub/" + "n" * 300, "/pub/dir/../../system"]
values = st.sampled_from(PATHS) | st.text(max_size=30) | st.sampled_from(
    ["-1", "0", "99999999999999999999", "true", "false", "[1,", "{}", "null", "small",
     "2030-01-01", "9999-12-31", "0001-01-01", '"0"', "zip", "7z", "FileStation_0",
     "nan", "inf", "1e30", "bytes=--5"])
BINARY = {"Download", "Thumb"}


@pytest.fixture(scope="module")
def device(tmp_path_factory: pytest.TempPathFactory) -> Any:
    device = DeviceProcess(tmp_path_factory.mktemp("fsfuzz") / "data").start()
    assert device.install("nas1", "alice", STRONG).returncode == 0
    asyncio.run(panel_call(device.data_dir / "system" / "panel.sock", "POST", "/op",
                           {"op": "share.create", "args": {"name": "pub"}}))
    pub = device.data_dir / "volume1" / "pub"
    (pub / "a.txt").write_text("a")
    (pub / "dir").mkdir()
    (pub / "dir" / "b.txt").write_text("b")
    import zipfile

    with zipfile.ZipFile(pub / "a.zip", "w") as archive:
        archive.writestr("../../../escape.txt", "x")
        archive.writestr("in.txt", "in")
    (device.data_dir / "outside.txt").write_text("keep")
    (pub / "link").symlink_to(device.data_dir / "outside.txt")
    yield device
    device.kill()


@pytest.fixture(scope="module")
def sid(device: DeviceProcess) -> str:
    _, _, body = request(device, {"api": "SYNO.API.Auth", "version": "6",
                                       "method": "login", "account": "alice",
                                       "passwd": STRONG})
    return str(json.loads(body)["data"]["sid"])


def request(device: DeviceProcess, fields: dict[str, str]) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", device.runtime["ports"]["http"],
                                      timeout=30)
    try:
        conn.request("POST", "/webapi/entry.cgi", body=urlencode(fields).encode(),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        return response.status, response.headers.get("Content-Type", ""), response.read()
    finally:
        conn.close()


def outside(device: DeviceProcess) -> str:
    """A digest of everything in the data directory but volume1/pub and the system's
    own database (which a sharing link or a favourite rightly changes)."""
    digest = hashlib.sha256()
    root: Path = device.data_dir
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root)
        if rel.parts[:2] == ("volume1", "pub") or rel.parts[:1] == ("system",):
            dirs[:] = []
            continue
        for name in sorted(files):
            path = Path(folder) / name
            digest.update(str(path.relative_to(root)).encode())
            if not path.is_symlink():
                digest.update(path.read_bytes())
    return digest.hexdigest()


calls = st.sampled_from(sorted((api, method) for api, methods in METHODS.items()
                               for method in methods))


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(call=calls, params=st.dictionaries(st.sampled_from(NAMES), values, max_size=6),
       version=st.sampled_from(["1", "2", "3"]))
def test_every_method_answers_and_nothing_outside_changes(
        device: DeviceProcess, sid: str, call: tuple[str, str], params: dict[str, str],
        version: str) -> None:
    api, method = call
    before = outside(device)
    fields = {**params, "api": f"SYNO.FileStation.{api}", "method": method,
              "version": version, "_sid": sid}
    try:
        urlencode(fields).encode()
    except UnicodeEncodeError:
        return
    status, kind, body = request(device, fields)
    assert status != 500
    if api in BINARY and not kind.startswith("application/json"):
        assert status in (200, 206, 404, 416), (fields, status)
    else:
        assert status == 200 and kind.startswith("application/json"), (fields, status, body)
        answer = json.loads(body)
        assert isinstance(answer["success"], bool)
        if not answer["success"]:
            assert isinstance(answer["error"]["code"], int)
    time.sleep(0.01)  # a task just started may write: give it its moment
    assert outside(device) == before, fields
    assert (device.data_dir / "outside.txt").read_text() == "keep"
