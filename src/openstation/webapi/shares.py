"""Control Panel > Shared Folder over the Web API: SYNO.Core.Share create/get/set/delete,
SYNO.Core.Share.Crypto (mount, unmount, export_key, change passphrase) and
SYNO.Core.Share.KeyManager (list, add, delete, mount), .KeyManager.AutoKey (list: the keys
that mount at boot), .KeyManager.Store (explore), SYNO.Core.RecycleBin (get: each share's
recycle bin and what it holds) and SYNO.Core.Quota (list: each share's quota and use)."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from openstation import offload
from openstation.config.sections import KeyEntry, Protection, Share
from openstation.errors import ApiError, WrongKeyError
from openstation.storage import recycle
from openstation.storage.service import StorageService
from openstation.webapi import envelope
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Registry

Handler = Callable[[ApiCall], Awaitable[Any]]


def share_json(storage: StorageService, share: Share) -> dict[str, Any]:
    return {"name": share.name, "uuid": share.uuid, "desc": share.description,
            "vol_path": "/volume1", "hidden": share.hidden,
            "enable_recycle_bin": share.recycle_bin, "encryption": 1 if share.encrypted else 0,
            "is_mounted": storage.is_mounted(share),
            "mount_on_startup": share.mount_on_startup,
            "share_quota": share.quota_mb, "enable_share_quota": share.quota_mb > 0,
            "share_quota_used": round(storage.quotas.used.get(share.name, 0) / 2**20, 2)
            if share.quota_mb else None,
            "permissions": storage.named(share)}


def key_errors(handler: Handler) -> Handler:
    """A wrong passphrase or key file is an invalid parameter (120), with the reason."""

    @functools.wraps(handler)
    async def mapped(call: ApiCall) -> Any:
        try:
            return await handler(call)
        except WrongKeyError as exc:
            raise ApiError(envelope.INVALID_PARAMETER, errors={"reason": str(exc)}) from None

    return mapped


def flag(value: Any) -> bool | None:
    """A true/false a client sent (a JSON boolean, or true/false, 1/0, yes/no); None when
    absent; anything else is refused (120)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    lowered = str(value).lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ApiError(envelope.INVALID_PARAMETER, errors={"reason": f"{value!r} is no flag"})


def register(registry: Registry, ctx: WebContext, storage: StorageService,
             settle: Callable[[], Awaitable[None]]) -> None:
    """`create`, `set` and `delete` answer once the change is live: smbd and rsyncd serve
    the share as it now is (a bin switched on recycles the next SMB delete)."""

    def who(call: ApiCall) -> str:
        return str(call.session.user)

    def info(call: ApiCall) -> dict[str, Any]:
        raw = call.json_param("shareinfo", {})
        merged = dict(raw) if isinstance(raw, dict) else {}
        for key in ("desc", "hidden", "enable_recycle_bin", "encryption", "enc_passwd",
                    "permissions", "mount_on_startup", "share_quota", "enable_share_quota"):
            if key in call.params and key not in merged:
                merged[key] = call.json_param(key) if key == "permissions" else \
                    call.params[key]
        return merged

    def quota_of(details: dict[str, Any]) -> int | None:
        """DSM's share_quota (MB; 0 or enable_share_quota=false: none)."""
        if flag(details.get("enable_share_quota")) is False:
            return 0
        value = details.get("share_quota")
        if value is None:
            return None
        try:
            return int(value)
        except (TypeError, ValueError, OverflowError):
            raise ApiError(envelope.INVALID_PARAMETER,
                           errors={"share_quota": "a size in MB"}) from None

    def permissions_of(details: dict[str, Any]) -> dict[str, str] | None:
        permissions = details.get("permissions")
        if permissions is not None and not isinstance(permissions, dict):
            raise ApiError(envelope.INVALID_PARAMETER, errors={"permissions": "an object"})
        return permissions


    async def create(call: ApiCall) -> dict[str, Any]:
        details = info(call)
        permissions = permissions_of(details)
        share = await storage.create_share(
            call.param("name"), actor=who(call), description=str(details.get("desc", "")),
            encrypted=bool(flag(details.get("encryption"))),
            passphrase=details.get("enc_passwd"), hidden=bool(flag(details.get("hidden"))),
            recycle_bin=bool(flag(details.get("enable_recycle_bin"))),
            permissions=permissions, quota_mb=quota_of(details) or 0)
        await settle()
        return {"name": share.name, "uuid": share.uuid}

    async def get(call: ApiCall) -> dict[str, Any]:
        return share_json(storage, storage.share(call.param("name")))

    async def set_(call: ApiCall) -> dict[str, Any]:
        details = info(call)
        permissions = permissions_of(details)
        share = storage.set_share(
            call.param("name"), actor=who(call),
            description=details.get("desc"), hidden=flag(details.get("hidden")),
            recycle_bin=flag(details.get("enable_recycle_bin")), permissions=permissions,
            mount_on_startup=flag(details.get("mount_on_startup")),
            quota_mb=quota_of(details))
        await settle()
        return share_json(storage, share)

    async def delete(call: ApiCall) -> dict[str, Any]:
        await storage.delete_share(call.param("name"), actor=who(call),
                             confirm=call.bool_param("confirm") or False)
        await settle()
        return {}

    @key_errors
    async def mount(call: ApiCall) -> dict[str, Any]:
        key = call.params.get("key_file")
        await storage.mount(call.param("name"), passphrase=call.params.get("password"),
                      key_file=key.encode() if key else None)
        return {}

    async def unmount(call: ApiCall) -> dict[str, Any]:
        await storage.unmount(call.param("name"))
        return {}

    @key_errors
    async def export_key(call: ApiCall) -> web.Response:
        name = call.param("name")
        body = await storage.export_key(name, call.param("password"))
        return web.Response(body=body, content_type="application/octet-stream", headers={
            "Content-Disposition": f'attachment; filename="{name}.key"'})

    @key_errors
    async def change_password(call: ApiCall) -> dict[str, Any]:
        await storage.change_passphrase(call.param("name"), call.param("password"),
                                  call.param("new_password"), who(call))
        return {}

    async def keys_list(call: ApiCall) -> dict[str, Any]:
        return {"keys": [{"name": k.share, "protection": k.protection, "created": k.created}
                         for k in ctx.store.records(KeyEntry)]}

    async def recycle_bins(call: ApiCall) -> dict[str, Any]:
        """Each share's recycle bin: on or off, and what it holds (counted off the loop)."""
        shares = [share for share in ctx.store.records(Share) if storage.is_mounted(share)]

        def held(share: Share) -> tuple[int, int]:
            files = size = 0
            for folder, _dirs, names in os.walk(storage.volume / share.name / recycle.FOLDER):
                for name in names:
                    files += 1
                    with contextlib.suppress(OSError):
                        size += os.lstat(os.path.join(folder, name)).st_size
            return files, size

        counts = await offload.run(lambda: [held(share) for share in shares])
        return {"shares": [{"name": share.name, "enable_recycle_bin": share.recycle_bin,
                            "path": f"/{share.name}/{recycle.FOLDER}", "files": files,
                            "size": size} for share, (files, size) in zip(shares, counts,
                                                                          strict=True)]}

    async def auto_keys(call: ApiCall) -> dict[str, Any]:
        """DSM's "automatic" keys: those sealed by the machine key, which mount at boot."""
        keys = [k for k in ctx.store.records(KeyEntry) if k.protection is Protection.MACHINE]
        return {"keys": [{"name": k.share, "created": k.created} for k in keys],
                "total": len(keys)}

    async def stores(call: ApiCall) -> dict[str, Any]:
        """Where Key Manager keeps keys: the system partition, wrapped by the machine key
        or by the key-store passphrase (one store: no external one is offered)."""
        kinds = sorted({k.protection.value for k in ctx.store.records(KeyEntry)})
        return {"stores": [{"location": "system", "protections": kinds,
                            "keys": len(ctx.store.keys(KeyEntry))}]}

    @key_errors
    async def keys_add(call: ApiCall) -> dict[str, Any]:
        key = call.params.get("key_file")
        await storage.key_manager_add(
            call.param("name"), actor=who(call), passphrase=call.params.get("password"),
            key_file=key.encode() if key else None,
            protection=call.params.get("protection", "machine"),
            keystore_passphrase=call.params.get("keystore_password"))
        return await keys_list(call)

    async def keys_delete(call: ApiCall) -> dict[str, Any]:
        storage.key_manager_delete(call.param("name"), actor=who(call))
        return await keys_list(call)

    @key_errors
    async def keys_mount(call: ApiCall) -> dict[str, Any]:
        await storage.key_manager_mount(call.param("name"),
                                  call.params.get("keystore_password"))
        return {}

    core = registry.get("SYNO.Core.Share")
    assert core is not None
    core.methods.update({"create": create, "get": get, "set": set_, "delete": delete})
    core.changes = frozenset({"create", "set", "delete"})
    core.admin = frozenset({"list", "create", "get", "set", "delete"})
    async def crypto_get(call: ApiCall) -> dict[str, Any]:
        share = storage.share(call.param("name"))
        return {"name": share.name, "encryption": int(share.encrypted),
                "is_mounted": storage.is_mounted(share) if share.encrypted else True,
                "mount_on_startup": share.mount_on_startup,
                "in_key_manager": ctx.store.record(KeyEntry, share.name) is not None}

    # DSM's own names (synology-api's decrypt_folder / encrypt_folder): decrypt mounts an
    # encrypted share with its password, encrypt unmounts it
    crypto = {"mount": mount, "unmount": unmount, "decrypt": mount, "encrypt": unmount,
              "export_key": export_key, "change_password": change_password,
              "get": crypto_get}
    registry.add(Api("SYNO.Core.Share.Crypto", "entry.cgi", 1, 1, crypto,
                     changes=frozenset(crypto) - {"get"}, admin=frozenset(crypto)))
    registry.add(Api("SYNO.Core.Share.KeyManager", "entry.cgi", 1, 1,
                     {"list": keys_list, "add": keys_add, "delete": keys_delete,
                      "mount": keys_mount},
                     changes=frozenset({"add", "delete", "mount"}),
                     admin=frozenset({"list", "add", "delete", "mount"})))
    async def quota_list(call: ApiCall) -> dict[str, Any]:
        """Each shared folder's quota and use (MB) on volume1. Per-user quotas need the
        volume's own file system quotas, which a folder of the host's does not have."""
        shares = ctx.store.records(Share)
        used = storage.quotas.used
        return {"volumes": [{
            "volume_path": "/volume1", "support_share_quota": True,
            "support_user_quota": False,
            "shares": [{"name": s.name, "enable_share_quota": s.quota_mb > 0,
                        "share_quota": s.quota_mb,
                        "share_quota_used": round(used[s.name] / 2**20, 2)
                        if s.quota_mb and s.name in used else None,
                        "is_full": s.name in storage.quotas.full} for s in shares]}],
            "user_quota": [], "total": 1}

    registry.add(Api("SYNO.Core.Quota", "entry.cgi", 1, 1, {"list": quota_list},
                     admin=frozenset({"list"})))
    registry.add(Api("SYNO.Core.RecycleBin", "entry.cgi", 1, 1, {"get": recycle_bins},
                     admin=frozenset({"get"})))
    registry.add(Api("SYNO.Core.Share.KeyManager.AutoKey", "entry.cgi", 1, 1,
                     {"list": auto_keys}, admin=frozenset({"list"})))
    registry.add(Api("SYNO.Core.Share.KeyManager.Store", "entry.cgi", 1, 1,
                     {"explore": stores}, admin=frozenset({"explore"})))
