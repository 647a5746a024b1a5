"""SYNO.API.Info: which APIs exist, where, and in which versions."""

from __future__ import annotations

from typing import Any

from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Registry


def register(registry: Registry) -> None:
    """Add SYNO.API.Info, answering from `registry` itself."""

    async def query(call: ApiCall) -> dict[str, Any]:
        return registry.query(call.params.get("query"))

    registry.add(Api("SYNO.API.Info", "query.cgi", 1, 1, {"query": query},
                     needs_session=False))
