"""Control Panel > Task Scheduler over the Web API, from the schedules the device really
keeps: SYNO.Core.TaskScheduler (list: each Hyper Backup task's backup and integrity-check
schedule, and the daily configuration backup) and SYNO.Core.EventScheduler (config_get:
where task output goes; no user script runs, so none is kept). User-defined scripts and
power schedules are not offered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openstation.backup.engine import BackupEngine
from openstation.config.sections import BackupTask, ConfigBackupSettings
from openstation.config.store import ConfigStore
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry

DAYS = "0,1,2,3,4,5,6"


def register(registry: Registry, store: ConfigStore, engine: BackupEngine,
             clock: Callable[[], float], next_snapshot: Callable[[], float | None]) -> None:
    def backup_rows(task: BackupTask) -> list[dict[str, Any]]:
        rows = [{"id": f"hyperbackup-{task.task_id}", "name": f"{task.name}: back up",
                 "type": "hyper_backup", "owner": "root", "enable": task.schedule_enabled,
                 "action": f"Hyper Backup task {task.name}",
                 "schedule": {"days": ",".join(map(str, task.schedule_days)) or DAYS,
                              "hour": task.schedule_hour, "minute": task.schedule_minute},
                 "next_trigger_time": engine.next_run(task, clock())}]
        if task.check_days:
            rows.append({"id": f"hyperbackup-check-{task.task_id}",
                         "name": f"{task.name}: integrity check", "type": "hyper_backup",
                         "owner": "root", "enable": True,
                         "action": f"check the versions of {task.name}",
                         "schedule": {"days": ",".join(map(str, task.check_days)),
                                      "hour": task.check_hour, "minute": 0},
                         "next_trigger_time": engine.next_check(task, clock())})
        return rows

    async def task_list(call: ApiCall) -> dict[str, Any]:
        tasks = [row for task in engine.service.tasks() for row in backup_rows(task)]
        tasks.append({"id": "config-backup", "name": "Configuration backup",
                      "type": "config_backup", "owner": "root",
                      "enable": store.get(ConfigBackupSettings).enabled,
                      "action": "keep today's configuration snapshot on volume1",
                      # at each boot, then every 24 hours after it (not at a set hour)
                      "schedule": {"days": DAYS, "every_hours": 24, "from": "boot"},
                      "next_trigger_time": next_snapshot()})
        return {"tasks": tasks, "total": len(tasks)}

    async def output_config(call: ApiCall) -> dict[str, Any]:
        return {"enable_output": False, "output_path": "", "type": "esynoscheduler"}

    apis: dict[str, dict[str, Handler]] = {
        "SYNO.Core.TaskScheduler": {"list": task_list},
        "SYNO.Core.EventScheduler": {"config_get": output_config},
    }
    for name, methods in apis.items():
        registry.add(Api(name, "entry.cgi", 1, 3, methods, admin=frozenset(methods)))
