"""List, getinfo, list_share, Info, VirtualFolder, CheckPermission, CreateFolder and
Rename: DSM's fields and error shapes, and what a user without rights gets."""

from __future__ import annotations

import os
from pathlib import Path

from openstation.device import Device
from tests.filestation.conftest import Files, Tree
from tests.webapi.conftest import Api

ALL = ["real_path", "size", "owner", "time", "perm", "mount_point_type", "type"]


async def test_list_answers_every_additional_field_with_dsm_keys(alice: Files, tree: Tree,
                                                                 volume: Path) -> None:
    tree({"b.txt": b"12345", "A/": None, "c.tar.gz": b"x" * 10})
    os.utime(volume / "pub" / "b.txt", (1_600_000_000, 1_650_000_000))
    listed = await alice.ok("List", "list", folder_path="/pub", additional=ALL)
    assert listed["total"] == 3 and listed["offset"] == 0
    assert [f["name"] for f in listed["files"]] == ["A", "b.txt", "c.tar.gz"]  # folders first
    folder, text, archive = listed["files"]
    assert folder["isdir"] is True and folder["additional"]["type"] == ""
    extra = text["additional"]
    assert set(extra) == set(ALL)
    assert extra["real_path"] == "/volume1/pub/b.txt" and extra["size"] == 5
    assert extra["type"] == "TXT" and archive["additional"]["type"] == "GZ"
    assert set(extra["owner"]) == {"gid", "group", "uid", "user"}
    assert extra["time"]["mtime"] == 1_650_000_000 and extra["time"]["atime"] == 1_600_000_000
    assert set(extra["time"]) == {"atime", "ctime", "crtime", "mtime"}
    assert set(extra["perm"]) == {"acl", "is_acl_mode", "posix"}
    assert extra["perm"]["acl"] == {"append": True, "del": True, "exec": True, "read": True,
                                    "write": True}
    assert extra["perm"]["posix"] == int(oct((volume / "pub" / "b.txt").stat().st_mode
                                             & 0o777)[2:])
    assert extra["mount_point_type"] == ""
    bare = await alice.ok("List", "list", folder_path="/pub")
    assert "additional" not in bare["files"][0]  # nothing asked, nothing added


async def test_sorting_paging_pattern_and_filetype(alice: Files, tree: Tree) -> None:
    tree({"b.txt": b"22", "a.jpg": b"1", "c.txt": b"333", "Docs/": None})
    by_size = await alice.ok("List", "list", folder_path="/pub", sort_by="size",
                             sort_direction="desc")
    assert [f["name"] for f in by_size["files"]] == ["Docs", "c.txt", "b.txt", "a.jpg"]
    paged = await alice.ok("List", "list", folder_path="/pub", offset="1", limit="2")
    assert paged["total"] == 4 and [f["name"] for f in paged["files"]] == ["a.jpg", "b.txt"]
    texts = await alice.ok("List", "list", folder_path="/pub", pattern="*.TXT")
    assert [f["name"] for f in texts["files"]] == ["b.txt", "c.txt"]
    partial = await alice.ok("List", "list", folder_path="/pub", pattern="doc,jp")
    assert [f["name"] for f in partial["files"]] == ["Docs", "a.jpg"]
    only_files = await alice.ok("List", "list", folder_path="/pub", filetype="file")
    assert [f["name"] for f in only_files["files"]] == ["a.jpg", "b.txt", "c.txt"]
    repeated = await alice.get("List", "list", folder_path="/pub",
                               additional="size")  # one value; clients also repeat it
    assert repeated[0] == 200
    assert (await alice.call("List", "list", folder_path="/pub", sort_by="nope")
            )["error"]["code"] == 120


async def test_hidden_entries_links_and_missing_folders(alice: Files, tree: Tree,
                                                        volume: Path) -> None:
    tree({"@eaDir/x": b"1", ".hidden": b"2", "seen.txt": b"3"})
    (volume / "pub" / "link").symlink_to(volume / "vault")
    listed = await alice.ok("List", "list", folder_path="/pub")
    assert [f["name"] for f in listed["files"]] == [".hidden", "seen.txt"]  # as on DSM
    for path in ("/pub/@eaDir", "/pub/link", "/pub/../vault", "/nope", "/pub/missing",
                 "/pub/seen.txt/below", "/pub/" + "/".join(["d" * 200] * 30)):
        answer = await alice.call("List", "list", folder_path=path)
        assert answer["error"]["code"] in (408, 418), (path, answer)
    both = await alice.ok("List", "getinfo", path=["/pub/seen.txt", "/pub/missing"],
                          additional=["size"])
    assert both["files"][0]["additional"]["size"] == 1
    assert both["files"][1] == {"code": 408, "path": "/pub/missing"}
    missing = await alice.call("List", "getinfo", path="/pub/missing")
    assert missing["error"] == {"code": 408, "errors": [{"code": 408, "path": "/pub/missing"}]}


async def test_list_share_and_rights(alice: Files, bob: Files, device: Device) -> None:
    fields = ["real_path", "owner", "time", "perm", "mount_point_type", "sync_share",
              "volume_status"]
    shares = await alice.ok("List", "list_share", additional=fields)
    assert [s["name"] for s in shares["shares"]] == ["pub", "vault"]
    pub = shares["shares"][0]
    assert pub["isdir"] is True and pub["path"] == "/pub"
    extra = pub["additional"]
    assert set(extra) == set(fields)
    assert set(extra["perm"]) == {"acl", "acl_enable", "adv_right", "is_acl_mode",
                                  "is_share_readonly", "posix", "share_right"}
    assert extra["perm"]["share_right"] == "RW" and extra["sync_share"] is False
    assert set(extra["volume_status"]) == {"freespace", "totalspace", "readonly"}
    assert extra["real_path"] == "/volume1/pub"

    mine = await bob.ok("List", "list_share", additional=fields)
    assert [s["name"] for s in mine["shares"]] == ["pub"]  # no right on vault
    assert mine["shares"][0]["additional"]["perm"]["share_right"] == "RO"
    assert (await bob.ok("List", "list_share", onlywritable="true"))["shares"] == []

    await device.web.storage.unmount("vault")
    shares = await alice.ok("List", "list_share")
    assert [s["name"] for s in shares["shares"]] == ["pub"]  # not mounted: not listed


async def test_create_rename_check_permission_and_errors(alice: Files, bob: Files,
                                                         volume: Path) -> None:
    made = await alice.ok("CreateFolder", "create", folder_path=["/pub", "/pub"],
                          name=["a", "b"], additional=["real_path"])
    assert [f["additional"]["real_path"] for f in made["folders"]] == [
        "/volume1/pub/a", "/volume1/pub/b"]
    deep = await alice.ok("CreateFolder", "create", folder_path="/pub/x/y", name="z",
                          force_parent="true")
    assert deep["folders"][0]["path"] == "/pub/x/y/z" and (volume / "pub/x/y/z").is_dir()
    again = await alice.ok("CreateFolder", "create", folder_path="/pub/x/y", name="z",
                           force_parent="true")  # force_parent: no error if it exists
    assert again["folders"][0]["path"] == "/pub/x/y/z"
    failed = await alice.call("CreateFolder", "create", folder_path=["/pub", "/pub"],
                              name=["a", "@evil"])
    assert failed["error"]["code"] == 1100
    assert {e["path"]: e["code"] for e in failed["error"]["errors"]} == {
        "/pub/a": 414, "/pub/@evil": 418}

    renamed = await alice.call("Rename", "rename", path=["/pub/a", "/pub/nope"],
                               name=["a2", "n2"])
    assert renamed["error"] == {"code": 1200, "errors": [{"code": 408, "path": "/pub/nope"}]}
    assert (volume / "pub" / "a2").is_dir()
    assert (await alice.call("Rename", "rename", path="/pub", name="x"))["error"][
        "errors"][0]["code"] == 407  # shared folders are renamed in Control Panel

    assert await alice.ok("CheckPermission", "write", 3, path="/pub", filename="new.txt") \
        == {"blSkip": False}
    (volume / "pub" / "have.txt").write_bytes(b"1")
    exists = await alice.call("CheckPermission", "write", 3, path="/pub", filename="have.txt")
    assert exists["error"]["code"] == 1805
    assert (await alice.ok("CheckPermission", "write", 3, path="/pub", filename="have.txt",
                           overwrite="false")) == {"blSkip": True}
    assert (await bob.call("CheckPermission", "write", 3, path="/pub", filename="n.txt")
            )["error"]["code"] == 407
    assert (await bob.call("CreateFolder", "create", folder_path="/pub", name="n")
            )["error"] == {"code": 1100, "errors": [{"code": 407, "path": "/pub/n"}]}
    assert not (volume / "pub" / "n").exists()


async def test_info_virtual_folders_and_api_info(alice: Files, bob: Files, api: Api) -> None:
    info = await alice.ok("Info", "get")
    assert info["is_manager"] is True and info["hostname"] == "nas1"
    assert info["support_sharing"] is True
    assert (await bob.ok("Info", "get"))["is_manager"] is False
    assert await alice.ok("VirtualFolder", "list", type="cifs") == {
        "offset": 0, "total": 0, "folders": []}
    listed = (await api.call("SYNO.API.Info", "query", query="SYNO.FileStation."))["data"]
    assert set(listed) >= {f"SYNO.FileStation.{name}" for name in (
        "Info", "List", "Search", "VirtualFolder", "Favorite", "Thumb", "DirSize", "MD5",
        "CheckPermission", "Upload", "Download", "Sharing", "CreateFolder", "Rename",
        "CopyMove", "Delete", "Extract", "Compress", "BackgroundTask")}
    assert listed["SYNO.FileStation.Upload"] == {"path": "entry.cgi", "minVersion": 1,
                                                 "maxVersion": 2}


async def test_upload_overwrite_skip_times_and_strangers(alice: Files, bob: Files,
                                                         volume: Path, api: Api) -> None:
    first = await alice.upload("/pub", "f.txt", b"one", mtime="1600000000000")
    assert first["data"] == {"blSkip": False, "file": "f.txt", "pid": os.getpid(),
                             "progress": 1}
    assert int((volume / "pub" / "f.txt").stat().st_mtime) == 1_600_000_000
    assert (await alice.upload("/pub", "f.txt", b"two"))["error"]["code"] == 1805
    skipped = await alice.upload("/pub", "f.txt", b"two", overwrite="false")
    assert skipped["data"]["blSkip"] is True
    assert (await alice.upload("/pub", "f.txt", b"two", overwrite="true"))["success"]
    assert (volume / "pub" / "f.txt").read_bytes() == b"two"
    made = await alice.upload("/pub/new/deep", "g.txt", b"g", create_parents="true")
    assert made["success"] and (volume / "pub/new/deep/g.txt").read_bytes() == b"g"
    assert (await bob.upload("/pub", "b.txt", b"x"))["error"]["code"] == 407
    stranger = Files(alice.device, alice.http, "not-a-session")
    assert (await stranger.call("List", "list", folder_path="/pub"))["error"]["code"] == 119
    status, _, body = await stranger.get("Download", "download", path="/pub/f.txt",
                                         mode="download")
    assert status == 200 and b'"code": 119' in body


async def test_review_findings(alice: Files, tree: Tree, volume: Path) -> None:
    """Inputs a review found answered with a 500 or worse."""
    tree({"photos,2024/x.txt": b"x", "photos/keep.txt": b"keep", "big.bin": b"b" * 100})
    # A raw path with a comma is one path, never "/pub/photos" and "2024".
    await alice.ok("Delete", "delete", path="/pub/photos,2024")
    assert (volume / "pub/photos/keep.txt").exists()
    assert not (volume / "pub/photos,2024").exists()
    shares = await alice.ok("List", "list_share", additional=["perm", "size"])
    assert shares["shares"][0]["additional"]["perm"]["share_right"] == "RW"
    for bad in ("bytes=--5", "bytes=-0", "bytes=x-1"):
        async with alice.http.get(f"{alice.base}/webapi/entry.cgi", params={
                "api": "SYNO.FileStation.Download", "version": "2", "method": "download",
                "mode": "download", "path": "/pub/big.bin", "_sid": alice.sid},
                headers={"Range": bad}) as response:
            assert response.status == 416, bad
    for value in ("nan", "inf", "1e30"):
        answer = await alice.upload("/pub", f"t-{value}.txt", b"t", mtime=value)
        assert answer["error"]["code"] == 120, value
        search = await alice.call("Search", "start", folder_path="/pub", size_from=value)
        assert search["error"]["code"] == 120, value
    folder = await alice.call("CreateFolder", "create", folder_path="/pub/big.bin",
                              name="x", force_parent="true")
    assert folder["error"]["code"] == 1100
