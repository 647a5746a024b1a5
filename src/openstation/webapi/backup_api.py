"""Hyper Backup over the Web API, with the names and fields DSM's clients read:
SYNO.Backup.Task (list, get, status, create, backup, cancel, suspend, resume, discard,
delete), SYNO.Backup.Repository (list, get), SYNO.Backup.Target (integrity check:
error_detect, error_detect_cancel), SYNO.Backup.Version (list) and
SYNO.SDS.Backup.Client.Common.Log (list)."""

from __future__ import annotations

import json
from typing import Any

from openstation import offload
from openstation.backup import plan
from openstation.backup.engine import BackupEngine
from openstation.backup.service import TaskRequest
from openstation.backup.vault import PREFIX, Vault
from openstation.config.sections import BackupTask
from openstation.errors import NotFoundError
from openstation.logcenter import level_of
from openstation.webapi.dispatch import ApiCall, dsm_time
from openstation.webapi.registry import Api, Handler, Registry

# The live activity DSM reports in `status`, per kind of run.
ACTIVITY = {"backup": "backup", "check": "detect", "restore": "restore"}
LOG_SECTIONS = ("backup_tasks", "backup_state")
LEVELS = {"err": "error", "warn": "warning", "info": "info"}  # Hyper Backup's log's words


def register(registry: Registry, engine: BackupEngine, vault: Vault) -> None:
    service = engine.service

    def task_id(call: ApiCall) -> str:
        return service.task(call.param("task_id").strip('"')).task_id

    def describe(task: BackupTask) -> dict[str, Any]:
        """A task as DSM lists it, with every `additional` field."""
        state = service.state(task.task_id)
        run = engine.runs.get(task.task_id)
        remote = plan.is_remote(task.destination)
        next_at = engine.next_run(task)
        return {
            "task_id": int(task.task_id), "name": task.name, "type": "image",
            "data_type": "data", "transfer_type": "image",
            "target_type": ("cloud" if task.destination.startswith("webdav:") else
                            "remote" if remote else "local"),
            "target_id": task.repository, "repo_id": int(task.task_id), "data_enc": True,
            "state": "backupable",
            "status": ACTIVITY.get(run.kind, run.kind) if run else "none",
            "is_modified": task.modified > state.last_start,
            "last_bkp_time": dsm_time(state.last_start),
            "last_bkp_end_time": dsm_time(state.last_end),
            "last_bkp_success_time": dsm_time(state.last_success),
            "last_bkp_result": state.last_result.value,
            "last_bkp_error": state.last_error,
            "last_bkp_progress": run.to_json() if run else {},
            "next_bkp_time": dsm_time(next_at) if next_at else "",
            "schedule": {"enabled": task.schedule_enabled, "days": task.schedule_days,
                         "hour": task.schedule_hour, "minute": task.schedule_minute},
            "source": {"folder_list": ["/" + s for s in task.sources],
                       "include_config": task.include_config},
            "rotation": {"policy": task.rotation.value, "keep_versions": task.keep_versions},
            "integrity": {"last_check": dsm_time(state.last_check),
                          "result": state.check_result, "days": task.check_days,
                          "hour": task.check_hour, "read_data": task.check_read_data},
        }

    async def task_list(call: ApiCall) -> dict[str, Any]:
        tasks = [describe(task) for task in service.tasks()]
        restoring = any(run.kind == "restore" for run in engine.runs.values())
        return {"task_list": tasks, "total": len(tasks), "is_restoring": restoring,
                "is_downloading": False, "is_lun_restoring": False,
                "is_snapshot_restoring": False}

    async def task_get(call: ApiCall) -> dict[str, Any]:
        return {"task": describe(service.task(task_id(call)))}

    async def task_status(call: ApiCall) -> dict[str, Any]:
        found = describe(service.task(task_id(call)))
        run = engine.runs.get(str(found["task_id"]))
        return {**found, "progress": run.to_json() if run else {}}

    async def task_create(call: ApiCall) -> dict[str, Any]:
        sources = call.json_param("sources", [])
        days = call.json_param("schedule_days", [])
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            sources = [str(sources)]
        if not isinstance(days, list) or not all(isinstance(d, int) for d in days):
            days = [-1]  # refused by the checks, with the others
        check_days = call.json_param("check_days", [])
        if not isinstance(check_days, list) or not all(isinstance(d, int) for d in check_days):
            check_days = [-1]
        task = await engine.create(str(call.session.user), TaskRequest(
            name=call.param("name"), destination=call.param("destination"),
            password=call.param("password"), sources=[s.strip("/") for s in sources],
            include_config=bool(call.bool_param("include_config")), schedule_days=days,
            schedule_hour=call.int_param("schedule_hour", 3, high=23),
            schedule_minute=call.int_param("schedule_minute", 0, high=59),
            rotation=call.param("rotation", "all"),
            keep_versions=call.int_param("keep_versions", 256, low=1, high=65535),
            check_days=check_days, check_hour=call.int_param("check_hour", 4, high=23),
            check_read_data=bool(call.bool_param("check_read_data")),
            remote_user=call.params.get("remote_user", ""),
            remote_password=call.params.get("remote_password", ""),
            remote_fingerprint=call.params.get("remote_fingerprint", "")))
        return {"task_id": int(task.task_id)}

    async def backup(call: ApiCall) -> dict[str, Any]:
        engine.backup(task_id(call))
        return {}

    async def cancel(call: ApiCall) -> dict[str, Any]:
        engine.cancel(task_id(call))
        return {}

    async def suspend(call: ApiCall) -> dict[str, Any]:
        engine.cancel(task_id(call), suspend=True)
        return {}

    async def resume(call: ApiCall) -> dict[str, Any]:
        engine.backup(task_id(call))
        return {}

    async def discard(call: ApiCall) -> dict[str, Any]:
        engine.discard(str(call.session.user), task_id(call))
        return {}

    async def delete(call: ApiCall) -> dict[str, Any]:
        ids = call.json_param("task_id_list", None)
        if ids is None:
            ids = [call.param("task_id")]
        ids = ids if isinstance(ids, list) else [ids]
        for each in ids:  # the repositories stay ("is_remove_data" is not offered)
            engine.delete(str(call.session.user), service.task(str(each)).task_id)
        return {}

    def repository(task: BackupTask) -> dict[str, Any]:
        return {"repo_id": int(task.task_id), "task_id": int(task.task_id),
                "name": task.name + plan.REPOSITORY_SUFFIX, "target_id": task.repository,
                "target_type": describe(task)["target_type"], "destination": task.destination,
                "format": "restic"}

    async def repo_list(call: ApiCall) -> dict[str, Any]:
        repos = [repository(task) for task in service.tasks()]
        return {"repo_list": repos, "offset": 0, "total": len(repos)}

    async def repo_get(call: ApiCall) -> dict[str, Any]:
        return {"repo": repository(service.task(task_id(call)))}

    async def check(call: ApiCall) -> dict[str, Any]:
        engine.check(task_id(call), read_data=bool(call.bool_param("detect_data")))
        return {}

    async def check_cancel(call: ApiCall) -> dict[str, Any]:
        engine.cancel(task_id(call))
        return {}

    async def versions(call: ApiCall) -> dict[str, Any]:
        found = await engine.versions(task_id(call))
        offset = call.int_param("offset", 0)
        limit = call.int_param("limit", 50, low=1, high=10_000)
        listed = [{"version_id": v["short_id"], "id": v["id"], "time": v["time"],
                   "folders": v["paths"], "locked": False} for v in reversed(found)]
        return {"version_list": listed[offset:offset + limit], "total": len(listed)}

    def log_rows(keyword: str, since: int, until: int) -> list[dict[str, Any]]:
        entries = []
        for section in LOG_SECTIONS:
            entries += service.store.audit_log(limit=10_000, section=section)
        rows = []
        for entry in sorted(entries, key=lambda e: -e.id):
            text = f"{entry.action} {entry.key} {json.dumps(entry.detail, default=str)}"
            if (keyword and keyword not in text.casefold()) or (since and entry.at < since) \
                    or (until and entry.at > until):
                continue
            rows.append({"time": dsm_time(entry.at), "user": entry.actor,
                         "level": LEVELS[level_of(entry)], "event": text})
        return rows

    async def log_list(call: ApiCall) -> dict[str, Any]:
        offset = call.int_param("offset", 0)
        limit = call.int_param("limit", 1000, low=1, high=10_000)
        rows = await offload.run(  # up to 20,000 entries: off the loop
            log_rows, call.params.get("filter_keyword", "").casefold(),
            call.int_param("filter_date_from", 0), call.int_param("filter_date_to", 0))
        return {"log_list": rows[offset:offset + limit], "total": len(rows)}

    async def vault_get(call: ApiCall) -> dict[str, Any]:
        settings = service.vault()
        return {"enable": settings.enabled,
                "parallel_backup_limit": settings.parallel_backup_limit, "path": PREFIX}

    async def vault_set(call: ApiCall) -> dict[str, Any]:
        limit = call.params.get("parallel_backup_limit")
        service.set_vault(str(call.session.user), call.bool_param("enable"),
                          call.int_param("parallel_backup_limit", high=64) if limit else None)
        return await vault_get(call)

    def target(found: dict[str, Any]) -> dict[str, Any]:
        return {"target_id": found["target_id"], "name": f"{found['account']}/{found['name']}",
                "account": found["account"], "repository": found["name"], "format": "restic",
                **{k: found[k] for k in ("used_size", "versions") if k in found}}

    async def vault_targets(call: ApiCall) -> dict[str, Any]:
        targets = [target(r) for r in await offload.run(vault.repositories)]
        return {"target_list": targets, "total": len(targets)}

    async def one_target(call: ApiCall, name: str) -> dict[str, Any]:
        wanted = call.int_param(name, low=1)
        for found in await offload.run(vault.repositories, True):
            if found["target_id"] == wanted:
                return target(found)
        raise NotFoundError(f"no Vault target {wanted}")

    async def vault_detail(call: ApiCall) -> dict[str, Any]:
        return {"target": await one_target(call, "target_id")}

    async def vault_statistic(call: ApiCall) -> dict[str, Any]:
        found = await one_target(call, "task_id")
        return {"volume_size": found["used_size"], "used_size": found["used_size"],
                "versions": found["versions"]}

    async def vault_log(call: ApiCall) -> dict[str, Any]:
        name = (await one_target(call, "filter_target_id"))["name"] \
            if call.params.get("filter_target_id") else None
        offset = call.int_param("offset", 0)
        limit = call.int_param("limit", 1000, low=1, high=10_000)
        entries = [e for e in await offload.run(service.store.audit_log, limit=10_000,
                                                section="backup_vault")
                   if e.action == "received" and (name is None or e.key == name)]
        rows = [{"time": dsm_time(e.at), "user": e.actor, "target": e.key,
                 "event": str(e.detail.get("event", ""))} for e in entries]
        return {"log_list": rows[offset:offset + limit], "total": len(rows)}

    apis: dict[str, dict[str, Handler]] = {
        # "delete" is what DSM (and synology-api's backup_task_remove) calls; "remove" too
        "SYNO.Backup.Task": {"list": task_list, "get": task_get, "status": task_status,
                             "create": task_create, "backup": backup, "cancel": cancel,
                             "suspend": suspend, "resume": resume, "discard": discard,
                             "delete": delete, "remove": delete},
        "SYNO.Backup.Repository": {"list": repo_list, "get": repo_get},
        # the integrity check: DSM's error_detect / error_detect_cancel, or run / cancel
        "SYNO.Backup.Target": {"error_detect": check, "error_detect_cancel": check_cancel,
                               "run": check, "cancel": check_cancel},
        "SYNO.Backup.Version": {"list": versions},
        "SYNO.SDS.Backup.Client.Common.Log": {"list": log_list},
        # Hyper Backup Vault: this device as a destination
        "SYNO.Backup.Service.VersionBackup.Config": {"get": vault_get, "set": vault_set},
        "SYNO.Backup.Service.VersionBackup.Target": {"list": vault_targets,
                                                     "detail": vault_detail},
        "SYNO.SDS.Backup.Server.Common.Statistic": {"get": vault_statistic},
        "SYNO.SDS.Backup.Server.Common.Log": {"list": vault_log},
    }
    reads = frozenset({"list", "get", "status", "detail"})
    for name, methods in apis.items():
        registry.add(Api(name, "entry.cgi", 1, 1, methods,
                         changes=frozenset(methods) - reads, admin=frozenset(methods)))
