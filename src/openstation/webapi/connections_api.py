"""Main menu > Resource Monitor > Connections over the Web API:
SYNO.Core.CurrentConnection lists who is signed in — web sessions (pages and the Web API)
and the file services' connections (SFTP and rsync over SSH) — and ends one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
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
             file_connections: Callable[[], list[dict[str, Any]]],
             kick_file: Callable[[str], bool], clock: Callable[[], float]) -> None:
    async def current(call: ApiCall) -> dict[str, Any]:
        items = [{"id": web_id(s.sid), "who": s.user, "from": s.ip, "time": dsm_time(s.created),
                  "type": "HTTP/HTTPS", "descr": s.name or "DSM", "can_be_kicked": True}
                 for s in sessions.live()]
        items += [{"id": c["id"], "who": c["who"], "from": c["from"],
                   "time": dsm_time(float(c["since"])), "type": c["type"],
                   "descr": "SFTP / rsync", "can_be_kicked": True}
                  for c in file_connections()]
        return {"items": items, "total": len(items), "systime": dsm_time(clock())}

    async def kick(call: ApiCall) -> dict[str, Any]:
        wanted = call.json_param("id", None)
        ids = wanted if isinstance(wanted, list) else [wanted]
        if not ids or len(ids) > MAX_KICKS or not all(isinstance(i, str) for i in ids):
            raise ValidationError({"id": "a connection's id, or a list of them"})
        web = {web_id(s.sid): s.sid for s in sessions.live()}
        missing = [i for i in ids if i not in web and not i.startswith("ssh-")]
        if missing:
            raise NotFoundError(f"no connection {missing[0]!r}")
        for conn_id in ids:
            if conn_id in web:
                sessions.end(web[conn_id])
            elif not kick_file(conn_id):
                raise NotFoundError(f"no connection {conn_id!r}")
        return {}

    registry.add(Api("SYNO.Core.CurrentConnection", "entry.cgi", 1, 1,
                     {"get": current, "list": current, "kick_connection": kick},
                     changes=frozenset({"kick_connection"}),
                     admin=frozenset({"get", "list", "kick_connection"})))
