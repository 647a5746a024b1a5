"""The fuzz pass over the new limits: hostile header values, tokens and declared body sizes
never produce a 500 or a traceback, and never change anything."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openstation.device import Device
from tests.security.conftest import connect

PATHS = ["/webapi/entry.cgi?api=SYNO.Core.User&version=1&method=create&name=x",
         "/webapi/auth.cgi", "/login", "/panel/user/create", "/panel/restore/preview?csrf=x",
         "/front/button", "/webman/install.cgi"]
HEADER_BYTES = st.binary(min_size=0, max_size=64).filter(
    lambda b: b"\r" not in b and b"\n" not in b)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), token=HEADER_BYTES, cookie=HEADER_BYTES,
       origin=HEADER_BYTES, csrf=st.text(max_size=20),
       length=st.one_of(st.integers(-5, 1 << 40), st.text(max_size=8)),
       kind=st.sampled_from(["multipart/form-data; boundary=b",
                             "application/x-www-form-urlencoded", "application/json", ""]))
async def test_hostile_heads_get_an_answer_never_a_500(device: Device, path: str,
                                                       token: bytes, cookie: bytes,
                                                       origin: bytes, csrf: str,
                                                       length: object, kind: str) -> None:
    users = [u.name for u in device.accounts.users()]
    reader, writer = await connect(device.ports["http"], "127.0.0.1")
    body = b"csrf=" + csrf.encode()
    writer.write(b"POST " + path.encode() + b" HTTP/1.1\r\n"
                 b"Host: nas\r\nX-SYNO-TOKEN: " + token + b"\r\nCookie: id=" + cookie +
                 b"\r\nOrigin: " + origin + b"\r\nContent-Type: " + kind.encode() +
                 b"\r\nContent-Length: " + str(length).encode() +
                 b"\r\nConnection: close\r\n\r\n" + body)
    try:
        head = await asyncio.wait_for(reader.read(64), 5)
    finally:
        writer.close()
    assert b" 500 " not in head, head
    # Closed without an answer only when the announced body never comes (it is cut off,
    # or waited for until it trickles below the floor rate): otherwise an HTTP answer.
    never_complete = isinstance(length, int) and length > len(body)
    assert head.startswith(b"HTTP/1.") or (head == b"" and never_complete), head
    assert [u.name for u in device.accounts.users()] == users
