"""WebDAV (WsgiDAV on cheroot) with real clients: rclone, raw requests for locking and
PROPFIND, hostile paths, strangers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import urllib.error
from pathlib import Path

import asyncssh
import pytest

from openstation.testing import openstation
from tests.fileserv.conftest import PASSWORDS, Served, dav, needs_samba, run, sftp

pytestmark = needs_samba


def rclone_webdav(served: Served, tmp_path: Path, user: str, *args: str
                  ) -> subprocess.CompletedProcess[str]:
    obscured = subprocess.run(["rclone", "obscure", PASSWORDS[user]], capture_output=True,
                              text=True, check=True).stdout.strip()
    config = tmp_path / f"rclone-{user}.conf"
    config.write_text(f"[dav]\ntype = webdav\nurl = {served.webdavs_url}\nvendor = other\n"
                      f"user = {user}\npass = {obscured}\n")
    return subprocess.run(["rclone", "--config", str(config), "--no-check-certificate",
                           "--low-level-retries", "1", "--retries", "1", *args],
                          capture_output=True, text=True, timeout=120)


def test_rclone_copy_sync_check_over_webdav_https(served: Served, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for n in range(30):
        (tree / f"d{n % 4}").mkdir(parents=True, exist_ok=True)
        (tree / f"d{n % 4}" / f"f{n}.bin").write_bytes(os.urandom(1000 * n))
    for verb in ("copy", "sync", "check"):
        done = rclone_webdav(served, tmp_path, "carol", verb, str(tree), "dav:gamma/tree")
        assert done.returncode == 0, (verb, done.stderr[-2000:])
    assert (served.volume / "gamma" / "tree" / "d3" / "f7.bin").read_bytes() == \
        (tree / "d3" / "f7.bin").read_bytes()
    (tree / "d3" / "f7.bin").unlink()
    synced = rclone_webdav(served, tmp_path, "carol", "sync", str(tree), "dav:gamma/tree")
    assert synced.returncode == 0 and not (served.volume / "gamma" / "tree" / "d3" /
                                           "f7.bin").exists()
    listed = rclone_webdav(served, tmp_path, "bob", "lsd", "dav:")
    assert listed.returncode == 0 and listed.stdout.split()[-1:] == ["alpha"]
    refused = rclone_webdav(served, tmp_path, "carol", "copy", str(tree), "dav:alpha/tree")
    assert refused.returncode != 0 and not (served.volume / "alpha" / "tree").exists()


def test_a_lock_keeps_others_out_until_it_is_released(served: Served) -> None:
    url = f"{served.webdav_url}/alpha/locked.txt"
    assert dav(url, "PUT", "alice", b"v1")[0] in (201, 204)
    body = (b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
            b'</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>alice</D:owner>'
            b'</D:lockinfo>')
    status, answer = dav(url, "LOCK", "alice", body, Content_Type="application/xml",
                         Timeout="Second-60")
    assert status == 200, answer
    found = re.search(rb"(opaquelocktoken:[^<]+)<", answer)
    assert found, answer
    token = found[1].decode()
    assert dav(url, "PUT", "bob", b"bob's")[0] == 423  # locked
    assert dav(url, "DELETE", "bob")[0] == 423
    assert (served.volume / "alpha" / "locked.txt").read_bytes() == b"v1"
    assert dav(url, "PUT", "alice", b"v2", If=f"(<{token}>)")[0] in (201, 204)
    assert dav(url, "UNLOCK", "alice", Lock_Token=f"<{token}>")[0] == 204
    assert dav(url, "PUT", "bob", b"bob's")[0] in (201, 204)
    assert (served.volume / "alpha" / "locked.txt").read_bytes() == b"bob's"


def test_webdav_refuses_strangers_and_hostile_paths(served: Served) -> None:
    base = served.webdav_url
    alpha = served.volume / "alpha"
    (alpha / "@eaDir").mkdir()
    (alpha / "@eaDir" / "secret").write_text("device's own")
    os.symlink("/etc", alpha / "etc-link")
    status, listing = dav(f"{base}/alpha/", "PROPFIND", "bob", Depth="1")
    assert status == 207 and b"seed.txt" in listing
    assert b"@eaDir" not in listing and b"etc-link" not in listing
    for path in ("/alpha/@eaDir/secret", "/alpha/etc-link/passwd", "/alpha/../gamma/seed.txt",
                 "/gamma/seed.txt", "/alpha/%2e%2e/gamma/seed.txt"):
        status, body = dav(base + path, "GET", "bob")
        assert status in (403, 404), (path, status)
        assert b"seed of gamma" not in body and b"root:" not in body
    # Shares are Control Panel's: not made, deleted or moved over WebDAV
    assert dav(f"{base}/newshare", "MKCOL", "alice")[0] == 403
    assert dav(f"{base}/beta", "DELETE", "alice")[0] == 403
    assert dav(f"{base}/alpha/seed.txt", "MOVE", "alice",
               Destination=f"{base}/beta")[0] == 403
    assert (served.volume / "beta" / "seed.txt").read_text() == "seed of beta"
    # Cross-share copy needs write on the target
    assert dav(f"{base}/alpha/seed.txt", "COPY", "bob",
               Destination=f"{base}/gamma/stolen.txt")[0] == 403
    # A stranger, and a disabled account
    assert dav(f"{base}/", "PROPFIND", "bob", password="wrong", Depth="0")[0] == 401
    assert dav(f"{base}/", "PROPFIND", "bob", Depth="0")[0] == 207
    openstation("user", "disable", "bob", "--data-dir", str(served.device.data_dir),
                check=True)
    assert dav(f"{base}/", "PROPFIND", "bob", Depth="0")[0] == 401


def test_writes_over_sftp_and_webdav_keep_the_volumes_reserve(served: Served) -> None:
    free_mib = shutil.disk_usage(served.volume).free >> 20
    openstation("config", "set", "storage", f"reserve_mb={free_mib + 1024}", "--data-dir",
                str(served.device.data_dir), check=True)
    assert dav(f"{served.webdav_url}/alpha/full.bin", "PUT", "bob", b"x" * 1000)[0] == 507
    assert not (served.volume / "alpha" / "full.bin").exists()

    async def over_sftp() -> None:
        async with sftp(served.sftp_port, "bob") as conn, conn.start_sftp_client() as c:
            with pytest.raises(asyncssh.SFTPFailure):
                async with c.open("/alpha/full.bin", "wb") as f:
                    await f.write(b"x" * 1000)

    run(over_sftp())
    assert (served.volume / "alpha" / "full.bin").stat().st_size == 0


def test_webdav_destinations_spelt_any_way_need_write_on_the_target(served: Served) -> None:
    base = served.webdav_url
    for spelling in ("/gamma//stolen.txt", "/gamma/./stolen.txt", "/alpha/../gamma/stolen.txt",
                     "/gamma/stolen.txt%3Fx"):
        status, _ = dav(f"{base}/alpha/seed.txt", "COPY", "bob", Overwrite="T",
                        Destination=base + spelling)
        assert status == 403, (spelling, status)
    assert sorted(os.listdir(served.volume / "gamma")) == ["@share.json", "seed.txt"]
    # carol may only read alpha: a copy onto it, overwriting, is refused
    assert dav(f"{base}/gamma/seed.txt", "COPY", "carol", Overwrite="T",
               Destination=f"{base}/alpha//seed.txt")[0] == 403
    assert (served.volume / "alpha" / "seed.txt").read_text() == "seed of alpha"
    # Not onto a share itself, however it is spelt
    assert dav(f"{base}/alpha/seed.txt", "MOVE", "alice", Overwrite="T",
               Destination=f"{base}/beta/.")[0] == 403
    assert (served.volume / "beta" / "seed.txt").read_text() == "seed of beta"
    # The top level cannot be locked; PROPFIND goes one level at a time; bodies are small
    lock = (b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
            b'</D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>')
    assert dav(f"{base}/", "LOCK", "bob", lock, Depth="infinity")[0] in (403, 405, 423)
    assert dav(f"{base}/alpha/x.txt", "PUT", "bob", b"still writable")[0] == 201
    assert dav(f"{base}/", "PROPFIND", "bob", Depth="infinity")[0] == 403
    try:
        oversized: object = dav(f"{base}/alpha/", "PROPFIND", "bob", b" " * (2 << 20),
                                Depth="1")[0]
    except urllib.error.URLError as exc:
        # the device answered 413 and closed while the client was still sending the body
        oversized = 413 if isinstance(exc.reason, BrokenPipeError | ConnectionResetError) \
            else exc
    assert oversized == 413
