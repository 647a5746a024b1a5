"""The findhost codec: Synology Assistant's UDP discovery packets (pure; DESIGN.md §5).

    magic (8 bytes) | TLV* ;  TLV = id:u8 len:u8 value[len]

Integers are little-endian; IPv4 addresses are 4 bytes in network order; strings are not
NUL-terminated; a packet is at most 8192 bytes. Decoding is strict — a wrong magic, the
encrypted variant's magic, a TLV running past the end or an oversized packet is rejected
with FindhostError — and unknown fields are kept as raw bytes, in order.
"""

from __future__ import annotations

import enum
import ipaddress
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from openstation.errors import FindhostError

MAGIC = b"\x12\x34\x56\x78SYNO"
ENCRYPTED_MAGIC = b"\x12\x34\x55\x66SYNO"
MAX_PACKET = 8192
FINDHOST_VERSION = 0x01020000

QUERY, RESPONSE, JUNIOR_RESPONSE = 1, 2, 6


class Kind(enum.Enum):
    U32 = "u32"
    U64 = "u64"
    STR = "str"
    IPV4 = "ipv4"
    MAC = "mac"  # a string such as "00:11:32:8f:64:3b"


# id -> (name, kind). Field names follow DESIGN.md §5.
FIELDS: dict[int, tuple[str, Kind]] = {
    0x01: ("packet_type", Kind.U32),
    0x10: ("dhcp", Kind.U32),
    0x11: ("server_name", Kind.STR),
    0x12: ("ip", Kind.IPV4),
    0x13: ("netmask", Kind.IPV4),
    0x14: ("gateway", Kind.IPV4),
    0x15: ("dns", Kind.IPV4),
    0x16: ("dns2", Kind.IPV4),
    0x17: ("domain", Kind.STR),
    0x19: ("mac", Kind.MAC),
    0x1E: ("querier_ip", Kind.IPV4),
    0x1F: ("error_code", Kind.U32),
    0x22: ("ip_0x22", Kind.IPV4),
    0x23: ("ip_0x23", Kind.IPV4),
    0x24: ("ip_0x24", Kind.IPV4),
    0x25: ("ip_0x25", Kind.IPV4),
    0x48: ("model_family", Kind.U32),
    0x49: ("build", Kind.U32),
    0x70: ("unique_id", Kind.STR),
    0x73: ("short_serial", Kind.STR),
    0x75: ("http_port", Kind.U32),
    0x76: ("https_port", Kind.U32),
    0x77: ("version", Kind.STR),
    0x78: ("model", Kind.STR),
    0x7C: ("querier_mac", Kind.MAC),
    0x90: ("update", Kind.U32),
    0xA0: ("status_id", Kind.U32),
    0xA1: ("status_text", Kind.STR),
    0xA2: ("first_mac", Kind.MAC),
    0xA3: ("out_interface", Kind.U32),
    0xA4: ("findhost_version", Kind.U32),
    0xA6: ("info_timeout", Kind.U32),
    0xA7: ("status_code", Kind.U32),
    0xB0: ("supported_services", Kind.U64),
    0xB1: ("supported_services2", Kind.U64),
    0xB8: ("running_services", Kind.U64),
    0xB9: ("running_services2", Kind.U64),
    0xC0: ("serial", Kind.STR),
    0xC1: ("os_name", Kind.STR),
}
BY_NAME = {name: (field_id, kind) for field_id, (name, kind) in FIELDS.items()}

# The order real devices use for a response: MAC, IP, DHCP, netmask first.
RESPONSE_ORDER: tuple[int, ...] = (
    0x19, 0x12, 0x10, 0x13, 0x14, 0x15, 0x16, 0x17, 0x11, 0x01, 0x1E, 0x7C, 0x48, 0x49, 0x90,
    0x77, 0x78, 0x70, 0x73, 0xC0, 0x75, 0x76, 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA6, 0xA7, 0xB0,
    0xB1, 0xB8, 0xB9, 0xC1,
)


@dataclass(frozen=True)
class Packet:
    """A decoded packet: every TLV in order, raw, with typed access by name."""

    tlvs: tuple[tuple[int, bytes], ...]

    def get(self, name: str, default: Any = None) -> Any:
        """The first value of the named field, decoded to its type."""
        field_id, kind = BY_NAME[name]
        for tlv_id, raw in self.tlvs:
            if tlv_id == field_id:
                return decode_value(kind, raw)
        return default

    def has(self, name: str) -> bool:
        field_id = BY_NAME[name][0]
        return any(tlv_id == field_id for tlv_id, _ in self.tlvs)

    def to_dict(self) -> dict[str, Any]:
        """Every field by name (unknown ones as "0xNN": hex)."""
        out: dict[str, Any] = {}
        for tlv_id, raw in self.tlvs:
            if tlv_id in FIELDS:
                name, kind = FIELDS[tlv_id]
                out.setdefault(name, decode_value(kind, raw))
            else:
                out.setdefault(f"0x{tlv_id:02x}", raw.hex())
        return out

    @property
    def is_query(self) -> bool:
        """A query we answer: packet type 1 and a findhost version field."""
        return self.get("packet_type") == QUERY and self.has("findhost_version")


def encode_value(kind: Kind, value: Any) -> bytes:
    """One field's value as bytes."""
    if kind is Kind.U32:
        return struct.pack("<I", int(value) & 0xFFFFFFFF)
    if kind is Kind.U64:
        return struct.pack("<Q", int(value) & 0xFFFFFFFFFFFFFFFF)
    if kind is Kind.IPV4:
        return ipaddress.IPv4Address(value).packed
    raw = str(value).encode()
    if len(raw) > 255:
        raise FindhostError(f"a string of {len(raw)} bytes does not fit in a TLV")
    return raw


def decode_value(kind: Kind, raw: bytes) -> Any:
    """One field's bytes as its typed value (raw bytes when the length does not fit)."""
    if kind is Kind.U32 and len(raw) == 4:
        return struct.unpack("<I", raw)[0]
    if kind is Kind.U64 and len(raw) == 8:
        return struct.unpack("<Q", raw)[0]
    if kind is Kind.IPV4 and len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    if kind in (Kind.STR, Kind.MAC):
        return raw.decode("utf-8", errors="replace")
    return raw


def encode(fields: Iterable[tuple[int | str, Any]]) -> bytes:
    """A packet from (id or name, value) pairs, in the order given; bytes are sent as is."""
    body = bytearray(MAGIC)
    for key, value in fields:
        kind: Kind | None
        if isinstance(key, str):
            field_id, kind = BY_NAME[key]
        else:
            field_id, kind = key, (FIELDS[key][1] if key in FIELDS else None)
        if isinstance(value, bytes):
            raw = value
        elif kind is None:
            raise FindhostError(f"unknown field 0x{field_id:02x} takes raw bytes")
        else:
            raw = encode_value(kind, value)
        if len(raw) > 255:
            raise FindhostError(f"field 0x{field_id:02x} is {len(raw)} bytes (at most 255)")
        body += bytes((field_id, len(raw))) + raw
    if len(body) > MAX_PACKET:
        raise FindhostError(f"packet of {len(body)} bytes (at most {MAX_PACKET})")
    return bytes(body)


def decode(data: bytes) -> Packet:
    """Parse a packet, strictly; FindhostError says what is wrong."""
    if len(data) > MAX_PACKET:
        raise FindhostError(f"packet of {len(data)} bytes (at most {MAX_PACKET})")
    if data[:8] == ENCRYPTED_MAGIC:
        raise FindhostError("encrypted findhost packet (not supported)")
    if data[:8] != MAGIC:
        raise FindhostError("not a findhost packet (wrong magic)")
    tlvs: list[tuple[int, bytes]] = []
    offset = 8
    while offset < len(data):
        if offset + 2 > len(data):
            raise FindhostError(f"truncated TLV header at byte {offset}")
        field_id, length = data[offset], data[offset + 1]
        end = offset + 2 + length
        if end > len(data):
            raise FindhostError(f"field 0x{field_id:02x} runs past the end of the packet")
        tlvs.append((field_id, bytes(data[offset + 2:end])))
        offset = end
    return Packet(tuple(tlvs))


def try_decode(data: bytes) -> Packet | None:
    """`decode`, or None for anything malformed (never raises)."""
    try:
        return decode(data)
    except FindhostError:
        return None


def query(querier_mac: str | None = None) -> bytes:
    """The query Synology Assistant broadcasts."""
    fields: list[tuple[int | str, Any]] = [("packet_type", QUERY),
                                           ("findhost_version", FINDHOST_VERSION)]
    if querier_mac:
        fields.append(("querier_mac", querier_mac))
    return encode(fields)


def response(values: dict[str, Any]) -> bytes:
    """A response with the named values, in the order real devices use."""
    ordered: list[tuple[int | str, Any]] = []
    for field_id in RESPONSE_ORDER:
        name = FIELDS[field_id][0]
        if name in values and values[name] is not None:
            ordered.append((field_id, values[name]))
    return encode(ordered)
