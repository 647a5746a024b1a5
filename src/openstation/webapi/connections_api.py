"""Main menu > Resource Monitor > Connections over the Web API:
SYNO.Core.CurrentConnection lists who is signed in — web sessions (pages and the Web API)
and the file services' connections (SMB sessions, SFTP and rsync over SSH) — and ends one;
SYNO.Core.FileHandle lists the files SMB clients hold open."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from openstation.accounts.sessions import Sessions
from openstation.errors import NotFoundError, ValidationError
from openstation.webapi.dispatch import ApiCall, dsm_time
from openstation.webapi.registry import Api, Registry

MAX_KICKS = 256


def web_id(sid: str) -> str:
    """A web session's id as shown: never the session id itself (it signs in)."""
    return "http-" + hashlib.sha256(sid.encode()).hexdigest()[:16]


def register(registry: Registry, sessions: Sessions,
             file_connections: Callable[[], Awaitable[list[dict[str, Any]]]],
             kick_file: Callable[[str], Awaitable[bool]],
             open_files: Callable[[], Awaitable[list[dict[str, Any]]]],
             clock: Callable[[], float]) -> None:
    def since(connection: dict[str, Any]) -> str:
        if "since" in connection:
            return dsm_time(float(connection["since"]))
        at = str(connection.get("connected_at", ""))  # smbstatus: ISO 8601
        try:
            return dsm_time(datetime.fromisoformat(at).timestamp())
        except ValueError:
            return dsm_time(clock())

    async def current(call: ApiCall) -> dict[str, Any]:
        items = [{"id": web_id(s.sid), "who": s.user, "from": s.ip, "time": dsm_time(s.created),
                  "type": "HTTP/HTTPS", "descr": s.name or "DSM", "can_be_kicked": True}
                 for s in sessions.live()]
        items += [{"id": c["id"], "who": c["who"], "from": c["from"], "time": since(c),
                   "type": c["type"], "can_be_kicked": True,
                   "descr": "SMB" if c["type"] == "SMB" else "SFTP / rsync"}
                  for c in await file_connections()]
        return {"items": items, "total": len(items), "systime": dsm_time(clock())}

    async def handles(call: ApiCall) -> dict[str, Any]:
        """Control Panel's open files: what SMB clients hold open now."""
        found = await open_files()
        return {"items": found, "total": len(found)}

    async def kick(call: ApiCall) -> dict[str, Any]:
        wanted = call.json_param("id", None)
        ids = wanted if isinstance(wanted, list) else [wanted]
        if not ids or len(ids) > MAX_KICKS or not all(isinstance(i, str) for i in ids):
            raise ValidationError({"id": "a connection's id, or a list of them"})
        web = {web_id(s.sid): s.sid for s in sessions.live()}
        missing = [i for i in ids if i not in web and not i.startswith(("ssh-", "smb-"))]
        if missing:
            raise NotFoundError(f"no connection {missing[0]!r}")
        for conn_id in ids:
            if conn_id in web:
                sessions.end(web[conn_id])
            elif not await kick_file(conn_id):
                raise NotFoundError(f"no connection {conn_id!r}")
        return {}

    registry.add(Api("SYNO.Core.CurrentConnection", "entry.cgi", 1, 1,
                     {"get": current, "list": current, "kick_connection": kick},
                     changes=frozenset({"kick_connection"}),
                     admin=frozenset({"get", "list", "kick_connection"})))
    registry.add(Api("SYNO.Core.FileHandle", "entry.cgi", 1, 1, {"get": handles},
                     admin=frozenset({"get"})))
