"""The findhost codec: round trips, strictness, fuzzing."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openstation.discovery.findhost import (
    ENCRYPTED_MAGIC,
    FIELDS,
    FINDHOST_VERSION,
    MAGIC,
    MAX_PACKET,
    RESPONSE_ORDER,
    Kind,
    decode,
    encode,
    query,
    response,
    try_decode,
)
from openstation.errors import FindhostError

READY = {
    "mac": "02:11:32:8f:64:3b", "ip": "192.168.1.10", "dhcp": 1, "netmask": "255.255.255.0",
    "gateway": "192.168.1.1", "dns": "192.168.1.1", "server_name": "DiskStation",
    "packet_type": 2, "querier_ip": "192.168.1.20", "model_family": 1, "build": 25426,
    "update": 3, "version": "6.2.3", "model": "DS3617xs",
    "unique_id": "synology_broadwell_3617xs", "short_serial": "123456",
    "serial": "2602ODN123456", "http_port": 5000, "https_port": 5001, "status_code": 1,
    "status_text": "Ready", "findhost_version": FINDHOST_VERSION, "info_timeout": 120,
    "running_services": 0b101, "os_name": "DSM",
}


def test_a_query_carries_packet_type_1_and_the_findhost_version() -> None:
    packet = query("aa:bb:cc:dd:ee:ff")
    assert packet[:8] == b"\x12\x34\x56\x78SYNO"
    assert packet[8:14] == b"\x01\x04" + struct.pack("<I", 1)
    assert packet[14:20] == b"\xa4\x04" + bytes.fromhex("00000201")
    decoded = decode(packet)
    assert decoded.is_query and decoded.get("querier_mac") == "aa:bb:cc:dd:ee:ff"


def test_byte_order_of_integers_and_addresses() -> None:
    raw = encode([("http_port", 5000), ("ip", "192.168.1.10"), ("supported_services", 1)])
    assert raw[8:14] == b"\x75\x04\x88\x13\x00\x00"  # u32 little-endian
    assert raw[14:20] == b"\x12\x04\xc0\xa8\x01\x0a"  # IPv4 in network order
    assert raw[20:30] == b"\xb0\x08\x01" + bytes(7)  # u64 little-endian


def test_a_response_keeps_the_real_field_order_and_round_trips() -> None:
    packet = decode(response(READY))
    ids = [tlv_id for tlv_id, _ in packet.tlvs]
    assert ids[:4] == [0x19, 0x12, 0x10, 0x13]
    assert ids == [i for i in RESPONSE_ORDER if FIELDS[i][0] in READY]
    assert packet.to_dict() == READY
    assert not packet.is_query


def test_unknown_fields_and_empty_values_are_kept() -> None:
    packet = decode(MAGIC + b"\xee\x03abc" + b"\x11\x00" + b"\xef\x00")
    assert packet.tlvs == ((0xEE, b"abc"), (0x11, b""), (0xEF, b""))
    assert packet.to_dict() == {"0xee": "616263", "server_name": "", "0xef": ""}
    assert decode(encode(list(packet.tlvs))) == packet


@pytest.mark.parametrize(("data", "why"), [
    (b"", "wrong magic"),
    (b"\x12\x34\x56\x78SYNP\x01\x04\x01\x00\x00\x00", "wrong magic"),
    (ENCRYPTED_MAGIC + b"\x01\x04\x01\x00\x00\x00", "encrypted"),
    (MAGIC + b"\x01\x04\x01\x00\x00", "past the end"),
    (MAGIC + b"\x01", "truncated"),
    (MAGIC + b"\x11\x02a" + bytes(MAX_PACKET), "at most 8192"),
])
def test_malformed_packets_are_rejected(data: bytes, why: str) -> None:
    with pytest.raises(FindhostError, match=why):
        decode(data)
    assert try_decode(data) is None


def test_a_packet_of_exactly_8192_bytes_is_accepted() -> None:
    body = bytearray(MAGIC)
    while len(body) + 257 <= MAX_PACKET:
        body += b"\xee\xff" + bytes(255)
    body += b"\xef" + bytes([MAX_PACKET - len(body) - 2]) + bytes(MAX_PACKET - len(body) - 2)
    assert len(body) == MAX_PACKET
    assert decode(bytes(body)).tlvs[-1][0] == 0xEF


def value_for(kind: Kind) -> st.SearchStrategy[object]:
    return {
        Kind.U32: st.integers(0, 2**32 - 1),
        Kind.U64: st.integers(0, 2**64 - 1),
        Kind.STR: st.text(max_size=60).filter(lambda s: len(s.encode()) <= 255),
        Kind.IPV4: st.ip_addresses(v=4).map(str),
        Kind.MAC: st.binary(min_size=6, max_size=6).map(
            lambda b: ":".join(f"{x:02x}" for x in b)),
    }[kind]


fields = st.lists(st.sampled_from(sorted(FIELDS)).flatmap(
    lambda fid: st.tuples(st.just(fid), value_for(FIELDS[fid][1]))), max_size=30)


@settings(max_examples=300)
@given(fields)
def test_round_trip_of_any_known_fields(pairs: list[tuple[int, object]]) -> None:
    packet = decode(encode(pairs))
    assert [tid for tid, _ in packet.tlvs] == [fid for fid, _ in pairs]
    for (fid, value), (_, raw) in zip(pairs, packet.tlvs, strict=True):
        from openstation.discovery.findhost import decode_value

        assert decode_value(FIELDS[fid][1], raw) == value


@settings(max_examples=1000)
@given(st.binary(max_size=MAX_PACKET + 16))
def test_random_bytes_never_raise_anything_else(data: bytes) -> None:
    try_decode(data)
    try_decode(MAGIC + data)


@settings(max_examples=500)
@given(st.data())
def test_mutated_queries_never_crash_and_only_valid_queries_are_queries(data: st.DataObject
                                                                        ) -> None:
    packet = bytearray(query("aa:bb:cc:dd:ee:ff"))
    for _ in range(data.draw(st.integers(1, 4))):
        choice = data.draw(st.sampled_from(["flip", "truncate", "length"]))
        if choice == "flip" and packet:
            index = data.draw(st.integers(0, len(packet) - 1))
            packet[index] ^= 1 << data.draw(st.integers(0, 7))
        elif choice == "truncate":
            del packet[data.draw(st.integers(0, len(packet))):]
        elif len(packet) > 9:
            packet[9] = data.draw(st.integers(0, 255))  # the first TLV's length byte
    decoded = try_decode(bytes(packet))
    if decoded is not None and decoded.is_query:
        assert decoded.get("packet_type") == 1
