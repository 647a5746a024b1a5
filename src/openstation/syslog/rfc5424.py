"""RFC 5424 syslog messages from audit entries, and RFC 6587's octet-counting frames for
TCP and TLS (pure).

    <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ELEMENT] MSG

PRI is facility * 8 + severity; the facility is 13 ("log audit"), the severity Log Center's
level (err 3, warn 4, info 6). MSGID is the entry's action; the structured data carries
who, from where, and what (section and key); MSG is Log Center's description and the
entry's detail as JSON, cut to fit one UDP datagram."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from openstation.config.store import AuditEntry

FACILITY = 13  # log audit
SEVERITY = {"err": 3, "warn": 4, "info": 6}
APP = "openstation"
SD_ID = "audit@32473"  # 32473: the example enterprise number RFC 5424 reserves
MAX_MESSAGE = 2048  # bytes: one datagram on any network (RFC 5426 asks for 480 at least)
NIL = "-"


def _token(text: str, limit: int) -> str:
    """A header field: printable US-ASCII without spaces, or "-"."""
    cleaned = "".join(c for c in text if 33 <= ord(c) <= 126)[:limit]
    return cleaned or NIL


def _param(value: str) -> str:
    """An SD-PARAM value: '"', '\\' and ']' escaped (RFC 5424 §6.3.3)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def message(entry: AuditEntry, hostname: str, level: str, description: str) -> bytes:
    """One RFC 5424 message for `entry` (UTF-8, at most MAX_MESSAGE bytes)."""
    pri = FACILITY * 8 + SEVERITY.get(level, 6)
    stamp = datetime.fromtimestamp(entry.at, UTC).isoformat(timespec="milliseconds")
    stamp = stamp.replace("+00:00", "Z")
    params = {"id": str(entry.id), "actor": entry.actor, "source": entry.source,
              "section": entry.section, "key": entry.key}
    data = " ".join(f'{name}="{_param(value)}"' for name, value in params.items())
    head = (f"<{pri}>1 {stamp} {_token(hostname, 255)} {APP} {NIL} "
            f"{_token(entry.action, 32)} [{SD_ID} {data}] ")
    body = f"{description} {json.dumps(entry.detail, default=str, ensure_ascii=False)}"
    encoded = head.encode() + body.encode()
    if len(encoded) > MAX_MESSAGE:  # cut on a character boundary
        encoded = encoded[:MAX_MESSAGE].decode(errors="ignore").encode()
    return encoded


def framed(msg: bytes) -> bytes:
    """RFC 6587 octet counting: "LEN SP MSG", for a stream (TCP, TLS)."""
    return str(len(msg)).encode() + b" " + msg
