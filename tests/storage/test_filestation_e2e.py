"""Shared folders and File Station on a real device process: plain and encrypted shares,
streamed uploads and downloads, permissions, mounts, Key Manager, and Mode 1 / Mode 2."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from openstation.panel import control
from openstation.testing import STRONG, DeviceProcess, openstation, wait_for, wait_for_status

Factory = Callable[..., DeviceProcess]
MB = 1 << 20


class Client:
    def __init__(self, device: DeviceProcess, http: aiohttp.ClientSession, sid: str) -> None:
        self.device, self.http, self.sid = device, http, sid

    async def call(self, api: str, method: str, version: int = 1, **params: Any
                   ) -> dict[str, Any]:
        data = {"api": api, "method": method, "version": str(version), "_sid": self.sid,
                **{k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}}
        async with self.http.post(f"{self.device.url}/webapi/entry.cgi", data=data) as r:
            return dict(await r.json())

    async def upload(self, folder: str, name: str, chunks: AsyncIterator[bytes] | bytes
                     ) -> dict[str, Any]:
        form = aiohttp.FormData()
        form.add_field("path", folder)
        form.add_field("file", chunks, filename=name, content_type="application/octet-stream")
        url = (f"{self.device.url}/webapi/entry.cgi?api=SYNO.FileStation.Upload&version=2"
               f"&method=upload&_sid={self.sid}")
        async with self.http.post(url, data=form) as r:
            return dict(await r.json())

    async def download(self, path: str, headers: dict[str, str] | None = None
                       ) -> tuple[int, bytearray, str]:
        url = (f"{self.device.url}/webapi/entry.cgi?api=SYNO.FileStation.Download&version=2"
               f"&method=download&mode=download&_sid={self.sid}&path={path}")
        async with self.http.get(url, headers=headers) as r:
            body = bytearray()  # chunk by chunk: one 100 MB read() would hold the loop
            async for chunk in r.content.iter_chunked(1 << 20):
                body += chunk
            return r.status, body, r.headers.get("Content-Type", "")


async def sign_in(device: DeviceProcess, http: aiohttp.ClientSession, user: str,
                  password: str) -> Client:
    async with http.post(f"{device.url}/webapi/auth.cgi", data={
            "api": "SYNO.API.Auth", "version": "6", "method": "login", "account": user,
            "passwd": password}) as r:
        body = await r.json()
    assert body["success"], body
    return Client(device, http, body["data"]["sid"])


def panel_reset(data: Path, mode: int) -> None:
    answer = asyncio.run(control.call(data / "system" / "panel.sock", "POST", "/reset",
                                      {"mode": mode}))
    assert answer["accepted"]


@pytest.fixture
def device(device_factory: Factory, tmp_path: Path) -> DeviceProcess:
    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    for user, password in (("bob", "B0b!secret"), ("carol", "C4rol!pass")):
        openstation("user", "create", user, "--password", password, "--data-dir",
                    str(device.data_dir), check=True)
    return device


async def test_plain_share_upload_download_range_and_permissions(device: DeviceProcess
                                                                 ) -> None:
    async with aiohttp.ClientSession() as http:
        alice = await sign_in(device, http, "alice", STRONG)
        made = await alice.call("SYNO.Core.Share", "create", name="photos",
                                permissions={"user:bob": "ro", "user:carol": "na"})
        assert made["success"], made
        digest = hashlib.sha256()

        async def hundred_mb() -> AsyncIterator[bytes]:
            block = os.urandom(MB)
            for n in range(100):
                chunk = block[n:] + block[:n]
                digest.update(chunk)
                yield chunk
                await asyncio.sleep(0)  # the client would send many chunks in one step

        uploaded = await alice.upload("/photos", "big.bin", hundred_mb())
        assert uploaded["success"], uploaded
        assert (device.data_dir / "volume1" / "photos" / "big.bin").stat().st_size == 100 * MB
        status, body, _ = await alice.download("/photos/big.bin")
        received = await asyncio.to_thread(lambda: hashlib.sha256(body).digest())
        assert status == 200 and received == digest.digest()
        status, part, _ = await alice.download("/photos/big.bin",
                                               {"Range": "bytes=1000-1999"})
        assert status == 206 and part == body[1000:2000]
        assert not [p for p in (device.data_dir / "volume1" / "photos").iterdir()
                    if p.name.startswith("@upload")]

        bob = await sign_in(device, http, "bob", "B0b!secret")
        listed = await bob.call("SYNO.FileStation.List", "list", 2, folder_path="/photos")
        assert [f["name"] for f in listed["data"]["files"]] == ["big.bin"]
        assert (await bob.upload("/photos", "x.txt", b"no"))["error"]["code"] == 407
        refused = await bob.call("SYNO.FileStation.Delete", "delete", 2, path="/photos/big.bin")
        assert refused["error"] == {"code": 900, "errors": [{"code": 407,
                                                              "path": "/photos/big.bin"}]}
        carol = await sign_in(device, http, "carol", "C4rol!pass")
        shares = await carol.call("SYNO.FileStation.List", "list_share", 2)
        assert shares["data"]["shares"] == []
        assert (await carol.call("SYNO.FileStation.List", "list", 2, folder_path="/photos")
                )["error"]["code"] == 407

        made = await alice.call("SYNO.FileStation.CreateFolder", "create", 2,
                                folder_path="/photos", name="2024")
        assert made["success"], made
        renamed = await alice.call("SYNO.FileStation.Rename", "rename", 2,
                                   path="/photos/2024", name="2025")
        assert renamed["data"]["files"][0]["path"] == "/photos/2025"
        again = await alice.call("SYNO.FileStation.CreateFolder", "create", 2,
                                 folder_path="/photos", name="2025")
        assert again["error"] == {"code": 1100, "errors": [{"code": 414,
                                                            "path": "/photos/2025"}]}
        for hostile in ("/photos/../photos/big.bin", "/photos/a\x00b", "photos/x",
                        "/photos/@share.json"):
            answer = await alice.call("SYNO.FileStation.List", "getinfo", 2, path=hostile)
            assert answer["error"]["code"] == 418, hostile
        outside = device.data_dir / "outside.txt"
        outside.write_text("not yours")
        (device.data_dir / "volume1" / "photos" / "escape").symlink_to(outside)
        listed = await alice.call("SYNO.FileStation.List", "list", 2, folder_path="/photos")
        assert "escape" not in [f["name"] for f in listed["data"]["files"]]
        status, body, kind = await alice.download("/photos/escape")
        assert kind.startswith("application/json") and b'"code": 418' in body

        refused = await alice.call("SYNO.Core.Share", "delete", name="photos")
        assert refused["error"]["code"] == 120
        assert (await alice.call("SYNO.Core.Share", "delete", name="photos",
                                 confirm="true"))["success"]
        assert not (device.data_dir / "volume1" / "photos").exists()
        assert outside.read_text() == "not yours"


async def test_encrypted_share_mounts_key_files_and_integrity(device: DeviceProcess
                                                              ) -> None:
    async with aiohttp.ClientSession() as http:
        alice = await sign_in(device, http, "alice", STRONG)
        weak = await alice.call("SYNO.Core.Share", "create", name="vault",
                                shareinfo={"encryption": True, "enc_passwd": "short"})
        assert weak["error"]["code"] == 120
        made = await alice.call("SYNO.Core.Share", "create", name="vault",
                                shareinfo={"encryption": True, "enc_passwd": "vault pass 1"})
        assert made["success"], made
        secret = b"my tax return " * 10000
        assert (await alice.upload("/vault", "taxes 2024.pdf", secret))["success"]
        # DSM's layout: the ciphertext in @vault@ (gocryptfs), the plaintext at vault.
        cipher = device.data_dir / "volume1" / "@vault@"
        on_disk = [p for p in cipher.iterdir()
                   if not p.name.startswith(("@", "gocryptfs."))]
        assert len(on_disk) == 1 and "tax" not in on_disk[0].name
        assert b"tax return" not in on_disk[0].read_bytes()
        status, body, _ = await alice.download("/vault/taxes 2024.pdf")
        assert status == 200 and body == secret
        status, part, _ = await alice.download("/vault/taxes 2024.pdf",
                                               {"Range": "bytes=70000-70100"})
        assert status == 206 and part == secret[70000:70101]

        assert (await alice.call("SYNO.Core.Share.Crypto", "unmount", name="vault"))["success"]
        assert not (device.data_dir / "volume1" / "vault").exists()  # no plaintext path
        assert (await alice.call("SYNO.FileStation.List", "list", 2, folder_path="/vault")
                )["error"]["code"] == 407
        status, body, kind = await alice.download("/vault/taxes 2024.pdf")
        assert kind.startswith("application/json") and b'"code": 407' in body
        wrong = await alice.call("SYNO.Core.Share.Crypto", "mount", name="vault",
                                 password="wrong pass 1")
        assert wrong["error"]["code"] == 120
        key_url = (f"{device.url}/webapi/entry.cgi?api=SYNO.Core.Share.Crypto&version=1"
                   f"&method=export_key&name=vault&password=vault%20pass%201&_sid={alice.sid}")
        async with http.get(key_url) as r:
            key_file = await r.read()
        assert b"openstation-share-key" in key_file
        mounted = await alice.call("SYNO.Core.Share.Crypto", "mount", name="vault",
                                   key_file=key_file.decode())
        assert mounted["success"], mounted
        listed = await alice.call("SYNO.FileStation.List", "list", 2, folder_path="/vault",
                                  additional='["size"]')
        assert [f["name"] for f in listed["data"]["files"]] == ["taxes 2024.pdf"]
        assert listed["data"]["files"][0]["additional"]["size"] == len(secret)

        stored = on_disk[0].read_bytes()
        on_disk[0].write_bytes(stored[:40] + bytes([stored[40] ^ 1]) + stored[41:])
        status, body, kind = await alice.download("/vault/taxes 2024.pdf")
        assert status == 200 and kind.startswith("application/json")
        assert b'"code": 417' in body  # an integrity error, never garbage


async def test_key_manager_automount_and_the_reset_modes(device: DeviceProcess) -> None:
    data = device.data_dir
    async with aiohttp.ClientSession() as http:
        alice = await sign_in(device, http, "alice", STRONG)
        assert (await alice.call("SYNO.Core.Share", "create", name="vault",
                                 shareinfo={"encryption": True, "enc_passwd": "vault pass 1"})
                )["success"]
        assert (await alice.upload("/vault", "a.txt", b"alpha"))["success"]
        refused = await alice.call("SYNO.Core.Share", "set", name="vault",
                                   mount_on_startup="true")
        assert refused["error"]["code"] == 120  # Key Manager holds no key yet
        added = await alice.call("SYNO.Core.Share.KeyManager", "add", name="vault",
                                 password="vault pass 1", protection="machine")
        assert added["success"], added
        assert (await alice.call("SYNO.Core.Share", "set", name="vault",
                                 mount_on_startup="true"))["success"]
    await asyncio.to_thread(device.stop)
    await asyncio.to_thread(device.start)
    async with aiohttp.ClientSession() as http:
        alice = await sign_in(device, http, "alice", STRONG)
        _, body, _ = await alice.download("/vault/a.txt")
        assert body == b"alpha"  # mounted at boot from Key Manager
    await asyncio.to_thread(panel_reset, data, 1)
    def reset_logged() -> bool:
        return bool(json.loads(openstation("log", "--data-dir", str(data), "--resets",
                                           "--json", check=True).stdout))

    await asyncio.to_thread(wait_for, reset_logged, 5)
    async with aiohttp.ClientSession() as http:
        alice = await sign_in(device, http, "alice", STRONG)
        got = await alice.call("SYNO.Core.Share", "get", name="vault")
        assert got["data"]["is_mounted"] is False and got["data"]["mount_on_startup"] is False
        keys = await alice.call("SYNO.Core.Share.KeyManager", "list")
        assert keys["data"]["keys"] == []
        assert (await alice.call("SYNO.Core.Share.Crypto", "mount", name="vault",
                                 password="vault pass 1"))["success"]
        assert (await alice.download("/vault/a.txt"))[1] == b"alpha"
    await asyncio.to_thread(panel_reset, data, 2)
    await asyncio.to_thread(wait_for_status, data, "Configuration lost", 10)
    await asyncio.to_thread(device.refresh)
    installed = await asyncio.to_thread(device.install, "nas2", "dora", "D0ra!pass")
    assert installed.returncode == 0
    async with aiohttp.ClientSession() as http:
        dora = await sign_in(device, http, "dora", "D0ra!pass")
        got = await dora.call("SYNO.Core.Share", "get", name="vault")
        assert got["data"]["encryption"] == 1 and got["data"]["is_mounted"] is False
        assert (await dora.call("SYNO.Core.Share.Crypto", "mount", name="vault",
                                password="vault pass 1"))["success"]
        assert (await dora.download("/vault/a.txt"))[1] == b"alpha"


def test_share_cli(device: DeviceProcess, tmp_path: Path) -> None:
    d = ("--data-dir", str(device.data_dir))
    openstation("share", "create", "docs", *d, check=True)
    openstation("share", "create", "safe", "--encrypted", "--passphrase", "safe pass 1", *d,
                check=True)
    listed = json.loads(openstation("share", "list", "--json", *d, check=True).stdout)
    assert {s["name"]: s["is_mounted"] for s in listed} == {"docs": True, "safe": True}
    key = tmp_path / "safe.key"
    openstation("share", "export-key", "safe", "-o", str(key), "--passphrase", "safe pass 1",
                *d, check=True)
    openstation("share", "unmount", "safe", *d, check=True)
    bad = openstation("share", "mount", "safe", "--passphrase", "nope nope", *d)
    assert bad.returncode == 1 and "wrong passphrase" in bad.stderr
    openstation("share", "mount", "safe", "--key-file", str(key), *d, check=True)
    refused = openstation("share", "delete", "docs", *d, input_text="n\n")
    assert refused.returncode == 1 and (device.data_dir / "volume1" / "docs").exists()
    openstation("share", "delete", "docs", "--yes", *d, check=True)
    assert not (device.data_dir / "volume1" / "docs").exists()


async def test_an_upload_bigger_than_the_free_space_is_refused_untouched(
        device: DeviceProcess) -> None:
    import http.client
    import shutil

    async with aiohttp.ClientSession() as http_session:
        alice = await sign_in(device, http_session, "alice", STRONG)
        assert (await alice.call("SYNO.Core.Share", "create", name="photos"))["success"]
        sid = alice.sid
    free = shutil.disk_usage(device.data_dir / "volume1").free
    boundary = "openstation-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n/photos\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"huge.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    port = device.runtime["ports"]["http"]

    def send() -> dict[str, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.putrequest("POST", "/webapi/entry.cgi?api=SYNO.FileStation.Upload&version=2"
                                f"&method=upload&_sid={sid}")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(free + 10 * MB))  # more than the volume holds
        conn.endheaders()
        conn.send(head + b"x" * (256 * 1024))  # the start of a body that could never fit
        answer: dict[str, Any] = json.loads(conn.getresponse().read())
        conn.close()
        return answer

    answer = await asyncio.to_thread(send)
    assert answer["error"]["code"] == 416
    assert [p.name for p in (device.data_dir / "volume1" / "photos").iterdir()] == [
        "@share.json"]
