"""Storage as DSM clients read it: SYNO.Storage.CGI.Storage and SYNO.Core.Share list —
figures from the file system holding volume1."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any

import psutil

from openstation import offload
from openstation.config.sections import Share
from openstation.errors import NotFoundError
from openstation.storage.quota import folder_bytes
from openstation.storage.volume import metadata_folder
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Registry

VOLUME_ID = "volume_1"
VOLUME_PATH = "/volume1"


def facts(ctx: WebContext) -> dict[str, Any]:
    """Disks, pool and volume as DSM describes them: the volume's figures are the file
    system's holding volume1; its disks are the model's bays, virtual (said so)."""
    model = ctx.hardware.model
    usage = shutil.disk_usage(ctx.data_dir.volume)
    disk_ids = [f"sata{n + 1}" for n in range(model.drive_bays)]
    disks = [{"id": disk, "name": f"Drive {n + 1}", "device": f"/dev/{disk}",
              "smart_status": "normal", "status": "normal", "temp": 35,
              "exceed_bad_sector_thr": False, "below_remain_life_thr": False,
              "model": "Virtual Disk", "vendor": "openstation", "is_virtual": True,
              "size_total": str(usage.total), "diskType": "SATA"}
             for n, disk in enumerate(disk_ids)]
    size = {"total": str(usage.total), "used": str(usage.total - usage.free)}
    return {
        "disks": disks,
        "storagePools": [{"id": "reuse_1", "disks": disk_ids, "deploy_path": VOLUME_ID,
                          "pool_child": [{"id": VOLUME_ID}], "status": "normal",
                          "size": size}],
        "volumes": [{"id": VOLUME_ID, "status": "normal", "device_type": "shr_with_1_disk",
                     "fs_type": file_system(ctx.data_dir.volume), "size": size,
                     "vol_path": VOLUME_PATH}],
        "env": {"status": {"system_crashed": False, "system_need_repair": False}},
    }


@functools.lru_cache(maxsize=8)  # a volume's file system does not change while it runs
def file_system(path: Path) -> str:
    """The type of the file system holding `path` (ext4, btrfs, xfs …), from the mounts."""
    best, kind = "", "unknown"
    resolved = str(path.resolve())
    for part in psutil.disk_partitions(all=True):
        mount = part.mountpoint
        if (resolved == mount or resolved.startswith(mount.rstrip("/") + "/")) \
                and len(mount) > len(best):
            best, kind = mount, part.fstype
    return kind


def register(registry: Registry, ctx: WebContext) -> None:
    """Add the storage information APIs."""
    async def load_info(call: ApiCall) -> dict[str, Any]:
        return facts(ctx)

    async def share_list(call: ApiCall) -> dict[str, Any]:
        shares = ctx.store.records(Share)
        used = await offload.run(lambda: [  # a walk of every share: off the loop
            folder_bytes(metadata_folder(ctx.data_dir.volume, share.name, share.encrypted))
            for share in shares])
        return {"total": len(shares), "shares": [{
            "uuid": share.uuid, "name": share.name, "vol_path": VOLUME_PATH,
            "desc": share.description, "hidden": share.hidden,
            "enable_recycle_bin": share.recycle_bin, "encryption": 1 if share.encrypted else 0,
            "is_aclmode": False, "unite_permission": False,
            "share_quota": share.quota_mb, "share_quota_used": round(size / 2**20, 2),
        } for share, size in zip(shares, used, strict=True)]}

    def one(kind: str, key: str, name: str) -> Any:
        async def get(call: ApiCall) -> dict[str, Any]:
            wanted = call.param(name)
            for item in facts(ctx)[kind]:
                if wanted in (item["id"], item.get("vol_path")):
                    return {key: item}
            raise NotFoundError(f"no {key} {wanted!r}")
        return get

    def listed(kind: str) -> Any:
        async def answer(call: ApiCall) -> dict[str, Any]:
            found = facts(ctx)[kind]
            return {kind: found, "total": len(found)}
        return answer

    registry.add(Api("SYNO.Storage.CGI.Storage", "entry.cgi", 1, 1, {"load_info": load_info}))
    # synology-api's core_storage: the same facts, one kind at a time
    for api, kind, key, name in (("SYNO.Core.Storage.Disk", "disks", "disk", "id"),
                                 ("SYNO.Core.Storage.Pool", "storagePools", "pool", "id"),
                                 ("SYNO.Core.Storage.Volume", "volumes", "volume",
                                  "volume_path")):
        registry.add(Api(api, "entry.cgi", 1, 1,
                         {"list": listed(kind), "get": one(kind, key, name)},
                         admin=frozenset({"list", "get"})))
    registry.add(Api("SYNO.Core.Share", "entry.cgi", 1, 1, {"list": share_list}))
