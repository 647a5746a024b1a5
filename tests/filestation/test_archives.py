"""Zip downloads of folders and several paths, Compress, and Extract of zip and tar,
including archives crafted to escape, to hide links, or to lie about their sizes."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.filestation.conftest import Files, Tree


async def test_folder_and_selection_download_as_zip(alice: Files, tree: Tree) -> None:
    tree({"album/a.jpg": b"A" * 5000, "album/sub/b.jpg": b"B", "note.txt": b"n"})
    status, headers, body = await alice.get("Download", "download", path="/pub/album",
                                            mode="download")
    assert status == 200 and headers["Content-Type"] == "application/zip"
    assert "album.zip" in headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.read("album/a.jpg") == b"A" * 5000
        assert archive.read("album/sub/b.jpg") == b"B"
        assert archive.testzip() is None
    status, headers, body = await alice.get("Download", "download",
                                            path='["/pub/album/a.jpg","/pub/note.txt"]',
                                            mode="download")
    assert "download.zip" in headers["Content-Disposition"]
    assert sorted(zipfile.ZipFile(io.BytesIO(body)).namelist()) == ["a.jpg", "note.txt"]


async def test_encrypted_folder_zips_its_plaintext(alice: Files) -> None:
    assert (await alice.upload("/vault", "secret.txt", b"s3cret" * 100))["success"]
    status, _, body = await alice.get("Download", "download", path="/vault",
                                      mode="download")
    assert status == 200
    assert zipfile.ZipFile(io.BytesIO(body)).read("vault/secret.txt") == b"s3cret" * 100


async def test_open_mode_is_inline_but_sandboxed_and_fails_as_404(alice: Files,
                                                                  tree: Tree) -> None:
    tree({"page.html": b"<script>alert(1)</script>"})
    status, headers, _ = await alice.get("Download", "download", path="/pub/page.html",
                                         mode="open")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert headers["Content-Security-Policy"] == "sandbox"  # never runs as the device
    status, _, _ = await alice.get("Download", "download", path="/pub/none.html",
                                   mode="open")
    assert status == 404


async def test_compress_then_extract_round_trip(alice: Files, tree: Tree,
                                                volume: Path) -> None:
    tree({"work/a.txt": b"a" * 10000, "work/sub/b.txt": b"b"})
    done = await alice.run("Compress", 3, path="/pub/work", dest_file_path="/pub/work.zip",
                           level="best")
    assert done["data"]["dest_file_path"] == "/pub/work.zip"
    with zipfile.ZipFile(volume / "pub" / "work.zip") as archive:
        info = archive.getinfo("work/a.txt")
        assert info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size < 1000
    exists = await alice.run("Compress", 3, path="/pub/work", dest_file_path="/pub/work.zip")
    assert exists["error"]["code"] == 1300
    listed = await alice.ok("Extract", "list", file_path="/pub/work.zip")
    assert {i["path"]: i["size"] for i in listed["items"] if not i["is_dir"]} == {
        "work/a.txt": 10000, "work/sub/b.txt": 1}
    (volume / "pub" / "out").mkdir()
    await alice.run("Extract", file_path="/pub/work.zip", dest_folder_path="/pub/out",
                    create_subfolder="true")
    assert (volume / "pub/out/work/work/sub/b.txt").read_bytes() == b"b"
    flat = await alice.run("Extract", file_path="/pub/work.zip", dest_folder_path="/pub/out",
                           keep_dir="false")
    assert flat["data"]["finished"] and (volume / "pub/out/a.txt").exists()
    # Into an encrypted share: written encrypted, read back as it was.
    await alice.run("Extract", file_path="/pub/work.zip", dest_folder_path="/vault")
    status, _, body = await alice.get("Download", "download", path="/vault/work/a.txt",
                                      mode="download")
    assert status == 200 and body == b"a" * 10000


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    return out.getvalue()


async def test_crafted_archives_never_escape(alice: Files, volume: Path,
                                             tmp_path: Path) -> None:
    outside = volume.parent / "outside.txt"
    evil = _zip({"../../outside.txt": b"pwned", "/etc/passwd": b"root", "@eaDir/x": b"x",
                 "ok/fine.txt": b"fine", "a/../../b": b"b"})
    (volume / "pub" / "evil.zip").write_bytes(evil)
    (volume / "pub" / "x").mkdir()
    result = await alice.run("Extract", file_path="/pub/evil.zip", dest_folder_path="/pub/x")
    assert result["error"]["code"] == 1400
    assert {e["code"] for e in result["error"]["errors"]} == {418}
    assert not outside.exists() and (volume / "pub/x/ok/fine.txt").read_bytes() == b"fine"
    assert (volume / "pub/x/etc/passwd").read_bytes() == b"root"  # "/" stripped: inside
    assert not list((volume / "pub" / "x").rglob("@*"))

    with tarfile.open(tmp_path / "links.tar", "w") as tar:
        link = tarfile.TarInfo("escape")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc"
        tar.addfile(link)
        hard = tarfile.TarInfo("hard")
        hard.type, hard.linkname = tarfile.LNKTYPE, "/etc/passwd"
        tar.addfile(hard)
        data = tarfile.TarInfo("plain.txt")
        data.size = 5
        tar.addfile(data, io.BytesIO(b"plain"))
    (volume / "pub" / "links.tar").write_bytes((tmp_path / "links.tar").read_bytes())
    (volume / "pub" / "t").mkdir()
    await alice.run("Extract", file_path="/pub/links.tar", dest_folder_path="/pub/t")
    assert sorted(p.name for p in (volume / "pub" / "t").iterdir()) == ["plain.txt"]
    assert not any(p.is_symlink() for p in (volume / "pub" / "t").rglob("*"))


async def test_lying_sizes_passwords_and_non_archives(alice: Files, volume: Path) -> None:
    bomb = bytearray(_zip({"big.bin": b"\0" * 1_000_000}))
    # Claim 10 bytes in the central directory and the local header: the data says more.
    central = bomb.rfind(b"PK\x01\x02")
    bomb[central + 24:central + 28] = (10).to_bytes(4, "little")
    bomb[26 - 4:26] = (10).to_bytes(4, "little")
    (volume / "pub" / "bomb.zip").write_bytes(bytes(bomb))
    (volume / "pub" / "b").mkdir()
    result = await alice.run("Extract", file_path="/pub/bomb.zip", dest_folder_path="/pub/b")
    assert not result["success"]
    assert not [p for p in (volume / "pub" / "b").iterdir()
                if p.stat().st_size > 10]  # never more than it claimed

    (volume / "pub" / "plain.txt").write_bytes(b"not an archive")
    listed = await alice.call("Extract", "list", file_path="/pub/plain.txt")
    assert listed["error"]["code"] == 1401

    if shutil.which("zip") is None:
        pytest.skip("Info-ZIP's zip (Debian zip) makes the password-protected archive")
    (volume / "pub" / "s.txt").write_bytes(b"locked")
    subprocess.run(["zip", "-q", "-P", "pw", "locked.zip", "s.txt"], cwd=volume / "pub",
                   check=True)
    wrong = await alice.run("Extract", file_path="/pub/locked.zip", dest_folder_path="/pub/b",
                            password="nope")
    assert wrong["error"]["code"] == 1403
    # ZipCrypto checks one byte: a wrong password passes it 1 time in 256 (then the CRC
    # fails). Find such a password: it is still the wrong password, not a broken archive.
    with zipfile.ZipFile(volume / "pub" / "locked.zip") as z:
        lucky = next(f"nope{n}" for n in range(100_000) if _passes_check(z, f"nope{n}"))
    wrong = await alice.run("Extract", file_path="/pub/locked.zip", dest_folder_path="/pub/b",
                            password=lucky)
    assert wrong["error"]["code"] == 1403
    await alice.run("Extract", file_path="/pub/locked.zip", dest_folder_path="/pub/b",
                    password="pw")
    assert (volume / "pub" / "b" / "s.txt").read_bytes() == b"locked"


async def test_a_tar_that_loops_is_refused(alice: Files, volume: Path) -> None:
    """A header with a negative size made tarfile read one member forever (CVE-2025-8194)."""
    good = tarfile.TarInfo("a.txt")
    good.size = 1
    first = good.tobuf(format=tarfile.USTAR_FORMAT) + b"a" + b"\0" * 511
    looping = bytearray(tarfile.TarInfo("b.txt").tobuf(format=tarfile.USTAR_FORMAT))
    looping[124:136] = b"\xff" + b"\xff" * 7 + b"\xff\xff\xfe\x00"  # base-256: -512
    checksum = sum(looping[:148]) + 256 + sum(looping[156:])
    looping[148:156] = f"{checksum:06o}\0 ".encode()
    (volume / "pub" / "loop.tar").write_bytes(first + bytes(looping) + b"\0" * 2048)
    answer = await alice.call("Extract", "list", file_path="/pub/loop.tar")
    assert not answer["success"] and answer["error"]["code"] in (1401, 1402)


def _passes_check(archive: zipfile.ZipFile, password: str) -> bool:
    try:
        archive.open(archive.infolist()[0], pwd=password.encode()).close()
    except RuntimeError:
        return False
    return True
