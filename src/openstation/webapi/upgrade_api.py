"""Control Panel > Update & Restore over the Web API: SYNO.Core.Upgrade (status),
.Upgrade.Server (check), .Upgrade.Server.Download (progress), .Upgrade.Setting (get, set),
.Upgrade.AutoUpgrade (status), .Upgrade.AutoUpgrade.Security (get, set) and .Upgrade.Patch
(list, get): the running version, the local catalog's answer, the stored settings. Nothing
is ever downloaded or flashed, and the answers say so."""

from __future__ import annotations

from typing import Any

from openstation.config.sections import AutoUpdate
from openstation.upgrade import UpgradeService
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry


def register(registry: Registry, upgrades: UpgradeService) -> None:
    def who(call: ApiCall) -> str:
        return str(call.session.user)

    def update() -> dict[str, Any]:
        found = upgrades.available()
        return {"available": found is not None,
                "version": found.version_string if found else None,
                "reboot": "now" if found else "none", "restart": "none",
                "version_details": None if found is None else {
                    "major": found.major, "minor": found.minor, "micro": found.micro,
                    "buildnumber": found.build, "nano": found.update}}

    async def status(call: ApiCall) -> dict[str, Any]:
        return {"status": "none", "progress": 0,
                "version": upgrades.running.version_string}

    async def check(call: ApiCall) -> dict[str, Any]:
        return {"update": update()}

    async def download_progress(call: ApiCall) -> dict[str, Any]:
        return {"progress": 0, "status": "none", "downloading": False}

    async def setting_get(call: ApiCall) -> dict[str, Any]:
        settings = upgrades.settings()
        return {"autoupdate_type": settings.auto_update.value,
                "autoupdate_enable": settings.auto_update is not AutoUpdate.NONE,
                "check_new_dsm": settings.check_automatically,
                "schedule": {"hour": settings.hour, "minute": settings.minute,
                             "week_day": "0,1,2,3,4,5,6"}}

    async def setting_set(call: ApiCall) -> dict[str, Any]:
        upgrades.set(who(call), auto_update=call.params.get("autoupdate_type"),
                     check_automatically=call.bool_param("check_new_dsm"),
                     hour=call.optional_int("hour"), minute=call.optional_int("minute"))
        return await setting_get(call)

    async def auto_status(call: ApiCall) -> dict[str, Any]:
        return {"enable": upgrades.settings().auto_update is not AutoUpdate.NONE,
                "status": "none", "next_check": None}

    async def security_get(call: ApiCall) -> dict[str, Any]:
        return {"enable": upgrades.settings().auto_update is not AutoUpdate.NONE}

    async def security_set(call: ApiCall) -> dict[str, Any]:
        enable = call.bool_param("enable")
        if enable is not None:
            current = upgrades.settings().auto_update
            wanted = (current if current is not AutoUpdate.NONE else AutoUpdate.SECURITY) \
                if enable else AutoUpdate.NONE
            upgrades.set(who(call), auto_update=wanted)
        return await security_get(call)

    async def patches(call: ApiCall) -> dict[str, Any]:
        return {"patches": [], "total": 0}  # no patch is ever installed

    apis: dict[str, dict[str, Handler]] = {
        "SYNO.Core.Upgrade": {"status": status},
        "SYNO.Core.Upgrade.Server": {"check": check},
        "SYNO.Core.Upgrade.Server.Download": {"progress": download_progress},
        "SYNO.Core.Upgrade.Setting": {"get": setting_get, "set": setting_set},
        "SYNO.Core.Upgrade.AutoUpgrade": {"status": auto_status},
        "SYNO.Core.Upgrade.AutoUpgrade.Security": {"get": security_get, "set": security_set},
        "SYNO.Core.Upgrade.Patch": {"list": patches, "get": patches},
    }
    for name, methods in apis.items():
        registry.add(Api(name, "entry.cgi", 1, 4 if name.endswith(".Server") else 1, methods,
                         changes=frozenset({"set"}), admin=frozenset(methods)))
