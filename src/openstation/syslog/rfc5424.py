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


# --- receiving -------------------------------------------------------------------------

_SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")


def parse(raw: bytes, source: str, now: float) -> dict[str, object]:
    """One received message, RFC 5424 or the older BSD form (RFC 3164), as Log Center keeps
    it: what cannot be parsed is kept whole as the message (pure; never raises)."""
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n\x00")
    found: dict[str, object] = {"received": now, "source": source, "host": source,
                                "severity": "notice", "facility": 1, "app": "",
                                "message": text[:MAX_MESSAGE]}
    if not text.startswith("<") or ">" not in text[:5]:
        return found
    pri_text, _, rest = text[1:].partition(">")
    if not (pri_text.isascii() and pri_text.isdigit()) or int(pri_text) > 191:
        return found
    pri = int(pri_text)
    found["facility"], found["severity"] = pri // 8, _SEVERITIES[pri % 8]
    if rest.startswith("1 "):  # RFC 5424: VERSION TIMESTAMP HOST APP PROCID MSGID SD MSG
        fields = rest[2:].split(" ", 5)
        if len(fields) == 6:
            _stamp, host, app, _procid, _msgid, tail = fields
            found["host"] = (host if host != NIL else source)[:255]
            found["app"] = (app if app != NIL else "")[:48]
            found["message"] = _without_data(tail)[:MAX_MESSAGE]
        return found
    parts = rest.split(" ", 4)  # BSD: "Mmm dd hh:mm:ss HOST TAG: MSG"
    if len(parts) == 5 and len(parts[0]) == 3:
        found["host"] = parts[3][:255]
        tag, _, message = parts[4].partition(" ")
        found["app"] = tag.rstrip(":").split("[")[0][:48]
        found["message"] = message[:MAX_MESSAGE]
    return found


def _without_data(tail: str) -> str:
    """The MSG after an SD field ("-" or [..][..], brackets escaped inside)."""
    if tail.startswith(NIL):
        return tail[2:]
    depth, escaped = 0, False
    for index, char in enumerate(tail):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0 and tail[index + 1:index + 2] != "[":
                return tail[index + 2:]
    return tail


def deframe(buffer: bytearray, limit: int) -> list[bytes] | None:
    """Whole messages taken off the front of a stream: octet-counted ("LEN SP <PRI>…", RFC
    6587) or newline-ended (the older habit; a line such as "2024-01-01 …" or "100 bottles"
    is a line). None: the stream is broken (a frame or a line over `limit`); the caller
    closes it."""
    messages: list[bytes] = []
    while buffer:
        space = buffer.find(b" ", 0, 12)
        after = bytes(buffer[space + 1:space + 2]) if space > 0 else b"?"
        counted = space > 0 and buffer[:space].isdigit() and after in (b"<", b"")
        if buffer[:1].isdigit() and space < 0 and len(buffer) <= 12:
            return messages  # a length still arriving
        if counted:  # "LEN SP <PRI>…" (RFC 6587); anything else is a line
            size = int(buffer[:space])
            if after == b"":
                return messages
            if size > limit:
                return None
            if len(buffer) < space + 1 + size:
                return messages
            messages.append(bytes(buffer[space + 1:space + 1 + size]))
            del buffer[:space + 1 + size]
            continue
        end = buffer.find(b"\n")
        if end < 0:
            return None if len(buffer) > limit else messages
        messages.append(bytes(buffer[:end]))
        del buffer[:end + 1]
    return messages
