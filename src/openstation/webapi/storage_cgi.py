"""Storage Manager's detail APIs over the Web API, from the same facts as
SYNO.Storage.CGI.Storage (storage_info.py): SYNO.Storage.CGI.HddMan (get), .Smart (list,
get_health_info, get_smart_info, smart_warning_get: the virtual bays, whose health is the
volume's and says "virtual"), .Smart.Scheduler and .Spare (list: none scheduled, no spares),
.Spare.Conf (get), .Check (is_building, is_data_scrubbing, should_ask_for_fsck_scan: nothing
runs), .Pool (get_setting, enum_resource), .Volume (get_space_usage from the file system,
enum_resource, ssd_trim_get and next_trim_time_get: no SSD). Expansion units, SSD caches,
volume encryption, iSCSI and disk firmware are answered by absent.py."""

from __future__ import annotations

import shutil
from typing import Any

from openstation.errors import NotFoundError
from openstation.webapi.absent import empty_list
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry
from openstation.webapi.storage_info import VOLUME_ID, VOLUME_PATH, facts


def register(registry: Registry, ctx: WebContext) -> None:
    def disks() -> list[dict[str, Any]]:
        return list(facts(ctx)["disks"])

    def smart(disk: dict[str, Any]) -> dict[str, Any]:
        return {"device": disk["device"], "id": disk["id"], "name": disk["name"],
                "is_virtual": True, "overview_status": "normal", "healthInfo": "normal",
                "smart_status": disk["smart_status"], "temperature": disk["temp"],
                "attributes": [], "testing": False, "last_test": None}

    def wanted_disk(call: ApiCall) -> dict[str, Any]:
        wanted = call.params.get("device", call.params.get("id", "")).strip('"')
        for disk in disks():
            if wanted in (disk["id"], disk["device"]):
                return disk
        if not wanted and disks():
            return disks()[0]
        raise NotFoundError(f"no disk {wanted!r}")

    async def hddman_get(call: ApiCall) -> dict[str, Any]:
        return {"disks": disks(), "total": len(disks())}

    async def smart_list(call: ApiCall) -> dict[str, Any]:
        return {"disks": [smart(disk) for disk in disks()]}

    async def smart_one(call: ApiCall) -> dict[str, Any]:
        return smart(wanted_disk(call))

    async def smart_warning(call: ApiCall) -> dict[str, Any]:
        # virtual disks keep no S.M.A.R.T. attributes: nothing to warn about
        return {"enable_smart_warning": False, "supported": False, "is_virtual": True}

    async def check(call: ApiCall) -> dict[str, Any]:
        return {"result": False, "building": False, "scrubbing": False}

    async def spare_conf(call: ApiCall) -> dict[str, Any]:
        return {"enable": False, "spares": []}

    async def pool_setting(call: ApiCall) -> dict[str, Any]:
        return {"pool_path": "reuse_1", "raid_type": "virtual", "data_scrubbing": False,
                "scrubbing_schedule": None}

    async def resources(call: ApiCall) -> dict[str, Any]:
        info = facts(ctx)
        return {"disks": info["disks"], "pools": info["storagePools"],
                "volumes": info["volumes"]}

    async def space_usage(call: ApiCall) -> dict[str, Any]:
        usage = shutil.disk_usage(ctx.data_dir.volume)
        return {"volume_path": VOLUME_PATH, "id": VOLUME_ID, "total": usage.total,
                "used": usage.total - usage.free, "free": usage.free,
                "percent": round(100 * (usage.total - usage.free) / usage.total, 1)
                if usage.total else 0.0}

    async def no_trim(call: ApiCall) -> dict[str, Any]:
        return {"enable": False, "supported": False, "next_trim_time": None}

    cgi = "SYNO.Storage.CGI"
    apis: dict[str, dict[str, Handler]] = {
        f"{cgi}.HddMan": {"get": hddman_get},
        f"{cgi}.Smart": {"list": smart_list, "get_health_info": smart_one,
                         "get_smart_info": smart_one, "smart_warning_get": smart_warning},
        f"{cgi}.Smart.Scheduler": {"list": empty_list("tasks")},
        f"{cgi}.Spare": {"list": empty_list("spares")},
        f"{cgi}.Spare.Conf": {"get": spare_conf},
        f"{cgi}.Check": {"is_building": check, "is_data_scrubbing": check,
                         "should_ask_for_fsck_scan": check},
        f"{cgi}.Pool": {"get_setting": pool_setting, "enum_resource": resources},
        f"{cgi}.Volume": {"get_space_usage": space_usage, "enum_resource": resources,
                          "ssd_trim_get": no_trim, "next_trim_time_get": no_trim},

    }
    for name, methods in apis.items():
        registry.add(Api(name, "entry.cgi", 1, 1, methods, admin=frozenset(methods)))
