"""A shared folder's recycle bin, on every way in: what File Station, SFTP, WebDAV and SMB
delete moves to #recycle with its folders; what is deleted inside the bin, or in a share
without one, is gone; a user without rights deletes nothing."""

from __future__ import annotations

import json
from typing import Any

import smbclient

from openstation.testing import Web
from tests.fileserv.conftest import PASSWORDS, Served, dav, needs_samba, run, sftp

pytestmark = needs_samba
WAYS = ("filestation", "sftp", "webdav", "smb")


async def sftp_remove(port: int, path: str) -> None:
    async with sftp(port, "alice") as conn, conn.start_sftp_client() as client:
        await client.remove(path)


def delete(served: Served, way: str, share: str, *parts: str) -> None:
    path = "/".join(["", share, *parts])
    if way == "filestation":
        served.admin.ok("SYNO.FileStation.Delete", "delete", 2, path=json.dumps([path]))
    elif way == "sftp":
        run(sftp_remove(served.sftp_port, path))
    elif way == "webdav":
        assert dav(served.webdav_url + path, "DELETE", "alice")[0] == 204
    else:
        session: dict[str, Any] = {"username": "alice", "password": PASSWORDS["alice"],
                                   "port": served.smb_port, "connection_cache": {}}
        smbclient.remove("\\\\127.0.0.1\\" + "\\".join([share, *parts]), **session)
        for conn in session["connection_cache"].values():
            conn.disconnect()


def test_deletes_go_to_the_recycle_bin_on_every_protocol(served: Served) -> None:
    served.admin.ok("SYNO.Core.Share", "set", name="alpha", enable_recycle_bin="true")
    served.refresh()  # smbd has reloaded its configuration once the set answers
    alpha = served.volume / "alpha"
    (alpha / "docs").mkdir()
    for way in WAYS:
        (alpha / "docs" / f"{way}.txt").write_text(f"deleted by {way}")
    for way in WAYS:
        delete(served, way, "alpha", "docs", f"{way}.txt")
    for way in WAYS:
        assert not (alpha / "docs" / f"{way}.txt").exists(), way
        assert (alpha / "#recycle" / "docs" / f"{way}.txt").read_text() == \
            f"deleted by {way}", way

    # The same name deleted again: both are kept.
    (alpha / "docs" / "filestation.txt").write_text("second")
    delete(served, "filestation", "alpha", "docs", "filestation.txt")
    assert (alpha / "#recycle" / "docs" / "filestation (2).txt").read_text() == "second"
    # A whole folder moves at once.
    delete(served, "filestation", "alpha", "docs")
    assert sorted(p.name for p in (alpha / "#recycle" / "docs (2)").iterdir()) == []
    assert not (alpha / "docs").exists()

    bins = served.admin.ok("SYNO.Core.RecycleBin", "get")["shares"]
    assert {b["name"]: (b["enable_recycle_bin"], b["files"]) for b in bins} == {
        "alpha": (True, 5), "beta": (False, 0), "gamma": (False, 0)}

    # Inside the bin, a delete is for good; so is one in a share without a bin.
    delete(served, "filestation", "alpha", "#recycle", "docs", "smb.txt")
    assert not (alpha / "#recycle" / "docs" / "smb.txt").exists()
    delete(served, "sftp", "beta", "seed.txt")
    assert not (served.volume / "beta" / "seed.txt").exists()
    assert not (served.volume / "beta" / "#recycle").exists()


def test_a_user_without_rights_recycles_nothing(served: Served) -> None:
    served.admin.ok("SYNO.Core.Share", "set", name="alpha", enable_recycle_bin="true")
    carol = Web(served.device.url).login("carol", PASSWORDS["carol"])  # alpha: read only
    refused = carol.call("SYNO.FileStation.Delete", "delete", 2, path='["/alpha/seed.txt"]')
    assert not refused["success"]
    assert dav(served.webdav_url + "/alpha/seed.txt", "DELETE", "carol")[0] == 403
    assert (served.volume / "alpha" / "seed.txt").read_text() == "seed of alpha"
    assert not (served.volume / "alpha" / "#recycle").exists()
    stranger = Web(served.device.url)
    assert stranger.call("SYNO.Core.RecycleBin", "get")["error"]["code"] in (105, 119)
    bob = Web(served.device.url).login("bob", PASSWORDS["bob"])
    assert bob.call("SYNO.Core.RecycleBin", "get")["error"]["code"] == 105

