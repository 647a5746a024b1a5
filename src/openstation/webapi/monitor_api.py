"""Resource Monitor over the Web API and to the pages.

- SYNO.ResourceMonitor.Setting get/set: whether the usage history is kept.
- SYNO.ResourceMonitor.EventRule list/create/set/delete: the alarm rules.
- SYNO.ResourceMonitor.Log list: the alarms that fired (Log Center's entries).

The page and its data (history, live stream) are in ui/monitor.py."""

from __future__ import annotations

from typing import Any

from openstation import offload
from openstation.config.store import ConfigStore
from openstation.errors import ValidationError
from openstation.monitor.sampler import Sampler
from openstation.monitor.service import ResourceMonitorService
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry


def rule_json(rule: Any) -> dict[str, Any]:
    return {"id": rule.rule_id, "metric": rule.metric, "threshold": rule.threshold,
            "duration": rule.minutes, "enable": rule.enabled}


def register(registry: Registry, store: ConfigStore, service: ResourceMonitorService,
             sampler: Sampler) -> None:
    def who(call: ApiCall) -> str:
        return str(call.session.user)

    async def setting_get(call: ApiCall) -> dict[str, Any]:
        settings = service.settings()
        return {"enable_history": settings.history, "enable_alarm": bool(settings.rules),
                "history_file": "system/monitor-history.json", "sample_seconds": 1}

    async def setting_set(call: ApiCall) -> dict[str, Any]:
        service.set(who(call), history=call.bool_param("enable_history"))
        return await setting_get(call)

    def fields(call: ApiCall) -> dict[str, Any]:
        found: dict[str, Any] = {"metric": call.params.get("metric"),
                                 "enabled": call.bool_param("enable")}
        for name, key, kind in (("threshold", "threshold", float),
                                ("duration", "minutes", int)):
            if name in call.params:
                try:
                    found[key] = kind(call.params[name])
                except (TypeError, ValueError, OverflowError):
                    raise ValidationError({name: "a number"}) from None
        return found

    async def rules_list(call: ApiCall) -> dict[str, Any]:
        rules = [rule_json(rule) for rule in service.settings().rules]
        return {"rules": rules, "total": len(rules)}

    async def rule_create(call: ApiCall) -> dict[str, Any]:
        return rule_json(service.add_rule(who(call), **fields(call)))

    async def rule_set(call: ApiCall) -> dict[str, Any]:
        return rule_json(service.change_rule(who(call), call.param("id"), **fields(call)))

    async def rule_delete(call: ApiCall) -> dict[str, Any]:
        service.delete_rule(who(call), call.param("id"))
        return {}

    async def log_list(call: ApiCall) -> dict[str, Any]:
        offset = call.int_param("offset", 0)
        limit = call.int_param("limit", 100, low=1, high=1000)
        entries = await offload.run(lambda: [  # (settings changes are in the section too)
            e for e in store.audit_log(limit=10_000, section="resource_monitor")
            if e.action == "alarm"])
        if call.params.get("sort_direction", "DESC").upper() == "ASC":
            entries.reverse()
        return {"logs": [{"time": int(e.at), "rule_id": e.key, **e.detail}
                         for e in entries[offset:offset + limit]], "total": len(entries)}

    apis: dict[str, tuple[dict[str, Handler], frozenset[str]]] = {
        "SYNO.ResourceMonitor.Setting": ({"get": setting_get, "set": setting_set},
                                         frozenset({"set"})),
        "SYNO.ResourceMonitor.EventRule": ({"list": rules_list, "create": rule_create,
                                            "set": rule_set, "delete": rule_delete},
                                           frozenset({"create", "set", "delete"})),
        "SYNO.ResourceMonitor.Log": ({"list": log_list}, frozenset()),
    }
    for name, (methods, changes) in apis.items():
        registry.add(Api(name, "entry.cgi", 1, 1, methods, changes=changes,
                         admin=frozenset(methods)))
