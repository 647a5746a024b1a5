"""Attack 2: large bodies read before any check.

Before: four 60 MiB multipart POSTs to auth.cgi, query.cgi, /login and the UIConfig endpoint
took the device from 102 to 438 MiB RSS: every body was read whole before anything looked
at it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from openstation.device import Device
from tests.security.conftest import closed_within, connect
from tests.webapi.conftest import Api

HUGE = 60 << 20
STRANGERS_ENDPOINTS = [
    "/webapi/auth.cgi", "/webapi/query.cgi", "/login",
    "/webapi/entry.cgi?api=SYNO.API.Auth.UIConfig&version=1&method=get",
]


async def answer_before_the_body(port: int, path: str, content_type: str, length: int,
                                 extra: str = "", source: str = "127.0.0.2"
                                 ) -> tuple[bytes, bytes]:
    """Send only the head of a request announcing `length` bytes: the device must answer
    and close without waiting for the body."""
    reader, writer = await connect(port, source)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: nas\r\nContent-Type: {content_type}\r\n"
                 f"Content-Length: {length}\r\n{extra}\r\n".encode() + b"x" * 1000)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 3)
    body = await asyncio.wait_for(reader.read(65536), 3)
    assert await closed_within(reader, 3)
    writer.close()
    return head, body


@pytest.mark.parametrize("path", STRANGERS_ENDPOINTS)
async def test_a_strangers_huge_body_is_refused_unread(device: Device, path: str) -> None:
    head, body = await answer_before_the_body(device.ports["http"], path,
                                              "multipart/form-data; boundary=b", HUGE)
    if path.startswith("/webapi/"):
        assert json.loads(body)["error"]["code"] == 120
    else:
        assert head.startswith(b"HTTP/1.1 413")


async def test_a_strangers_form_is_limited_to_64_kib(device: Device) -> None:
    _, body = await answer_before_the_body(
        device.ports["http"], "/webapi/auth.cgi", "application/x-www-form-urlencoded",
        (64 << 10) + 1)
    assert json.loads(body)["error"]["code"] == 120


async def test_a_chunked_body_is_cut_off_at_the_limit(device: Device, api: Api) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"api=SYNO.API.Auth&version=6&method=login&account=alice&passwd="
        for _ in range(64):  # 4 MiB, no Content-Length
            yield b"a" * (64 << 10)

    async with api.http.post(f"{api.base}/webapi/auth.cgi", data=chunks(),
                             headers={"Content-Type": "application/x-www-form-urlencoded"}
                             ) as response:
        answer = await response.json()
    assert answer["error"]["code"] == 120


async def test_a_signed_in_form_is_limited_to_1_mib(device: Device, api: Api) -> None:
    sid = await api.sid()
    answer = await api.call("SYNO.Core.User", "set", _sid=sid, name="alice",
                            description="d" * (1 << 20))
    assert answer["error"]["code"] == 120


async def test_multipart_only_on_uploads_and_only_signed_in(device: Device, api: Api) -> None:
    sid = await api.sid()
    port = device.ports["http"]
    _, body = await answer_before_the_body(
        port, f"/webapi/entry.cgi?api=SYNO.Core.User&version=1&method=create&_sid={sid}",
        "multipart/form-data; boundary=b", 10_000, source="127.0.0.1")
    assert json.loads(body)["error"]["code"] == 120
    _, body = await answer_before_the_body(
        port, "/webapi/entry.cgi?api=SYNO.FileStation.Upload&version=2&method=upload",
        "multipart/form-data; boundary=b", HUGE)
    assert json.loads(body)["error"]["code"] == 120  # no session in the query or cookie


async def test_an_administrators_upload_is_refused_unread_to_anyone_else(device: Device,
                                                                         api: Api) -> None:
    admin = await api.sid()
    assert (await api.call("SYNO.Core.User", "create", _sid=admin, name="bob",
                           password="B0b!secret"))["success"]
    bob = await api.sid("bob", "B0b!secret")
    _, body = await answer_before_the_body(
        device.ports["http"], "/webapi/entry.cgi?api=SYNO.Core.ConfigBackup&version=1"
        f"&method=restore&_sid={bob}", "multipart/form-data; boundary=b", HUGE,
        source="127.0.0.1")
    assert json.loads(body)["error"]["code"] == 120
    head, _ = await answer_before_the_body(
        device.ports["http"], "/panel/restore/preview?csrf=x",
        "multipart/form-data; boundary=b", HUGE, extra=f"Cookie: id={bob}\r\n",
        source="127.0.0.1")
    assert head.startswith(b"HTTP/1.1 413")


async def test_a_page_post_is_refused_before_its_body_without_a_session(device: Device
                                                                        ) -> None:
    head, _ = await answer_before_the_body(device.ports["http"], "/panel/user/create",
                                           "application/x-www-form-urlencoded", HUGE)
    assert head.startswith(b"HTTP/1.1 413")
    head, _ = await answer_before_the_body(
        device.ports["http"], "/panel/restore/preview", "multipart/form-data; boundary=b",
        HUGE, extra="Cookie: id=stolen-or-guessed\r\n")
    assert head.startswith(b"HTTP/1.1 413")


async def test_an_upload_page_checks_its_csrf_token_before_reading(device: Device,
                                                                   api: Api) -> None:
    sid = await api.sid()
    head, _ = await answer_before_the_body(
        device.ports["http"], "/panel/restore/preview?csrf=wrong",
        "multipart/form-data; boundary=b", 10 << 20, extra=f"Cookie: id={sid}\r\n",
        source="127.0.0.1")
    assert head.startswith(b"HTTP/1.1 403")
