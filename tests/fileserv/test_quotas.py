"""A shared folder's quota on every way in: File Station, SFTP and WebDAV refuse what would
pass it before writing; SMB clients see the quota as the share's size, and once SMB has
filled the share, SMB and rsync find it read only until a delete makes room again. A user
without rights cannot set one; a bad quota is refused and changes nothing."""

from __future__ import annotations

import base64
import http.client
import json
import time
from typing import Any

import asyncssh
import smbclient
from smbprotocol.exceptions import SMBException, SMBOSError

from openstation.testing import Web, wait_for
from tests.fileserv.conftest import PASSWORDS, Served, dav, needs_samba, rsync, run, sftp

pytestmark = needs_samba
MIB = 1 << 20
NTSTATUS = {0xC0000022: "access denied", 0xC00000A2: "media write protected"}
REFUSED = tuple(NTSTATUS.values())


def smb(served: Served, user: str = "bob") -> dict[str, Any]:
    return {"username": user, "password": PASSWORDS[user], "port": served.smb_port,
            "connection_cache": {}}


def smb_write(served: Served, name: str, size: int) -> None:
    session = smb(served)
    try:
        with smbclient.open_file(f"\\\\127.0.0.1\\alpha\\{name}", mode="wb",
                                 **session) as handle:
            handle.write(b"s" * size)
    finally:
        for conn in session["connection_cache"].values():
            conn.disconnect()


def smb_writes(served: Served, name: str) -> bool:
    try:
        smb_write(served, name, 10)
    except (OSError, ValueError, SMBException):  # refused, or not serving yet
        return False
    return True


def smb_refusal(served: Served, name: str) -> str | None:
    """Samba's status for an SMB write refused (None: written, or not serving yet)."""
    try:
        smb_write(served, name, 10)
    except SMBOSError as exc:
        return NTSTATUS.get(exc.ntstatus, hex(exc.ntstatus))
    except (ValueError, SMBException):  # cannot connect, or smbd restarted under us
        return None
    return None


def smb_size(served: Served) -> int:
    session = smb(served)
    try:
        return int(smbclient.stat_volume("\\\\127.0.0.1\\alpha", **session).total_size)
    finally:
        for conn in session["connection_cache"].values():
            conn.disconnect()


async def sftp_rename(port: int, source: str, target: str) -> str:
    async with sftp(port, "alice") as conn, conn.start_sftp_client() as client:
        try:
            await client.rename(source, target)
        except asyncssh.SFTPError as exc:
            return str(exc.reason)
    return ""


async def sftp_put(port: int, path: str, size: int) -> str:
    async with sftp(port, "bob") as conn, conn.start_sftp_client() as client:
        try:
            async with client.open(path, "wb") as handle:
                for _ in range(size // 65536):
                    await handle.write(b"f" * 65536)
        except asyncssh.SFTPError as exc:
            return str(exc.reason)
    return ""


def dav_chunked(served: Served, path: str, size: int) -> int:
    """A PUT whose body comes in chunks, with no length said up front."""
    port = int(served.webdav_url.rsplit(":", 1)[1])
    token = base64.b64encode(f"bob:{PASSWORDS['bob']}".encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("PUT", path, body=(b"c" * 65536 for _ in range(size // 65536)),
                     headers={"Authorization": f"Basic {token}"}, encode_chunked=True)
        return conn.getresponse().status
    finally:
        conn.close()


def used(served: Served) -> dict[str, Any]:
    volumes = served.admin.ok("SYNO.Core.Quota", "list")["volumes"]
    return {s["name"]: s for s in volumes[0]["shares"]}


def test_a_quota_holds_on_every_way_in(served: Served, tmp_path: Any) -> None:
    alpha = served.volume / "alpha"
    served.admin.ok("SYNO.Core.Share", "set", name="alpha", share_quota=1)  # 1 MB
    shown = served.admin.ok("SYNO.Core.Share", "get", name="alpha")
    assert shown["share_quota"] == 1 and shown["enable_share_quota"] is True
    assert used(served)["alpha"]["share_quota"] == 1 and not used(served)["alpha"]["is_full"]
    assert used(served)["beta"]["enable_share_quota"] is False

    # The device's own ways in: refused up front, nothing left behind.
    bob = Web(served.device.url).login("bob", PASSWORDS["bob"])
    refused = bob.upload("/alpha", "big.bin", b"u" * (2 * MIB))
    assert not refused["success"], refused
    assert "quota" in json.dumps(refused)
    assert dav(served.webdav_url + "/alpha/big.dav", "PUT", "bob", b"d" * (2 * MIB))[0] == 507
    assert dav_chunked(served, "/alpha/chunked.dav", 2 * MIB) == 507
    chunked = alpha / "chunked.dav"
    assert not chunked.exists() or chunked.stat().st_size <= MIB
    chunked.unlink(missing_ok=True)
    why = run(sftp_put(served.sftp_port, "/alpha/big.sftp", 2 * MIB))
    assert "quota" in why
    assert not (alpha / "big.bin").exists() and not (alpha / "big.dav").exists()
    assert sum(p.stat().st_size for p in alpha.rglob("*") if p.is_file()) <= MIB
    (alpha / "big.sftp").unlink(missing_ok=True)  # what SFTP wrote before the refusal
    # near its quota, the share is walked every second: the room is seen again
    wait_for(lambda: used(served)["alpha"]["share_quota_used"] < 0.1, timeout=30)

    # Moved in from a share without a quota: it must fit too.
    (served.volume / "beta" / "moving.bin").write_bytes(b"m" * (2 * MIB))
    assert "quota" in run(sftp_rename(served.sftp_port, "/beta/moving.bin", "/alpha/m.bin"))
    assert dav(served.webdav_url + "/beta/moving.bin", "MOVE", "alice",
               Destination=served.webdav_url + "/alpha/m.bin")[0] == 507
    assert (served.volume / "beta" / "moving.bin").exists() and not (alpha / "m.bin").exists()
    (served.volume / "beta" / "moving.bin").unlink()

    # What fits is written.
    assert bob.upload("/alpha", "small.bin", b"s" * 300_000)["success"]

    # SMB: the share's size is its quota; smbd writes past it, then finds it read only.
    assert smb_size(served) == MIB
    smb_write(served, "smb.bin", 900_000)
    wait_for(lambda: used(served)["alpha"]["is_full"], timeout=30)
    # once smbd has restarted read only, a write is refused (not a connection refused)
    wait_for(lambda: smb_refusal(served, "more.bin") in REFUSED, timeout=30)
    source = tmp_path / "r.txt"
    source.write_text("rsync")
    pushed = rsync(served, tmp_path, "bob", str(source), "bob@127.0.0.1::alpha/")
    assert pushed.returncode != 0 and not (alpha / "r.txt").exists()
    # Another share is not touched by alpha's quota.
    served.admin.ok("SYNO.Core.Share", "set", name="beta", share_quota=0)
    assert Web(served.device.url).login().upload("/beta", "fine.bin", b"b" * (2 * MIB))[
        "success"]

    # A delete makes room: SMB and rsync write again.
    served.admin.ok("SYNO.FileStation.Delete", "delete", 2, path='["/alpha/smb.bin"]')
    wait_for(lambda: not used(served)["alpha"]["is_full"], timeout=45)  # 15 s at least
    wait_for(lambda: smb_writes(served, "more.bin"), timeout=30)  # once smbd has restarted
    assert rsync(served, tmp_path, "bob", str(source), "bob@127.0.0.1::alpha/"
                 ).returncode == 0

    # Lifted: anything fits again.
    served.admin.ok("SYNO.Core.Share", "set", name="alpha", share_quota=0)
    assert bob.upload("/alpha", "big.bin", b"u" * (2 * MIB))["success"]


def test_quota_rights_and_bad_values(served: Served) -> None:
    carol = Web(served.device.url).login("carol", PASSWORDS["carol"])
    assert carol.call("SYNO.Core.Share", "set", name="alpha",
                      share_quota=1)["error"]["code"] == 105
    assert carol.call("SYNO.Core.Quota", "list")["error"]["code"] == 105
    for bad in ("-1", "x", str(1 << 41), "1.5"):
        answer = served.admin.call("SYNO.Core.Share", "set", name="alpha", share_quota=bad)
        assert answer["error"]["code"] == 120, bad
    assert served.admin.ok("SYNO.Core.Share", "get", name="alpha")["share_quota"] == 0


def test_copies_share_the_room_and_rsync_stops_when_it_fills(served: Served,
                                                             tmp_path: Any) -> None:
    """Two copies that each fit but not together: one is refused, whichever runs first. An
    rsync session writing when the share fills is ended."""
    alpha, beta = served.volume / "alpha", served.volume / "beta"
    served.admin.ok("SYNO.Core.Share", "set", name="alpha", share_quota=1)
    for name in ("a.bin", "b.bin"):
        (beta / name).write_bytes(b"c" * 600_000)
    tasks = [served.admin.ok("SYNO.FileStation.CopyMove", "start", 3, path=f'["/beta/{n}"]',
                             dest_folder_path="/alpha")["taskid"] for n in ("a.bin", "b.bin")]
    ends = []
    for task in tasks:
        wait_for(lambda task=task: served.admin.call(
            "SYNO.FileStation.CopyMove", "status", 3, taskid=task).get("data", {}).get(
                "finished") or not served.admin.call("SYNO.FileStation.CopyMove", "status", 3,
                                                     taskid=task)["success"], timeout=30)
        ends.append(served.admin.call("SYNO.FileStation.CopyMove", "status", 3, taskid=task))
    copied = sorted(p.name for p in alpha.glob("*.bin"))
    assert len(copied) == 1, (copied, ends)
    # DSM's per-path error: 416, no room (File Station's code for a full volume)
    assert [e["error"]["errors"] for e in ends if not e["success"]] == [
        [{"code": 416, "path": "/alpha"}]]
    (alpha / copied[0]).unlink()
    wait_for(lambda: used(served)["alpha"]["share_quota_used"] < 0.1, timeout=30)

    source = tmp_path / "slow.bin"
    source.write_bytes(b"r" * (20 * MIB))
    started = time.monotonic()
    slow = rsync(served, tmp_path, "bob", "--bwlimit=1000", str(source),
                 "bob@127.0.0.1::alpha/")
    assert slow.returncode != 0 and time.monotonic() - started < 15  # not 20 s: cut off
    assert not (alpha / "slow.bin").exists()
