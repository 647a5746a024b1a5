"""Log Center over the Web API: the audit log, resets included (SYNO.Core.SyslogClient.Log)."""

from __future__ import annotations

from typing import Any

from openstation.config.store import AuditEntry
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Registry


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    """One audit entry as Log Center lists it."""
    return {"id": entry.id, "time": entry.at, "who": entry.actor, "from": entry.source,
            "event": entry.action, "section": entry.section, "key": entry.key,
            "detail": entry.detail}


def register(registry: Registry, ctx: WebContext) -> None:
    async def list_logs(call: ApiCall) -> dict[str, Any]:
        limit = call.int_param("limit", 100, low=1, high=10_000)
        section = call.params.get("section") or None
        entries = ctx.store.audit_log(limit=limit, section=section)
        return {"total": len(entries), "items": [entry_json(e) for e in entries]}

    registry.add(Api("SYNO.Core.SyslogClient.Log", "entry.cgi", 1, 1, {"list": list_logs},
                     admin=frozenset({"list"})))
