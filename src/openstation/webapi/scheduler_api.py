"""Control Panel > Task Scheduler over the Web API, as synology-api's TaskScheduler calls it.

- SYNO.Core.TaskScheduler: list, get (one task; id -1 with type=service lists what a
  service task can start and stop), create, set, delete, set_enable, run,
  get_history_status_list and get_history_log. The list also shows the schedules the device
  keeps of its own: each Hyper Backup task's backup and check, and the daily configuration
  backup (those are changed where they live).
- SYNO.Core.TaskScheduler.Root: create and set of a task owned by root, which needs the
  password confirmed again: SYNO.Core.User.PasswordConfirm auth gives a token for this
  session, good for a few minutes.
- SYNO.Core.EventScheduler: config_get and config_set, where script output also goes.
- SYNO.Core.Hardware.PowerSchedule: load and save, the (virtual) power on and off times."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from openstation import offload
from openstation.backup.engine import BackupEngine
from openstation.config.sections import (
    BackupTask,
    ConfigBackupSettings,
    PowerTime,
    ScheduledTask,
    TaskKind,
)
from openstation.config.store import ConfigStore
from openstation.errors import ApiError, ValidationError
from openstation.packages import PACKAGES, SERVICE_IDS
from openstation.scheduler import schedule
from openstation.scheduler.runner import TaskRunner
from openstation.scheduler.service import ROOT, SWITCHABLE, TaskService, power_time
from openstation.webapi import envelope
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry
from openstation.webapi.shares import flag

DAYS = "0,1,2,3,4,5,6"
TOKEN_LIFE = 300.0  # seconds a confirmed password stands for
SORTABLE = ("next_trigger_time", "name", "type", "action", "owner")
KINDS = {"script": TaskKind.SCRIPT, "recycle": TaskKind.RECYCLE,
         "service": TaskKind.SERVICE, "beep": TaskKind.BEEP}


def action_of(task: ScheduledTask) -> str:
    """The one line DSM's list shows for what a task does."""
    if task.kind is TaskKind.SCRIPT:
        return "Run: " + task.script.replace("\n", " ")[:200]
    if task.kind is TaskKind.RECYCLE:
        return "Empty recycle bin: " + ("all shared folders" if task.all_shares
                                        else ", ".join(task.shares))
    if task.kind is TaskKind.SERVICE:
        return f"{task.service_action.capitalize()}: {', '.join(task.services)}"
    return f"Beep for {task.beep_seconds} seconds"


def extra_of(task: ScheduledTask) -> dict[str, Any]:
    """The kind's own settings, as DSM's `extra`."""
    if task.kind is TaskKind.SCRIPT:
        return {"script": task.script, "notify_enable": bool(task.notify_mail),
                "notify_mail": task.notify_mail, "notify_if_error": task.notify_if_error,
                "timeout": task.timeout}
    if task.kind is TaskKind.RECYCLE:
        policy: dict[str, Any] = {"policy": task.recycle_policy}
        if task.recycle_policy == "time":
            policy["time"] = task.recycle_days
        if task.recycle_policy == "size":
            policy |= {"size": task.recycle_size_mb, "sort_type": task.recycle_sort}
        shares: dict[str, Any] = {"clean_all": task.all_shares}
        if not task.all_shares:
            shares["shares"] = list(task.shares)
        return {"clean_share_policy": shares, "clean_file_policy": policy}
    if task.kind is TaskKind.SERVICE:
        return {"action": task.service_action, "services": [
            {"id": s, "type": "service" if s in SERVICE_IDS else "package", "enable": True}
            for s in task.services]}
    return {"beep_duration": str(task.beep_seconds)}


def fields_of(kind: TaskKind, extra: Any) -> dict[str, Any]:
    """A kind's settings from DSM's `extra` (what it leaves out keeps its value)."""
    if not isinstance(extra, dict):
        raise ValidationError({"extra": "a JSON object"})
    fields: dict[str, Any] = {}
    try:
        if kind is TaskKind.SCRIPT:
            fields["script"] = extra.get("script")
            if "notify_mail" in extra or "notify_enable" in extra:
                on = _flag(extra.get("notify_enable", True))
                fields["notify_mail"] = str(extra.get("notify_mail") or "") if on else ""
            if "notify_if_error" in extra:
                fields["notify_if_error"] = _flag(extra["notify_if_error"])
            if "timeout" in extra:
                fields["timeout"] = int(extra["timeout"])
        elif kind is TaskKind.RECYCLE:
            shares = extra.get("clean_share_policy", {})
            policy = extra.get("clean_file_policy", {})
            if not isinstance(shares, dict) or not isinstance(policy, dict):
                raise ValidationError({"extra": "clean_share_policy and clean_file_policy"})
            fields["all_shares"] = _flag(shares.get("clean_all", False))
            fields["shares"] = [str(s).strip("/") for s in shares.get("shares", [])]
            fields["recycle_policy"] = str(policy.get("policy", "clean_all"))
            if "time" in policy:
                fields["recycle_days"] = int(policy["time"])
            if "size" in policy:
                fields["recycle_size_mb"] = int(policy["size"])
            if "sort_type" in policy:
                fields["recycle_sort"] = int(policy["sort_type"])
        elif kind is TaskKind.SERVICE:
            fields["service_action"] = str(extra.get("action", ""))
            services = extra.get("services", [])
            fields["services"] = [str(s.get("id") if isinstance(s, dict) else s)
                                  for s in services] if isinstance(services, list) else None
        else:
            fields["beep_seconds"] = int(extra.get("beep_duration", 60))
    except (TypeError, ValueError, AttributeError, OverflowError):
        raise ValidationError({"extra": f"the settings of a {kind.value} task"}) from None
    return fields


def _flag(value: Any) -> bool:
    """A flag inside DSM's JSON (refused with 120 when it is none)."""
    return bool(flag(value))


def register(registry: Registry, ctx: WebContext, tasks: TaskService, runner: TaskRunner,
             engine: BackupEngine, next_snapshot: Callable[[], float | None]) -> None:
    store: ConfigStore = ctx.store
    clock = ctx.clock
    confirmed: dict[str, tuple[str, float]] = {}  # token → (session id, until)

    def who(call: ApiCall) -> str:
        return str(call.session.user)

    def when(epoch: float | None) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch)) if epoch else ""

    def backup_rows(task: BackupTask) -> list[dict[str, Any]]:
        rows = [{"id": f"hyperbackup-{task.task_id}", "name": f"{task.name}: back up",
                 "type": "hyper_backup", "owner": ROOT, "real_owner": ROOT,
                 "enable": task.schedule_enabled, "can_edit": False, "can_delete": False,
                 "can_run": False, "action": f"Hyper Backup task {task.name}",
                 "schedule": {"days": ",".join(map(str, task.schedule_days)) or DAYS,
                              "hour": task.schedule_hour, "minute": task.schedule_minute},
                 "next_trigger_time": when(engine.next_run(task, clock()))}]
        if task.check_days:
            rows.append({"id": f"hyperbackup-check-{task.task_id}",
                         "name": f"{task.name}: integrity check", "type": "hyper_backup",
                         "owner": ROOT, "real_owner": ROOT, "enable": True,
                         "can_edit": False, "can_delete": False, "can_run": False,
                         "action": f"check the versions of {task.name}",
                         "schedule": {"days": ",".join(map(str, task.check_days)),
                                      "hour": task.check_hour, "minute": 0},
                         "next_trigger_time": when(engine.next_check(task, clock()))})
        return rows

    def row(task: ScheduledTask, next_at: float | None) -> dict[str, Any]:
        return {"id": int(task.task_id), "name": task.name, "type": task.kind.value,
                "owner": task.owner, "real_owner": task.owner, "enable": task.enabled,
                "action": action_of(task), "next_trigger_time": when(next_at),
                "can_edit": True, "can_delete": True, "can_run": True,
                "running": task.task_id in runner.running}

    async def task_list(call: ApiCall) -> dict[str, Any]:
        sort_by = call.params.get("sort_by", "next_trigger_time")
        if sort_by not in SORTABLE:
            raise ValidationError({"sort_by": ", ".join(SORTABLE)})
        descending = call.params.get("sort_direction", "ASC").upper() == "DESC"
        offset = call.int_param("offset", 0)
        limit = call.int_param("limit", 50, low=-1)
        now = clock()
        own = await offload.run(lambda: [row(t, runner.next_run(t, now))
                                         for t in tasks.tasks()])
        rows = own + [r for t in engine.service.tasks() for r in backup_rows(t)]
        rows.append({"id": "config-backup", "name": "Configuration backup",
                     "type": "config_backup", "owner": ROOT, "real_owner": ROOT,
                     "enable": store.get(ConfigBackupSettings).enabled, "can_edit": False,
                     "can_delete": False, "can_run": False,
                     "action": "keep today's configuration snapshot on volume1",
                     # at each boot, then every 24 hours after it (not at a set hour)
                     "schedule": {"days": DAYS, "every_hours": 24, "from": "boot"},
                     "next_trigger_time": when(next_snapshot())})
        rows.sort(key=lambda r: str(r[sort_by]).casefold(), reverse=descending)
        rows.sort(key=lambda r: r[sort_by] == "")  # no next run sorts last, whichever way
        total = len(rows)
        return {"tasks": rows[offset:] if limit < 0 else rows[offset:offset + limit],
                "total": total}

    def task_of(call: ApiCall) -> ScheduledTask:
        task = tasks.task(call.int_param("id", low=-1))
        if "real_owner" in call.params and call.params["real_owner"] != task.owner:
            raise ValidationError({"real_owner": f"task {task.task_id} is {task.owner}'s"})
        return task

    async def task_get(call: ApiCall) -> dict[str, Any]:
        if call.params.get("id") == "-1" and call.params.get("type") == "service":
            return {"services": [{"id": p.id, "display_name": p.name,
                                  "type": "service" if p.id in SERVICE_IDS else "package"}
                                 for p in PACKAGES if p.id in SWITCHABLE]}
        task = task_of(call)
        return {"id": int(task.task_id), "name": task.name, "type": task.kind.value,
                "owner": task.owner, "real_owner": task.owner, "enable": task.enabled,
                "action": action_of(task), "can_edit_name": True, "can_edit_owner": True,
                "schedule": schedule.to_dsm(task.schedule), "extra": extra_of(task),
                "next_trigger_time": when(runner.next_run(task))}

    def changes(call: ApiCall, kind: TaskKind) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if "schedule" in call.params:
            raw = call.json_param("schedule")
            if not isinstance(raw, dict):
                raise ValidationError({"schedule": "a JSON object"})
            found["schedule"] = schedule.parse(raw)
        if "extra" in call.params:
            found |= fields_of(kind, call.json_param("extra"))
        if "name" in call.params:
            found["name"] = call.params["name"]
        if "owner" in call.params or "real_owner" in call.params:
            found["owner"] = call.params.get("owner") or call.params.get("real_owner") or ""
        if "enable" in call.params:
            found["enabled"] = call.bool_param("enable")
        return found

    def confirm_root(call: ApiCall, kind: TaskKind, owners: set[str], root_api: bool) -> None:
        """A script runs as root only through .Root, with the password just confirmed."""
        if kind is not TaskKind.SCRIPT or ROOT not in owners:
            return
        if not root_api:
            raise ApiError(envelope.NO_PERMISSION, errors={
                "reason": "a task owned by root goes through SYNO.Core.TaskScheduler.Root"})
        token = call.params.get("SynoConfirmPWToken", "")
        sid, until = confirmed.get(token, ("", 0.0))
        if not secrets.compare_digest(sid, call.session.sid) or clock() > until:
            raise ApiError(envelope.NO_PERMISSION, errors={
                "reason": "confirm the password first (SYNO.Core.User.PasswordConfirm)"})

    def creator(root_api: bool) -> Handler:
        async def create(call: ApiCall) -> dict[str, Any]:
            kind = KINDS.get(call.param("type"))
            if kind is None:
                raise ValidationError({"type": ", ".join(KINDS)})
            found = changes(call, kind)
            found.setdefault("owner", who(call))
            confirm_root(call, kind, {found["owner"]}, root_api)
            found.setdefault("schedule", schedule.parse({}))
            found.setdefault("name", "")
            task = tasks.create(who(call), kind=kind, **found)
            return {"id": int(task.task_id)}
        return create

    def setter(root_api: bool) -> Handler:
        async def set_(call: ApiCall) -> dict[str, Any]:
            current = task_of(call)
            found = changes(call, current.kind)
            confirm_root(call, current.kind, {current.owner, found.get("owner", "")},
                         root_api)
            task = tasks.update(who(call), current.task_id, **found)
            return {"id": int(task.task_id)}
        return set_

    def listed(call: ApiCall, name: str) -> list[dict[str, Any]]:
        raw = call.json_param(name)
        if not isinstance(raw, list) or not raw or not all(
                isinstance(t, dict) and "id" in t for t in raw):
            raise ValidationError({name: 'a JSON list of {"id": …, "real_owner": …}'})
        return raw

    def named(call: ApiCall, name: str) -> list[tuple[ScheduledTask, dict[str, Any]]]:
        """The tasks a `tasks`/`status` list names, each checked against its real_owner."""
        found = []
        for entry in listed(call, name):
            task = tasks.task(entry["id"])
            if "real_owner" in entry and entry["real_owner"] != task.owner:
                raise ValidationError({"real_owner": f"task {task.task_id} is "
                                                     f"{task.owner}'s"})
            found.append((task, entry))
        return found

    async def delete(call: ApiCall) -> dict[str, Any]:
        ids = [task.task_id for task, _entry in named(call, "tasks")]
        tasks.delete(who(call), ids)
        for task_id in ids:
            await runner.stop(task_id)
            await offload.run(runner.forget, task_id)
        return {}

    async def set_enable(call: ApiCall) -> dict[str, Any]:
        found = named(call, "status")
        wanted = {task.task_id: _flag(entry.get("enable", True)) for task, entry in found}
        for task, _entry in found:  # root's script switched on: the password again
            if wanted[task.task_id] and not task.enabled:
                confirm_root(call, task.kind, {task.owner}, True)
        tasks.set_enabled(who(call), wanted)
        return {}

    async def run(call: ApiCall) -> dict[str, Any]:
        for task, _entry in named(call, "tasks"):
            runner.run(task.task_id, who(call))
        return {}

    async def history(call: ApiCall) -> list[dict[str, Any]]:
        task = tasks.task(call.int_param("id"))
        return await offload.run(runner.history, task.task_id)

    async def history_log(call: ApiCall) -> dict[str, Any]:
        task = tasks.task(call.int_param("id"))
        output = await offload.run(runner.output_of, task.task_id,
                                   call.param("timestamp"))
        if output is None:
            raise ValidationError({"timestamp": "a run of this task whose output is kept"})
        return {"log": output.decode(errors="replace")}

    async def password_confirm(call: ApiCall) -> dict[str, Any]:
        params = await ctx.crypto.decrypt(call.params)  # synology-api encrypts over HTTP
        user = await ctx.login.check_password(who(call), params.get("password", ""),
                                              call.session.ip)
        if user is None:
            raise ApiError(envelope.NO_PERMISSION, errors={"reason": "wrong password"})
        now = clock()
        for token in [t for t, (_s, until) in confirmed.items() if until < now]:
            del confirmed[token]
        token = secrets.token_urlsafe(24)
        confirmed[token] = (call.session.sid, now + TOKEN_LIFE)
        return {"SynoConfirmPWToken": token}

    async def output_get(call: ApiCall) -> dict[str, Any]:
        settings = tasks.output()
        return {"enable_output": settings.enabled, "output_path": settings.path,
                "type": "esynoscheduler"}

    async def output_set(call: ApiCall) -> dict[str, Any]:
        enabled = call.bool_param("enable_output")
        tasks.set_output(who(call), bool(enabled) if enabled is not None
                         else tasks.output().enabled,
                         call.params.get("output_path", tasks.output().path))
        return await output_get(call)

    def power_json(times: list[PowerTime]) -> list[dict[str, Any]]:
        return [{"enabled": t.enabled, "hour": t.hour, "min": t.minute,
                 "weekdays": ",".join(map(str, t.week_days))} for t in times]

    async def power_load(call: ApiCall) -> dict[str, Any]:
        power = tasks.power()
        return {"poweron_tasks": power_json(power.power_on),
                "poweroff_tasks": power_json(power.power_off),
                "powered_off": runner.powered_off}

    async def power_save(call: ApiCall) -> dict[str, Any]:
        current = tasks.power()
        given: dict[str, list[PowerTime] | None] = {}
        for name in ("poweron_tasks", "poweroff_tasks"):
            raw = call.json_param(name)
            if raw is not None and not isinstance(raw, list):
                raise ValidationError({name: "a JSON list"})
            given[name] = None if raw is None else [power_time(t) for t in raw]
        on, off = given["poweron_tasks"], given["poweroff_tasks"]  # None: as they are
        tasks.set_power(who(call), current.power_on if on is None else on,
                        current.power_off if off is None else off)
        return await power_load(call)

    admin_only = {"list", "get", "create", "set", "delete", "set_enable", "run",
                  "get_history_status_list", "get_history_log"}
    changing = frozenset({"create", "set", "delete", "set_enable", "run"})
    registry.add(Api("SYNO.Core.TaskScheduler", "entry.cgi", 1, 4, {
        "list": task_list, "get": task_get, "create": creator(False), "set": setter(False),
        "delete": delete, "set_enable": set_enable, "run": run,
        "get_history_status_list": history, "get_history_log": history_log},
        changes=changing, admin=frozenset(admin_only)))
    registry.add(Api("SYNO.Core.TaskScheduler.Root", "entry.cgi", 1, 4, {
        "create": creator(True), "set": setter(True)},
        changes=frozenset({"create", "set"}), admin=frozenset({"create", "set"})))
    registry.add(Api("SYNO.Core.EventScheduler", "entry.cgi", 1, 1, {
        "config_get": output_get, "config_set": output_set},
        changes=frozenset({"config_set"}), admin=frozenset({"config_get", "config_set"})))
    registry.add(Api("SYNO.Core.Hardware.PowerSchedule", "entry.cgi", 1, 1, {
        "load": power_load, "save": power_save}, changes=frozenset({"save"}),
        admin=frozenset({"load", "save"})))
    registry.add(Api("SYNO.Core.User.PasswordConfirm", "entry.cgi", 1, 2, {
        "auth": password_confirm}))

