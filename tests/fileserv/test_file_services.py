"""SMB (the device's smbd) and SFTP (asyncssh) on a real device, with real clients: the one
permission model on every way in, the clients' surface, sessions ending, attacks."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import stat
import subprocess
import uuid
from pathlib import Path
from typing import Any

import asyncssh
import pytest
import smbclient
from smbprotocol.exceptions import SMBOSError

from openstation.testing import Web, openstation, wait_for
from tests.fileserv.conftest import (
    EXPECTED,
    PASSWORDS,
    Served,
    dav,
    needs_samba,
    rsync,
    run,
    sftp,
)

pytestmark = needs_samba


# --- the ways in --------------------------------------------------------------------------

def smb_session(served: Served, user: str, password: str | None = None) -> dict[str, Any]:
    """smbprotocol's keyword arguments for one user's own connection."""
    return {"username": user, "password": PASSWORDS[user] if password is None else password,
            "port": served.smb_port, "connection_cache": {}}


def smb_path(share: str, *parts: str) -> str:
    return "\\\\127.0.0.1\\" + "\\".join([share, *parts])


def smb_can(served: Served, user: str, share: str) -> tuple[bool, bool]:
    session = smb_session(served, user)
    read = write = False
    with contextlib.suppress(Exception), \
            smbclient.open_file(smb_path(share, "seed.txt"), "rb", **session) as f:
        read = f.read() == f"seed of {share}".encode()
    name = f"smb-{user}-{uuid.uuid4().hex[:6]}.txt"
    with contextlib.suppress(Exception):
        with smbclient.open_file(smb_path(share, name), "wb", **session) as f:
            f.write(b"written over SMB")
        write = True
    for conn in session["connection_cache"].values():
        conn.disconnect()
    return read, write and (served.volume / share / name).read_bytes() == b"written over SMB"


def sftp_can(served: Served, user: str, share: str) -> tuple[bool, bool]:
    name = f"sftp-{user}-{uuid.uuid4().hex[:6]}.txt"

    async def both() -> tuple[bool, bool]:
        async with sftp(served.sftp_port, user) as conn, conn.start_sftp_client() as client:
            read = write = False
            with contextlib.suppress(asyncssh.SFTPError):
                async with client.open(f"/{share}/seed.txt", "rb") as f:
                    read = await f.read() == f"seed of {share}".encode()
            with contextlib.suppress(asyncssh.SFTPError):
                async with client.open(f"/{share}/{name}", "wb") as f:
                    await f.write(b"written over SFTP")
                write = True
            return read, write

    read, write = run(both())
    return read, write and (served.volume / share / name).read_bytes() == b"written over SFTP"


def file_station_can(served: Served, user: str, share: str) -> tuple[bool, bool]:
    web = Web(served.device.url).login(user, PASSWORDS[user])
    read = False
    with contextlib.suppress(Exception):
        read = web.download(f"/{share}/seed.txt") == f"seed of {share}".encode()
    name = f"fs-{user}-{uuid.uuid4().hex[:6]}.txt"
    write = bool(web.upload(f"/{share}", name, b"written over HTTP")["success"])
    return read, write and (served.volume / share / name).read_bytes() == b"written over HTTP"


def webdav_can(served: Served, user: str, share: str) -> tuple[bool, bool]:
    status, body = dav(f"{served.webdav_url}/{share}/seed.txt", "GET", user)
    read = status == 200 and body == f"seed of {share}".encode()
    name = f"dav-{user}-{uuid.uuid4().hex[:6]}.txt"
    status, _ = dav(f"{served.webdav_url}/{share}/{name}", "PUT", user, b"written over DAV")
    return read, status in (201, 204) and \
        (served.volume / share / name).read_bytes() == b"written over DAV"


def rsync_can(served: Served, user: str, share: str) -> tuple[bool, bool]:
    work = served.device.data_dir.parent / f"rsync-{user}-{uuid.uuid4().hex[:6]}"
    work.mkdir()
    pulled = rsync(served, work, user, f"{user}@127.0.0.1::{share}/seed.txt", f"{work}/")
    read = pulled.returncode == 0 and (work / "seed.txt").read_text() == f"seed of {share}"
    name = f"rsync-{user}-{uuid.uuid4().hex[:6]}.txt"
    (work / name).write_text("written over rsync")
    pushed = rsync(served, work, user, str(work / name), f"{user}@127.0.0.1::{share}/")
    return read, pushed.returncode == 0 and \
        (served.volume / share / name).read_text() == "written over rsync"


WAYS = {"File Station": file_station_can, "SMB": smb_can, "SFTP": sftp_can,
        "WebDAV": webdav_can, "rsync": rsync_can}


def test_one_permission_model_on_every_way_in(served: Served) -> None:
    """3 users by 3 shares by File Station, SMB, SFTP, WebDAV and rsync, read and write:
    every cell as the share's rights say."""
    got: dict[tuple[str, str, str], tuple[bool, bool]] = {}
    for user, share in EXPECTED:
        for way, can in WAYS.items():
            got[(user, share, way)] = can(served, user, share)
    wanted = {(user, share, way): (right != "na", right == "rw")
              for (user, share), right in EXPECTED.items() for way in WAYS}
    wrong = {cell: (got[cell], want) for cell, want in wanted.items() if got[cell] != want}
    assert not wrong, wrong


# --- the clients' surface -------------------------------------------------------------------

def smbclient_cli(served: Served, user: str, share: str, commands: str,
                  password: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["smbclient", f"//127.0.0.1/{share}", "-p", str(served.smb_port), "-U",
         f"{user}%{PASSWORDS[user] if password is None else password}", "-c", commands],
        capture_output=True, text=True, timeout=60)


def test_smbclient_and_smbprotocol_list_put_get_mkdir_rename_delete(served: Served,
                                                                    tmp_path: Path) -> None:
    source = tmp_path / "a.bin"
    source.write_bytes(os.urandom(300_000))
    listing = subprocess.run(["smbclient", "-L", "127.0.0.1", "-p", str(served.smb_port),
                              "-U", f"bob%{PASSWORDS['bob']}"], capture_output=True,
                             text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert "alpha" in listing.stdout and "beta" not in listing.stdout  # access-based
    done = smbclient_cli(served, "bob", "alpha", f"mkdir d; cd d; put {source} a.bin; "
                         f"rename a.bin b.bin; get b.bin {tmp_path / 'back.bin'}; ls")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
    assert (served.volume / "alpha" / "d" / "b.bin").read_bytes() == source.read_bytes()
    gone = smbclient_cli(served, "bob", "alpha", "cd d; del b.bin; cd ..; rmdir d")
    assert gone.returncode == 0 and not (served.volume / "alpha" / "d").exists()

    session = smb_session(served, "carol")
    root = smb_path("gamma")
    smbclient.mkdir(smb_path("gamma", "new"), **session)
    with smbclient.open_file(smb_path("gamma", "new", "x.txt"), "wb", **session) as f:
        f.write(b"x" * 70_000)
    smbclient.rename(smb_path("gamma", "new", "x.txt"), smb_path("gamma", "new", "y.txt"),
                     **session)
    assert sorted(smbclient.listdir(root, **session)) == ["new", "seed.txt"]
    with smbclient.open_file(smb_path("gamma", "new", "y.txt"), "rb", **session) as f:
        assert f.read() == b"x" * 70_000
    assert smbclient.stat(smb_path("gamma", "new", "y.txt"), **session).st_size == 70_000
    smbclient.remove(smb_path("gamma", "new", "y.txt"), **session)
    smbclient.rmdir(smb_path("gamma", "new"), **session)
    assert sorted(os.listdir(served.volume / "gamma")) == ["@share.json", "seed.txt"]
    # What File Station sees of a file SMB wrote: the same bytes, the device's owner
    web = Web(served.device.url).login("carol", PASSWORDS["carol"])
    with smbclient.open_file(smb_path("gamma", "z.txt"), "wb", **session) as f:
        f.write(b"seen by all")
    assert web.download("/gamma/z.txt") == b"seen by all"
    assert (served.volume / "gamma" / "z.txt").stat().st_uid == os.getuid()


def test_sftp_client_surface_and_rclone(served: Served, tmp_path: Path) -> None:
    async def session() -> None:
        async with sftp(served.sftp_port, "bob") as conn, conn.start_sftp_client() as client:
            assert sorted(await client.listdir("/")) == [".", "..", "alpha"]
            await client.mkdir("/alpha/box")
            local = tmp_path / "up.bin"
            local.write_bytes(os.urandom(200_000))
            await client.put(str(local), "/alpha/box/up.bin")
            await client.rename("/alpha/box/up.bin", "/alpha/box/moved.bin")
            await client.get("/alpha/box/moved.bin", str(tmp_path / "down.bin"))
            assert (tmp_path / "down.bin").read_bytes() == local.read_bytes()
            assert (await client.stat("/alpha/box/moved.bin")).size == 200_000
            assert await client.realpath("/alpha/../alpha/./box") == "/alpha/box"
            await client.remove("/alpha/box/moved.bin")
            await client.rmdir("/alpha/box")
            with pytest.raises(asyncssh.SFTPError):
                await client.mkdir("/newshare")  # shares are made in Control Panel
            with pytest.raises(asyncssh.SFTPError):
                await client.symlink("/alpha/seed.txt", "/alpha/link")

    run(session())
    config = tmp_path / "rclone.conf"
    obscured = subprocess.run(["rclone", "obscure", PASSWORDS["carol"]], capture_output=True,
                              text=True, check=True).stdout.strip()
    config.write_text(f"[nas]\ntype = sftp\nhost = 127.0.0.1\nport = {served.sftp_port}\n"
                      f"user = carol\npass = {obscured}\nshell_type = none\n"
                      "disable_hashcheck = true\n")
    tree = tmp_path / "tree"
    for n in range(20):
        (tree / f"d{n % 3}").mkdir(parents=True, exist_ok=True)
        (tree / f"d{n % 3}" / f"f{n}.txt").write_text(f"file {n}" * n)
    rclone = ["rclone", "--config", str(config), "--low-level-retries", "1", "--retries", "1"]
    for verb in ("copy", "sync", "check"):
        done = subprocess.run([*rclone, verb, str(tree), "nas:gamma/tree"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (verb, done.stderr[-2000:])
    assert (served.volume / "gamma" / "tree" / "d1" / "f4.txt").read_text() == "file 4" * 4
    refused = subprocess.run([*rclone, "copy", str(tree), "nas:beta/tree"],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and not (served.volume / "beta" / "tree").exists()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def test_a_gibibyte_over_smb_and_a_large_file_over_sftp_come_back_whole(
        served: Served, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    with big.open("wb") as f:
        for n in range(1024):
            f.write(n.to_bytes(8, "big") + block[8:])  # 1 GiB, no two MiB alike
    digest = sha256_of(big)
    put = smbclient_cli(served, "alice", "alpha", f"put {big} big.bin; "
                        f"get big.bin {tmp_path / 'smb.bin'}")
    assert put.returncode == 0, put.stderr
    assert sha256_of(served.volume / "alpha" / "big.bin") == digest
    assert sha256_of(tmp_path / "smb.bin") == digest
    (tmp_path / "smb.bin").unlink()
    (served.volume / "alpha" / "big.bin").unlink()

    part = tmp_path / "part.bin"
    with big.open("rb") as source, part.open("wb") as f:
        f.write(source.read(256 << 20))
    big.unlink()

    async def sftp_round() -> None:
        async with sftp(served.sftp_port, "alice") as conn, conn.start_sftp_client() as c:
            await c.put(str(part), "/beta/part.bin")
            await c.get("/beta/part.bin", str(tmp_path / "sftp.bin"))

    run(sftp_round())
    assert sha256_of(tmp_path / "sftp.bin") == sha256_of(part)
    assert sha256_of(served.volume / "beta" / "part.bin") == sha256_of(part)


# --- settings -------------------------------------------------------------------------------

def test_file_services_settings_over_the_web_api_and_the_cli(served: Served) -> None:
    smb = served.services()
    assert smb["enable_samba"] is True and smb["workgroup"] == "WORKGROUP"
    assert smb["status"]["state"] == "running" and "enable_op_lock" in smb
    sftp_get = served.admin.ok("SYNO.Core.FileServ.FTP.SFTP", "get")
    assert sftp_get["enable"] is True and sftp_get["portnum"] == 22
    bad = served.admin.call("SYNO.Core.FileServ.SMB", "set", workgroup="no spaces here")
    assert not bad["success"]
    clash = served.admin.call("SYNO.Core.FileServ.FTP.SFTP", "set", portnum="5001")
    assert not clash["success"]
    bob = Web(served.device.url).login("bob", PASSWORDS["bob"])
    assert bob.call("SYNO.Core.FileServ.SMB", "set", enable_samba="false")["error"][
        "code"] == 105
    info = served.admin.ok("SYNO.API.Info", "query", query="SYNO.Core.FileServ.")
    assert {"SYNO.Core.FileServ.SMB", "SYNO.Core.FileServ.FTP.SFTP"} <= set(info)

    data = str(served.device.data_dir)
    off = openstation("service", "set", "smb", "--off", "--data-dir", data, "--json",
                      check=True)
    assert '"state": "stopped"' in off.stdout
    assert smbclient_cli(served, "alice", "alpha", "ls").returncode != 0
    on = openstation("service", "set", "smb", "--on", "--workgroup", "HOME", "--data-dir",
                     data, "--json", check=True)
    assert '"state": "running"' in on.stdout
    served.refresh()
    wait_for(lambda: smbclient_cli(served, "alice", "alpha", "ls").returncode == 0, 10)
    listed = openstation("service", "list", "--data-dir", data, check=True).stdout
    assert "smb" in listed and "sftp" in listed and "running" in listed
    shown = openstation("status", "--data-dir", data, check=True).stdout
    assert re.search(r"smb\s+running, port \d+", shown), shown
    logged = openstation("log", "--data-dir", data, "--json", check=True).stdout
    assert '"started"' in logged and "smbd" in logged  # the daemon's life in Log Center


# --- sessions end; the blank admin; attacks --------------------------------------------------

def test_a_disabled_account_and_a_reset_end_every_session(served: Served) -> None:
    data = str(served.device.data_dir)

    async def hold_and_watch() -> None:
        async with sftp(served.sftp_port, "bob") as conn, conn.start_sftp_client() as client:
            assert await client.listdir("/alpha")
            await asyncio.to_thread(openstation, "user", "disable", "bob", "--data-dir", data,
                                    check=True)
            await asyncio.wait_for(conn.wait_closed(), 10)

    run(hold_and_watch())
    assert smb_can(served, "bob", "alpha") == (False, False)
    with pytest.raises(asyncssh.PermissionDenied):
        run(_login_only(served, "bob"))

    def smbd_pid() -> object:
        listed = openstation("service", "list", "--data-dir", data, "--json", check=True)
        return json.loads(listed.stdout)["smb"].get("pid")

    before = smbd_pid()

    async def reset_while_connected() -> None:
        async with sftp(served.sftp_port, "carol") as conn, conn.start_sftp_client() as c:
            assert await c.listdir("/gamma")
            await asyncio.to_thread(openstation, "panel", "reset", "--mode", "1",
                                    "--data-dir", data, check=True)
            await asyncio.wait_for(conn.wait_closed(), 10)

    run(reset_while_connected())
    wait_for(lambda: smbd_pid() not in (None, before), 20)  # smbd and its sessions ended
    # Mode 1's blank admin can use no file service
    with pytest.raises(asyncssh.PermissionDenied):
        run(_login_only(served, "admin", ""))
    assert smbclient_cli(served, "admin", "alpha", "ls", password="").returncode != 0
    # Mode 1 leaves file services on, and the other accounts keep using them
    assert sftp_can(served, "carol", "gamma") == (True, True)
    assert smb_can(served, "carol", "gamma") == (True, True)


async def _login_only(served: Served, user: str, password: str | None = None) -> None:
    async with sftp(served.sftp_port, user, password):
        pass


def test_strangers_and_hostile_paths_are_refused(served: Served) -> None:
    alpha = served.volume / "alpha"
    (alpha / "@eaDir").mkdir()
    (alpha / "@eaDir" / "secret").write_text("device's own")
    os.symlink("/etc", alpha / "etc-link")
    os.symlink(served.volume / "gamma" / "seed.txt", alpha / "gamma-link")

    async def as_bob() -> None:
        async with sftp(served.sftp_port, "bob") as conn, conn.start_sftp_client() as client:
            names = await client.listdir("/alpha")
            assert "@eaDir" not in names and "etc-link" not in names
            for path in ("/alpha/@eaDir/secret", "/alpha/etc-link/passwd",
                         "/alpha/gamma-link", "/alpha/../gamma/seed.txt", "/gamma/seed.txt",
                         "/../../etc/passwd"):
                with pytest.raises(asyncssh.SFTPError):
                    async with client.open(path, "rb") as f:
                        await f.read()
            with pytest.raises(asyncssh.SFTPError):
                await client.rename("/alpha/seed.txt", "/gamma/stolen.txt")

    run(as_bob())
    session = smb_session(served, "bob")
    assert "@eaDir" not in smbclient.listdir(smb_path("alpha"), **session)
    for parts in (("@eaDir", "secret"), ("etc-link", "passwd"), ("gamma-link",)):
        with pytest.raises(SMBOSError), \
                smbclient.open_file(smb_path("alpha", *parts), "rb", **session) as f:
            f.read()
    # A stranger: wrong passwords are refused, counted, and end in Auto Block
    served.admin.ok("SYNO.Core.Security.AutoBlock", "set", enable="true", attempts="4",
                    within_mins="5", expire_day="0")
    for _ in range(2):
        assert smbclient_cli(served, "alice", "alpha", "ls", password="wrong").returncode
        with pytest.raises(asyncssh.PermissionDenied):
            run(_login_only(served, "alice", "wrong"))
    def blocked() -> bool:  # smbd's sign-in log is read twice a second
        return "127.0.0.1" in openstation("config", "get", "autoblock", "--data-dir",
                                          str(served.device.data_dir), check=True).stdout

    wait_for(blocked, 10)


def test_a_guesser_over_smb_is_cut_off_by_the_rate_limit(served: Served) -> None:
    """Auto Block is off (DSM's default), yet 20 wrong passwords a minute from one address
    make smbd refuse it, the right password included, and drop its connections."""
    for _ in range(21):
        smbclient_cli(served, "alice", "alpha", "ls", password="guess")

    def refused() -> bool:
        return smbclient_cli(served, "alice", "alpha", "ls").returncode != 0

    wait_for(refused, 10)
    config = (served.device.data_dir / "system" / "smb" / "smb.conf").read_text()
    assert "hosts deny = 127.0.0.1" in config


def test_fifos_and_device_nodes_are_not_opened(served: Served, tmp_path: Path) -> None:
    alpha = served.volume / "alpha"
    os.mkfifo(alpha / "pipe")

    async def as_bob() -> None:
        async with sftp(served.sftp_port, "bob") as conn, conn.start_sftp_client() as c:
            with pytest.raises(asyncssh.SFTPError):
                async with c.open("/alpha/pipe", "rb") as f:
                    await f.read()

    run(as_bob())  # refused at once: no worker thread hangs in open()
    assert dav(f"{served.webdav_url}/alpha/pipe", "GET", "bob")[0] == 403
    if os.geteuid() == 0:  # a client's device node arrives as a plain, empty file
        source = tmp_path / "nodes"
        source.mkdir()
        os.mknod(source / "disk", 0o600 | stat.S_IFBLK, os.makedev(8, 0))
        pushed = rsync(served, tmp_path, "bob", "-a", f"{source}/", "bob@127.0.0.1::alpha/n/")
        assert pushed.returncode == 0, pushed.stderr
        arrived = (alpha / "n" / "disk").lstat()
        assert stat.S_ISREG(arrived.st_mode) and arrived.st_size == 0
