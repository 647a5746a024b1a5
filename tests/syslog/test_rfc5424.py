"""RFC 5424 / BSD parsing and stream framing on hostile input (pure): never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openstation.syslog import rfc5424


@pytest.mark.parametrize(("raw", "severity", "host", "message"), [
    (b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed", "crit", "mymachine",
     "'su root' failed"),
    (b'<165>1 2026-12-06T02:00:00Z h5 app - ID47 [x@1 a="b\\]"][y@2] hi', "notice", "h5",
     "hi"),
    (b"<165>1 - - - - - - no data", "notice", "10.0.0.9", "no data"),
    ("<\u00b2>x".encode(), "notice", "10.0.0.9", "<\u00b2>x"),  # a digit int() refuses
    (b"<999>1 - - - - - - x", "notice", "10.0.0.9", "<999>1 - - - - - - x"),
    (b"\xff\xfe garbage", "notice", "10.0.0.9", "\ufffd\ufffd garbage"),
])
def test_parse(raw: bytes, severity: str, host: str, message: str) -> None:
    found = rfc5424.parse(raw, "10.0.0.9", 0.0)
    assert (found["severity"], found["host"], found["message"]) == (severity, host, message)


@given(st.binary(max_size=300))
def test_parse_never_raises(raw: bytes) -> None:
    assert isinstance(rfc5424.parse(raw, "h", 0.0)["message"], str)


def test_deframe() -> None:
    buffer = bytearray(b"5 <1>ab3 <2>2024-01-01 line\n100 bottles\n12")
    assert rfc5424.deframe(buffer, 100) == [b"<1>ab", b"<2>", b"2024-01-01 line",
                                            b"100 bottles"]
    assert buffer == b"12"  # a length still arriving
    buffer += b" <3>partial"
    assert rfc5424.deframe(buffer, 100) == [] and buffer.startswith(b"12 ")
    assert rfc5424.deframe(bytearray(b"99999 <1>x"), 100) is None  # over the limit
    assert rfc5424.deframe(bytearray(b"x" * 200), 100) is None  # a line too long


@given(st.binary(max_size=400))
def test_deframe_never_raises(raw: bytes) -> None:
    buffer = bytearray(raw)
    found = rfc5424.deframe(buffer, 64)
    assert found is None or all(isinstance(m, bytes) for m in found)
