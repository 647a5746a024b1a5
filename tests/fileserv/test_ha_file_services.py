"""What clients write over SMB, SFTP, WebDAV and rsync on the active of an HA pair reaches
the passive, as File Station's writes do."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import smbclient

from openstation.storage import gocrypt
from openstation.testing import STRONG, DeviceProcess, Web, wait_for
from tests.cluster.test_ha_pair import create, digest
from tests.fileserv.conftest import Served, dav, needs_samba, rsync, run, sftp

pytestmark = needs_samba


def test_file_service_writes_reach_the_passive(
        device_factory: Callable[..., DeviceProcess], tmp_path: Path) -> None:
    active = device_factory(tmp_path / "a", file_services=True)
    passive = device_factory(tmp_path / "b", file_services=True)
    for device, name in ((active, "nas-a"), (passive, "nas-b")):
        assert device.install(name).returncode == 0
    assert create(active, passive)["role"] == "active"
    admin = Web(active.url).login()
    admin.ok("SYNO.Core.Share", "create", name="docs")
    for api in ("SYNO.Core.FileServ.FTP.SFTP", "SYNO.Backup.Service.NetworkBackup",
                "SYNO.Core.FileServ.WebDAV"):
        admin.ok(api, "set", enable="true")
    active.refresh()
    served = Served(active, admin)

    # SMB: a file, a folder, a rename and a deletion
    session = {"username": "alice", "password": STRONG, "port": served.smb_port,
               "connection_cache": {}}
    share = "\\\\127.0.0.1\\docs"
    with smbclient.open_file(share + "\\smb.bin", "wb", **session) as f:
        f.write(os.urandom(300_000))
    smbclient.mkdir(share + "\\folder", **session)
    with smbclient.open_file(share + "\\folder\\old.txt", "wb", **session) as f:
        f.write(b"renamed over SMB")
    smbclient.rename(share + "\\folder\\old.txt", share + "\\folder\\new.txt", **session)
    with smbclient.open_file(share + "\\gone.txt", "wb", **session) as f:
        f.write(b"x")
    smbclient.remove(share + "\\gone.txt", **session)
    for conn in session["connection_cache"].values():
        conn.disconnect()

    async def over_sftp() -> None:
        async with sftp(served.sftp_port, "alice") as conn, conn.start_sftp_client() as c:
            async with c.open("/docs/sftp.txt", "wb") as f:
                await f.write(b"written over SFTP")
            await c.mkdir("/docs/sftp-dir")

    run(over_sftp())
    assert dav(f"{served.webdav_url}/docs/dav.txt", "PUT", "alice", b"over WebDAV")[0] == 201
    assert dav(f"{served.webdav_url}/docs/dav-dir", "MKCOL", "alice")[0] == 201
    tree = tmp_path / "tree"
    (tree / "in").mkdir(parents=True)
    (tree / "in" / "r.txt").write_text("over rsync")
    assert rsync(served, tmp_path, "alice", "-a", f"{tree}/",
                 "alice@127.0.0.1::docs/synced/").returncode == 0

    # An encrypted share: its ciphertext travels (a name long enough for gocryptfs to keep
    # it in a .name file too), its plaintext never does.
    encrypted = gocrypt.unavailable() is None
    if encrypted:
        admin.ok("SYNO.Core.Share", "create", name="vault",
                 shareinfo={"encryption": True, "enc_passwd": "vault pass 1"})
        session = {"username": "alice", "password": STRONG, "port": served.smb_port,
                   "connection_cache": {}}
        vault = "\\\\127.0.0.1\\vault"
        wait_for(lambda: _reachable(vault, session), 10)  # smbd serves it once mounted
        long_name = "l" * 200 + ".txt"
        for name, body in (("secret.txt", b"PLAINTEXT over SMB"), (long_name, b"long"),
                           ("old.txt", b"renamed")):
            with smbclient.open_file(f"{vault}\\{name}", "wb", **session) as f:
                f.write(body)
        smbclient.rename(f"{vault}\\old.txt", f"{vault}\\new.txt", **session)
        for conn in session["connection_cache"].values():
            conn.disconnect()

    expected = {"docs/smb.bin", "docs/folder", "docs/folder/new.txt", "docs/sftp.txt",
                "docs/sftp-dir", "docs/dav.txt", "docs/dav-dir", "docs/synced/in/r.txt"}

    def mirrored() -> bool:
        theirs = digest(passive.data_dir)
        return expected <= set(theirs) and theirs == digest(active.data_dir)

    wait_for(mirrored, 30)
    if encrypted:
        theirs = digest(passive.data_dir)
        shipped = [rel for rel in theirs if rel.startswith("@vault@/")]
        files = [rel for rel in shipped if rel not in (
            "@vault@/gocryptfs.conf", "@vault@/gocryptfs.diriv", "@vault@/@share.json")]
        longname = [rel for rel in files if rel.startswith("@vault@/gocryptfs.longname.")]
        assert len(files) == 4 and len(longname) == 2  # secret, new; the long name, its .name
        assert not (passive.data_dir / "volume1" / "vault").exists()
        for rel in shipped:
            path = passive.data_dir / "volume1" / rel
            assert "secret" not in rel and "new.txt" not in rel
            assert path.is_dir() or b"PLAINTEXT" not in path.read_bytes()
    assert "docs/gone.txt" not in digest(passive.data_dir)
    # The settings are the pair's; the passive serves no SMB (what smbd wrote there would
    # never reach the active)
    mirror = Web(passive.url).login()
    assert mirror.ok("SYNO.Core.FileServ.FTP.SFTP", "get")["enable"] is True
    status = mirror.ok("SYNO.Core.FileServ.SMB", "get")["status"]
    assert status["state"] == "stopped" and "passive" in status["why"]


def _reachable(share: str, session: dict[str, object]) -> bool:
    try:
        smbclient.listdir(share, **session)  # type: ignore[arg-type]
    except Exception:
        return False
    return True
