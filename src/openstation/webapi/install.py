"""POST /webman/install.cgi: the install endpoint the CLI (and the web wizard) use.

The answer streams one JSON object per line (application/x-ndjson): a progress line per
step, then a last line with "done": true and "success". Invalid input is refused before
any change, in that last line, with every problem named.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from openstation.errors import ConflictError, OpenStationError, ValidationError
from openstation.lifecycle.install import Installer, InstallRequest

FIELDS = ("server_name", "admin_user", "password", "restore")
RestoreLatest = Callable[[str], Awaitable[str]]


async def _fields(request: web.Request) -> dict[str, str] | None:
    """The install fields; None unless sent as JSON, which a cross-site form cannot send."""
    if request.content_type != "application/json":
        return None
    try:
        body = await request.json()
    except ValueError:
        return {}
    return {key: str(body[key]) for key in FIELDS if isinstance(body, dict) and key in body}


def install_handler(installer: Installer, restore_latest: RestoreLatest) -> Any:
    """The aiohttp handler for the install endpoint (`restore=latest`: then restore the
    newest automatic configuration snapshot found on volume1)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        fields = await _fields(request)
        if fields is None:
            return web.json_response({"done": True, "success": False, "error": {
                "message": "send the install fields as application/json"}}, status=415)
        missing = [key for key in ("server_name", "admin_user") if not fields.get(key)]
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)

        async def send(line: dict[str, Any]) -> None:
            # The install goes on to the end even if the client has gone away.
            with contextlib.suppress(ConnectionError, RuntimeError):
                await response.write(json.dumps(line).encode() + b"\n")

        if missing:
            await send({"done": True, "success": False, "error": {
                "message": "missing fields: " + ", ".join(missing),
                "problems": {key: "is required" for key in missing}}})
            return response
        install = InstallRequest(fields["server_name"], fields["admin_user"],
                                 fields.get("password", ""))
        try:
            async for progress in installer.install(install, actor=install.admin_user):
                await send({"step": progress.step, "progress": progress.fraction,
                            "detail": progress.detail})
        except ValidationError as exc:
            await send({"done": True, "success": False,
                        "error": {"message": str(exc), "problems": exc.problems}})
        except ConflictError as exc:
            await send({"done": True, "success": False, "error": {"message": str(exc)}})
        else:
            if fields.get("restore") == "latest":
                await send({"step": "Restoring the configuration", "progress": 1.0})
                try:
                    detail = await restore_latest(install.admin_user)
                except OpenStationError as exc:
                    await send({"done": True, "success": False, "error": {
                        "message": f"installed, but the restore failed: {exc}"}})
                    return response
                await send({"step": "Restored the configuration", "progress": 1.0,
                            "detail": detail})
            await send({"done": True, "success": True})
        with contextlib.suppress(ConnectionError, RuntimeError):
            await response.write_eof()
        return response

    return handle
