"""Background tasks: copy and move (overwrite, skip, conflicts, folders, between plain and
encrypted shares), delete, folder size, MD5, search, stop, and each user's own list."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from openstation.device import Device
from tests.filestation.conftest import Files, Tree

MB = 1 << 20


async def test_copy_and_move_with_overwrite_skip_and_conflicts(alice: Files, tree: Tree,
                                                               volume: Path) -> None:
    tree({"src/a.txt": b"new a", "src/sub/b.txt": b"b", "dst/src/a.txt": b"old a",
          "one.txt": b"1", "dst/one.txt/": None})
    pub = volume / "pub"
    refused = await alice.run("CopyMove", path="/pub/src", dest_folder_path="/pub/dst")
    assert refused["error"] == {"code": 1000, "errors": [{"code": 1003,
                                                          "path": "/pub/dst/src/a.txt"}]}
    assert (pub / "dst/src/sub/b.txt").read_bytes() == b"b"  # the rest was copied
    skipped = await alice.run("CopyMove", path="/pub/src", dest_folder_path="/pub/dst",
                              overwrite="false")
    assert skipped["data"]["finished"] and (pub / "dst/src/a.txt").read_bytes() == b"old a"
    done = await alice.run("CopyMove", path="/pub/src", dest_folder_path="/pub/dst",
                           overwrite="true")
    assert done["data"]["progress"] == 1.0 and done["data"]["total"] == 6
    assert (pub / "dst/src/a.txt").read_bytes() == b"new a"
    clash = await alice.run("CopyMove", path="/pub/one.txt", dest_folder_path="/pub/dst",
                            overwrite="true")
    assert clash["error"]["errors"] == [{"code": 1004, "path": "/pub/dst/one.txt"}]
    into_itself = await alice.run("CopyMove", path="/pub/src", dest_folder_path="/pub/src/sub")
    assert into_itself["error"]["errors"] == [{"code": 1002, "path": "/pub/src"}]

    os.utime(pub / "src/a.txt", (1_600_000_000, 1_600_000_000))
    moved = await alice.run("CopyMove", path=["/pub/src", "/pub/nope"],
                            dest_folder_path="/pub/dst", overwrite="true", remove_src="true")
    assert moved["error"] == {"code": 1001, "errors": [{"code": 408, "path": "/pub/nope"}]}
    assert not (pub / "src").exists() and (pub / "dst/src/a.txt").read_bytes() == b"new a"
    assert int((pub / "dst/src/a.txt").stat().st_mtime) == 1_600_000_000
    missing_dest = await alice.call("CopyMove", "start", 3, path="/pub/one.txt",
                                    dest_folder_path="/pub/nowhere")
    assert missing_dest["success"]  # located now; found missing when it runs
    ended = await alice.finished("CopyMove", missing_dest["data"]["taskid"])
    assert ended["error"]["code"] == 1000
    assert not [p for p in pub.rglob("@copy-*")]


async def test_copy_between_plain_and_encrypted_shares(alice: Files, tree: Tree,
                                                       volume: Path) -> None:
    body = os.urandom(3 * MB + 17)
    tree({"clear.bin": body})
    assert (await alice.run("CopyMove", path="/pub/clear.bin", dest_folder_path="/vault")
            )["data"]["finished"]
    stored = ciphertext(volume)
    assert len(stored) == 1 and "clear" not in stored[0].name
    assert body[:4096] not in stored[0].read_bytes()  # encrypted on the way in
    status, _, got = await alice.get("Download", "download", path="/vault/clear.bin",
                                     mode="download")
    assert status == 200 and got == body
    assert (await alice.run("CopyMove", path="/vault/clear.bin", dest_folder_path="/pub",
                            overwrite="true", remove_src="true"))["data"]["finished"]
    assert (volume / "pub" / "clear.bin").read_bytes() == body  # decrypted on the way out
    assert not ciphertext(volume)


def ciphertext(volume: Path) -> list[Path]:
    """The files of share vault's ciphertext (gocryptfs's own and the metadata left out)."""
    return [p for p in (volume / "@vault@").iterdir()
            if not p.name.startswith(("@", "gocryptfs."))]


async def test_a_user_without_rights_or_another_users_task(alice: Files, bob: Files,
                                                           tree: Tree, volume: Path) -> None:
    tree({"keep.txt": b"keep"})
    copy = await bob.call("CopyMove", "start", 3, path="/pub/keep.txt",
                          dest_folder_path="/pub")
    assert copy["error"]["code"] == 1002  # read-only: no destination for bob
    gone = await bob.run("Delete", path="/pub/keep.txt")
    assert gone["error"] == {"code": 900, "errors": [{"code": 407, "path": "/pub/keep.txt"}]}
    vault = await bob.call("DirSize", "start", path="/vault")
    assert vault["error"]["code"] == 401 and vault["error"]["errors"][0]["code"] == 407
    assert (volume / "pub" / "keep.txt").exists()

    started = await alice.ok("DirSize", "start", path="/pub")
    for method in ("status", "stop"):
        assert (await bob.call("DirSize", method, taskid=started["taskid"])
                )["error"]["code"] == 599
    mine = await alice.run("Delete", path="/pub/nothing-here")
    assert mine["error"]["code"] == 900
    listed = await bob.ok("BackgroundTask", "list", 3)
    assert [t["params"]["path"] for t in listed["tasks"]] == [["/pub/keep.txt"]]  # his own
    assert (await alice.call("MD5", "status", taskid="FileStation_NOPE"))["error"][
        "code"] == 599


async def test_delete_task_size_md5_and_the_task_list(alice: Files, tree: Tree,
                                                      volume: Path) -> None:
    tree({f"many/{n}.txt": b"x" * n for n in range(300)} | {"many/sub/deep.txt": b"d"})
    sized = await alice.run("DirSize", path="/pub/many")
    assert sized["data"] | {"finished": True} == {
        "num_dir": 2, "num_file": 301, "total_size": sum(range(300)) + 1, "finished": True}
    tree({"hash.bin": b"abc" * 1000})
    md5 = await alice.run("MD5", file_path="/pub/hash.bin")
    assert md5["data"]["md5"] == hashlib.md5(b"abc" * 1000).hexdigest()
    deleted = await alice.run("Delete", path="/pub/many")
    assert deleted["data"]["processed_num"] == 303 and deleted["data"]["progress"] == 1.0
    assert not (volume / "pub" / "many").exists()
    tree({"shallow/x.txt": b"x"})
    shallow = await alice.run("Delete", path="/pub/shallow", recursive="false")
    assert shallow["error"]["code"] == 900 and (volume / "pub/shallow/x.txt").exists()

    tasks = (await alice.ok("BackgroundTask", "list", 3))["tasks"]
    assert [t["api"] for t in tasks] == ["SYNO.FileStation.Delete"] * 2  # DirSize, MD5: not listed
    assert tasks[0]["params"]["path"] == ["/pub/many"] and tasks[0]["finished"] is True
    assert tasks[1]["error"]["code"] == 900
    await alice.ok("BackgroundTask", "clear_finished", 3)
    assert (await alice.ok("BackgroundTask", "list", 3))["tasks"] == []


async def test_stopping_a_large_copy_leaves_whole_files_only(alice: Files, device: Device,
                                                             volume: Path) -> None:
    big = volume / "pub" / "big.bin"
    with open(big, "wb") as handle:
        handle.truncate(2048 * MB)  # sparse: the copy still reads all of it
    (volume / "pub" / "to").mkdir()
    started = await alice.ok("CopyMove", "start", 3, path="/pub/big.bin",
                             dest_folder_path="/pub/to")
    await asyncio.sleep(0.05)
    await alice.ok("CopyMove", "stop", 3, taskid=started["taskid"])
    status = await alice.finished("CopyMove", started["taskid"])
    assert status["data"]["finished"] and status["data"]["cancelled"] is True
    assert not (volume / "pub" / "to" / "big.bin").exists()
    assert not [p for p in (volume / "pub" / "to").iterdir()]  # no partial temporary file


async def test_search_filters_pages_and_hidden_entries(alice: Files, tree: Tree,
                                                       volume: Path) -> None:
    tree({"photos/cat.JPG": b"c" * 100, "photos/dog.jpg": b"d" * 5000,
          "photos/@eaDir/cat.jpg": b"x", "docs/cat-notes.txt": b"n", "photos/old.jpg": b"o"})
    os.utime(volume / "pub/photos/old.jpg", (1_000_000_000, 1_000_000_000))
    found = await alice.run("Search", folder_path="/pub", pattern="cat")
    assert found["data"]["finished"] is True
    assert sorted(f["path"] for f in found["data"]["files"]) == [
        "/pub/docs/cat-notes.txt", "/pub/photos/cat.JPG"]
    jpgs = await alice.run("Search", folder_path="/pub", extension="jpg", size_from="1000")
    assert [f["path"] for f in jpgs["data"]["files"]] == ["/pub/photos/dog.jpg"]
    recent = await alice.run("Search", folder_path='"/pub"', extension="jpg",
                             mtime_from='"1500000000.0"', filetype='"file"')
    assert sorted(f["name"] for f in recent["data"]["files"]) == ["cat.JPG", "dog.jpg"]
    paged = await alice.ok("Search", "start", folder_path="/pub", filetype="file")
    await alice.finished("Search", paged["taskid"])
    page = await alice.ok("Search", "list", taskid=paged["taskid"], offset="1", limit="2",
                          additional=["size"])
    assert page["total"] == 4 and len(page["files"]) == 2
    assert "size" in page["files"][0]["additional"]
    await alice.ok("Search", "clean", taskid=paged["taskid"])
    assert (await alice.call("Search", "list", taskid=paged["taskid"]))["error"][
        "code"] == 599
