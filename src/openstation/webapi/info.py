"""SYNO.API.Info: which APIs exist, where, and in which versions."""

from __future__ import annotations

import json

from aiohttp import web

from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Registry

# Distinct `query` values whose encoded answer is kept (clients ask the same few).
CACHED_QUERIES = 64


def register(registry: Registry) -> None:
    """Add SYNO.API.Info, answering from `registry` itself.

    Clients call it first and often; the answer only changes when an API is added, so it is
    encoded once per distinct query and served as bytes."""
    answers: dict[tuple[int, str | None], bytes] = {}

    async def query(call: ApiCall) -> web.Response:
        wanted = call.params.get("query")
        key = (registry.version, wanted)
        body = answers.get(key)
        if body is None:
            if len(answers) >= CACHED_QUERIES:
                answers.clear()
            body = answers[key] = json.dumps(
                {"success": True, "data": registry.query(wanted)}).encode()
        return web.Response(body=body, content_type="application/json")

    # "Query": the spelling some clients send (synology-api's api_info)
    registry.add(Api("SYNO.API.Info", "query.cgi", 1, 1, {"query": query, "Query": query},
                     needs_session=False))
