"""Control Panel > Update & Restore > Configuration Backup over the Web API
(SYNO.Core.ConfigBackup: export, preview, restore, list_auto)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from openstation import offload
from openstation.config import auto_backup
from openstation.errors import ApiError
from openstation.webapi import envelope
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Registry

Exporter = Callable[[str | None], Awaitable[bytes]]
Previewer = Callable[[bytes, str | None, list[str] | None], Awaitable[dict[str, Any]]]
Restorer = Callable[[bytes, str | None, list[str] | None, str], Awaitable[dict[str, Any]]]


async def uploaded(call: ApiCall) -> bytes:
    """The backup file: a multipart `file` field (or a `content` text parameter)."""
    if call.request.content_type == "multipart/form-data":
        form = await call.request.post()  # already read (and cached) by the dispatcher
        field = form.get("file")
        if isinstance(field, web.FileField):
            data: bytes = await offload.run(field.file.read)  # up to 64 MiB
            return data
        if isinstance(field, bytes | bytearray):
            return bytes(field)
    if "content" in call.params:
        return call.params["content"].encode()
    raise ApiError(envelope.MISSING_PARAMETER, errors={"file": "upload the backup file"})


def sections_param(call: ApiCall) -> list[str] | None:
    raw = call.json_param("sections")
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        return list(raw)
    raise ApiError(envelope.INVALID_PARAMETER, errors={"sections": "a list of section names"})


def register(registry: Registry, ctx: WebContext, export: Exporter, preview: Previewer,
             restore: Restorer) -> None:
    async def export_file(call: ApiCall) -> web.Response:
        body = await export(call.params.get("passphrase") or None)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(ctx.clock()))
        return web.Response(body=body, content_type="application/octet-stream", headers={
            "Content-Disposition": f'attachment; filename="{ctx.hardware.model_name}-'
                                   f'{stamp}.dss.json"'})

    async def preview_file(call: ApiCall) -> dict[str, Any]:
        return await preview(await uploaded(call), call.params.get("passphrase") or None,
                       sections_param(call))

    async def restore_file(call: ApiCall) -> dict[str, Any]:
        report = await restore(await uploaded(call), call.params.get("passphrase") or None,
                               sections_param(call), str(call.session.user))
        return {"changes": report}

    async def list_auto(call: ApiCall) -> dict[str, Any]:
        found = auto_backup.snapshots(ctx.data_dir.volume)
        return {"total": len(found), "snapshots": [
            {"name": p.name, "size": p.stat().st_size, "mtime": int(p.stat().st_mtime)}
            for p in found]}

    methods: dict[str, Any] = {"export": export_file, "preview": preview_file,
               "restore": restore_file,
               "list_auto": list_auto}
    registry.add(Api("SYNO.Core.ConfigBackup", "entry.cgi", 1, 1, methods,
                     changes=frozenset({"restore", "export"}), admin=frozenset(methods)))
