"""Encrypted shared folders on gocryptfs, through every protocol: written over SMB, read
over SFTP, WebDAV, rsync and File Station; unmounted, every protocol refuses and the
ciphertext folder holds no plaintext name or byte; mounted again with the exported key
file, the same bytes come back. And where FUSE or gocryptfs is missing, encrypted shares are
refused with the reason, and nothing else breaks."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from openstation.storage import gocrypt
from openstation.testing import STRONG, DeviceProcess, Web, openstation
from tests.fileserv.conftest import Served, dav, needs_samba, rsync, run, sftp
from tests.fileserv.test_file_services import smbclient_cli

needs_fuse = pytest.mark.skipif(gocrypt.unavailable() is not None,
                                reason=f"encrypted shares cannot work here: "
                                       f"{gocrypt.unavailable()}")

NAME = "Steuererklärung 2024 — secret.pdf"


def crypto_call(served: Served, method: str, **params: Any) -> dict[str, Any]:
    return dict(served.admin.call("SYNO.Core.Share.Crypto", method, name="vault", **params))


def export_key(served: Served) -> bytes:
    query = urllib.parse.urlencode({"api": "SYNO.Core.Share.Crypto", "version": "1",
                                    "method": "export_key", "name": "vault",
                                    "password": "vault pass 1", "_sid": served.admin.sid})
    with urllib.request.urlopen(f"{served.device.url}/webapi/entry.cgi?{query}",
                                timeout=10) as response:
        return bytes(response.read())


def sftp_read(served: Served, user: str, path: str) -> bytes:
    async def read() -> bytes:
        async with sftp(served.sftp_port, user) as conn, \
                conn.start_sftp_client() as client, client.open(path, "rb") as f:
            return bytes(await f.read())
    return bytes(run(read()))


@needs_samba
@needs_fuse
def test_an_encrypted_share_over_every_protocol(served: Served, tmp_path: Path) -> None:
    made = served.admin.call("SYNO.Core.Share", "create", name="vault",
                             permissions={"user:bob": "rw"},
                             shareinfo={"encryption": True, "enc_passwd": "vault pass 1"})
    assert made["success"], made
    secret = os.urandom(200_000) + b"THE PLAINTEXT MARKER" * 1000
    (tmp_path / "up.bin").write_bytes(secret)
    put = smbclient_cli(served, "bob", "vault",
                        f'mkdir docs; cd docs; put {tmp_path / "up.bin"} "{NAME}"')
    assert put.returncode == 0, put.stdout + put.stderr
    assert sftp_read(served, "bob", f"/vault/docs/{NAME}") == secret
    status, body = dav(f"{served.webdav_url}/vault/docs/secret-copy.bin", "PUT", "bob",
                       secret)
    assert status in (201, 204)
    status, body = dav(f"{served.webdav_url}/vault/docs/secret-copy.bin", "GET", "bob")
    assert status == 200 and body == secret
    pulled = rsync(served, tmp_path, "bob", "-r", "bob@127.0.0.1::vault/docs/",
                   str(tmp_path / "pulled"))
    assert pulled.returncode == 0, pulled.stderr
    assert (tmp_path / "pulled" / NAME).read_bytes() == secret
    carol = smbclient_cli(served, "carol", "vault", "ls")  # no right: refused as anywhere
    assert carol.returncode != 0

    cipher = served.volume / "@vault@"
    key = export_key(served)
    assert b"openstation-share-key" in key
    assert crypto_call(served, "unmount")["success"]
    assert not (served.volume / "vault").exists()  # no plaintext path while unmounted

    # Unmounted: every protocol refuses it.
    assert smbclient_cli(served, "bob", "vault", "ls").returncode != 0
    with pytest.raises(asyncssh.SFTPError):
        sftp_read(served, "bob", f"/vault/docs/{NAME}")
    status, _ = dav(f"{served.webdav_url}/vault/docs/secret-copy.bin", "GET", "bob")
    assert status in (403, 404)
    refused = rsync(served, tmp_path, "bob", "-r", "bob@127.0.0.1::vault/",
                    str(tmp_path / "none"))
    assert refused.returncode != 0
    listed = served.admin.call("SYNO.FileStation.List", "list", folder_path="/vault")
    assert listed["error"]["code"] == 407

    # The ciphertext: no plaintext name, no plaintext byte.
    for root, dirs, files in os.walk(cipher):
        for name in dirs + files:
            assert "docs" not in name and "Steuer" not in name and "secret" not in name
            path = Path(root) / name
            if path.is_file():
                data = path.read_bytes()
                assert b"PLAINTEXT MARKER" not in data and secret[:64] not in data

    wrong = crypto_call(served, "mount", password="not the pass")
    assert wrong["error"]["code"] == 120
    assert crypto_call(served, "mount", key_file=key.decode())["success"]
    back = tmp_path / "back.bin"
    got = smbclient_cli(served, "bob", "vault", f'cd docs; get "{NAME}" {back}')
    assert got.returncode == 0, got.stdout + got.stderr
    assert back.read_bytes() == secret


@needs_fuse
def test_a_killed_device_leaves_no_mount_behind(device_factory: Any) -> None:
    device = device_factory(None)
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.Share", "create", name="vault",
             shareinfo={"encryption": True, "enc_passwd": "vault pass 1"})
    point = device.data_dir / "volume1" / "vault"
    assert os.path.ismount(point)
    (point / "kept.txt").write_bytes(b"kept")
    device.kill()  # SIGKILL: gocryptfs gets SIGTERM (PDEATHSIG) and unmounts itself
    device.start()  # and a stale mount would be cleared at boot
    assert not os.path.exists(point)
    admin = Web(device.url).login()
    assert admin.call("SYNO.Core.Share.Crypto", "mount", name="vault",
                      password="vault pass 1")["success"]
    assert (point / "kept.txt").read_bytes() == b"kept"

    # Harder: gocryptfs itself is killed, leaving a dead mount (ENOTCONN) for the next boot.
    gocryptfs = subprocess.run(["pgrep", "-f", f"gocryptfs .*{point}"], capture_output=True,
                               text=True).stdout.split()
    assert len(gocryptfs) == 1
    os.kill(int(gocryptfs[0]), signal.SIGKILL)
    device.kill()
    with pytest.raises(OSError):
        os.listdir(point)  # the stale mount: "Transport endpoint is not connected"
    device.start()
    assert not os.path.exists(point)
    admin = Web(device.url).login()
    assert admin.call("SYNO.Core.Share.Crypto", "mount", name="vault",
                      password="vault pass 1")["success"]
    assert (point / "kept.txt").read_bytes() == b"kept"


def test_without_gocryptfs_encrypted_shares_are_refused_with_the_reason(
        device_factory: Any) -> None:
    device: DeviceProcess = device_factory(
        None, env={gocrypt.ENV: "/nonexistent/gocryptfs"})
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    refused = admin.call("SYNO.Core.Share", "create", name="vault",
                         shareinfo={"encryption": True, "enc_passwd": "vault pass 1"})
    assert not refused["success"]
    assert not (device.data_dir / "volume1" / "vault").exists()
    assert not (device.data_dir / "volume1" / "@vault@").exists()
    admin.ok("SYNO.Core.Share", "create", name="plain")  # nothing else breaks
    shown = openstation("status", "--data-dir", str(device.data_dir), check=True).stdout
    assert "encrypted shares" in shown and "gocryptfs is not installed" in shown
    request = urllib.request.Request(f"{device.url}/panel/share",
                                     headers={"Cookie": f"id={admin.sid}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        page = response.read().decode()
    assert "Encrypted shared folders are unavailable" in page and "gocryptfs" in page
