"""Log Center over the Web API, from the audit log (every change, sign-in, reset,
restore, backup result and daemon event is one entry): SYNO.Core.SyslogClient.Log (list),
SYNO.Core.SyslogClient.Status (counts per level, events per second, the latest),
SYNO.LogCenter.Client (get, set: log sending, RFC 5424 over UDP, TCP or TLS; see
syslog/), SYNO.LogCenter.RecvRule (get, set: the receiving role) and SYNO.LogCenter.Log
list (what other devices sent); the archive settings answer empty: the device keeps its
own log in system/config.db."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from openstation import offload
from openstation.config.store import AuditEntry, ConfigStore
from openstation.errors import ApiError
from openstation.logcenter import describe, level_of
from openstation.syslog.forwarder import Forwarder
from openstation.syslog.receiver import LogReceiver
from openstation.syslog.service import LogReceivingService, LogSendingService
from openstation.webapi import envelope
from openstation.webapi.absent import empty_list
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry

WINDOW = 10_000  # the newest entries the counts look at
def entry_json(entry: AuditEntry) -> dict[str, Any]:
    """One audit entry as Log Center lists it."""
    return {"id": entry.id, "time": entry.at, "who": entry.actor, "from": entry.source,
            "event": entry.action, "section": entry.section, "key": entry.key,
            "detail": entry.detail, "level": level_of(entry), "logtype": "system",
            "descr": describe(entry)}


def counts(store: ConfigStore, now: float) -> dict[str, Any]:
    """Entries per level, and per second over the last minute (in a worker thread)."""
    entries = store.audit_log(limit=WINDOW)
    levels = [level_of(e) for e in entries]
    recent = sum(1 for e in entries if now - e.at <= 60)
    return {"info_count": levels.count("info"), "warn_count": levels.count("warn"),
            "error_count": levels.count("err"), "total": len(entries),
            "eps": round(recent / 60, 3)}


def register(registry: Registry, ctx: WebContext, log_sending: LogSendingService,
             forwarder: Forwarder, log_receiving: LogReceivingService, receiver: LogReceiver,
             clock: Callable[[], float] = time.time) -> None:
    def filtered(call: ApiCall) -> Callable[[], list[AuditEntry]]:
        """The audit entries a search names (newest first, of the newest WINDOW): a
        `section`, a `level` (err, warn, info), a `keyword` in who, what or the detail, a
        time range (`date_from`, `date_to`: epoch seconds)."""
        section = call.params.get("section") or None
        level = call.params.get("level") or None
        if level not in (None, "err", "warn", "info"):
            raise ApiError(envelope.INVALID_PARAMETER, errors={"level": "err, warn or info"})
        keyword = (call.params.get("keyword") or "").casefold()[:200]
        since = call.float_param("date_from", 0.0)
        until = call.float_param("date_to", float("inf"))

        def matching() -> list[AuditEntry]:
            found = []
            for entry in ctx.store.audit_log(limit=WINDOW, section=section):
                if not since <= entry.at <= until:
                    continue
                if level is not None and level_of(entry) != level:
                    continue
                if keyword and keyword not in json.dumps(
                        [entry.actor, entry.source, describe(entry), entry.detail],
                        default=str, ensure_ascii=False).casefold():
                    continue
                found.append(entry)
            return found
        return matching

    async def list_logs(call: ApiCall) -> dict[str, Any]:
        limit = call.int_param("limit", 100, low=1, high=WINDOW)
        offset = call.int_param("offset", 0, high=WINDOW)
        entries = await offload.run(filtered(call))
        items = [entry_json(e) for e in entries[offset:offset + limit]]
        return {"total": len(entries), "items": items}

    async def export(call: ApiCall) -> web.Response:
        """The search's entries as CSV (Log Center's Export), at most WINDOW of them."""
        entries = await offload.run(filtered(call))

        def csv_text() -> bytes:
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["time", "level", "who", "from", "event", "section", "key",
                             "detail"])
            for e in entries:
                writer.writerow([datetime.fromtimestamp(e.at, UTC).isoformat(), level_of(e),
                                 e.actor, e.source, e.action, e.section, e.key,
                                 json.dumps(e.detail, default=str, ensure_ascii=False)])
            return out.getvalue().encode()

        return web.Response(body=await offload.run(csv_text), content_type="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="log.csv"'})

    async def cnt_get(call: ApiCall) -> dict[str, Any]:
        return await offload.run(counts, ctx.store, clock())

    async def eps_get(call: ApiCall) -> dict[str, Any]:
        found = await offload.run(counts, ctx.store, clock())
        return {"eps": found["eps"]}

    async def latest(call: ApiCall) -> dict[str, Any]:
        entries = await offload.run(ctx.store.audit_log, limit=5)
        return {"items": [entry_json(e) for e in entries], "total": len(entries)}

    async def storage(call: ApiCall) -> dict[str, Any]:
        return {"location": "system/config.db", "archive_enable": False,
                "rotate_enable": False}

    async def sending(call: ApiCall) -> dict[str, Any]:
        settings = log_sending.settings()
        return {"enable": settings.enabled, "server": settings.server, "port": settings.port,
                "protocol": settings.transport.value, "format": "ietf",
                "cert_fingerprint": settings.tls_fingerprint, "status": forwarder.status()}

    async def sending_set(call: ApiCall) -> dict[str, Any]:
        log_sending.set(str(call.session.user), enabled=call.bool_param("enable"),
                        server=call.params.get("server"), port=call.optional_int("port"),
                        transport=call.params.get("protocol"),
                        tls_fingerprint=call.params.get("cert_fingerprint"))
        return await sending(call)

    async def receiving(call: ApiCall) -> dict[str, Any]:
        settings = log_receiving.settings()
        rules = [{"name": "syslog", "enable": settings.enabled, "port": settings.port,
                  "protocol": settings.transport.value, "format": "ietf,bsd"}]
        return {"rules": rules, "total": 1, "status": receiver.status()}

    async def receiving_set(call: ApiCall) -> dict[str, Any]:
        log_receiving.set(str(call.session.user), enabled=call.bool_param("enable"),
                          port=call.optional_int("port"),
                          transport=call.params.get("protocol"))
        await receiver.apply()  # answered once it listens (or says why it cannot)
        return await receiving(call)

    async def received(call: ApiCall) -> dict[str, Any]:
        """What other devices sent, newest first (of one `host`, if given)."""
        limit = call.int_param("limit", 100, low=1, high=1000)
        offset = call.int_param("offset", 0, high=10**9)
        items, total = await offload.run(lambda: receiver.received.listed(
            limit=limit, offset=offset, host=call.params.get("host") or None))
        return {"items": items, "total": total}

    apis: dict[str, dict[str, Handler]] = {
        "SYNO.Core.SyslogClient.Log": {"list": list_logs, "export": export},
        "SYNO.Core.SyslogClient.Status": {"cnt_get": cnt_get, "eps_get": eps_get,
                                          "latestlog_get": latest},
        "SYNO.LogCenter.RecvRule": {"list": receiving, "get": receiving,
                                    "set": receiving_set},
        "SYNO.LogCenter.Log": {"get_remotearch_subfolder": empty_list("folders"),
                               "list": received},
        "SYNO.LogCenter.Setting.Storage": {"get": storage},
        "SYNO.LogCenter.Client": {"get": sending, "set": sending_set},
        "SYNO.LogCenter.History": {"list": empty_list("items")},
    }
    for name, methods in apis.items():
        registry.add(Api(name, "entry.cgi", 1, 1, methods, changes=frozenset({"set"}),
                         admin=frozenset(methods)))
