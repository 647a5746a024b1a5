"""DSM's answer envelope: always HTTP 200 and JSON, success or failure."""

from __future__ import annotations

from typing import Any

from aiohttp import web

# Common codes (DESIGN.md §7); auth codes live with the auth API.
UNKNOWN = 100
NO_API_METHOD_VERSION = 101
API_NOT_FOUND = 102
METHOD_NOT_FOUND = 103
VERSION_NOT_SUPPORTED = 104
NO_PERMISSION = 105
SESSION_TIMEOUT = 106
MISSING_PARAMETER = 114
SID_NOT_FOUND = 119
INVALID_PARAMETER = 120


def success(data: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"success": True}
    if data is not None:
        body["data"] = data
    return web.json_response(body)


def failure(code: int, **extra: Any) -> web.Response:
    return web.json_response({"success": False, "error": {"code": code, **extra}})
