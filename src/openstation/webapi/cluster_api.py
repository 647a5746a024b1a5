"""The clusters over the Web API: SYNO.SHA.Cluster (the High Availability pair) and
SYNO.Virtualization.Cluster (the VMM cluster)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from openstation.cluster.ha import HAService
from openstation.cluster.vmm import VMMService
from openstation.errors import ApiError
from openstation.webapi import envelope
from openstation.webapi.auth import client_ip
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Registry


def register(registry: Registry, ha: HAService, vmm: VMMService,
             http_port: Callable[[], int]) -> None:
    def who(call: ApiCall) -> str:
        return str(call.session.user)

    async def probe(call: ApiCall) -> dict[str, Any]:
        return ha.probe()

    async def create(call: ApiCall) -> dict[str, Any]:
        return await ha.create(
            who(call), call.param("peer"), call.param("peer_user"),
            call.params.get("peer_password", ""), call.param("cluster_name"),
            call.params.get("cluster_address", ""), call.params.get("quorum", ""),
            call.float_param("heartbeat_seconds", 1.0), call.float_param("failover_seconds", 5.0),
            peer_fingerprint=call.params.get("peer_fingerprint", ""))

    async def bind(call: ApiCall) -> dict[str, Any]:
        return await ha.bind(who(call), client_ip(call.request), dict(call.params))

    async def status(call: ApiCall) -> dict[str, Any]:
        return ha.status()

    async def switchover(call: ApiCall) -> dict[str, Any]:
        return await ha.switchover(who(call))

    async def remove(call: ApiCall) -> dict[str, Any]:
        return await ha.remove(who(call))

    registry.add(Api("SYNO.SHA.Cluster", "entry.cgi", 1, 1,
                     {"probe": probe, "create": create, "bind": bind, "status": status,
                      "switchover": switchover, "remove": remove},
                     public=frozenset({"probe"}),
                     changes=frozenset({"create", "bind", "switchover", "remove"}),
                     admin=frozenset({"create", "bind", "status", "switchover", "remove"})))

    def token(call: ApiCall) -> None:
        if not vmm.token_ok(call.params.get("token", "")):
            raise ApiError(envelope.NO_PERMISSION, errors={"reason": "not a cluster member"})

    async def vmm_status(call: ApiCall) -> dict[str, Any]:
        return vmm.status()

    async def vmm_create(call: ApiCall) -> dict[str, Any]:
        return await vmm.create(who(call), call.param("cluster_name"))

    async def vmm_join(call: ApiCall) -> dict[str, Any]:
        return await vmm.join(who(call), call.param("peer"), call.param("peer_user"),
                              call.params.get("peer_password", ""), http_port(),
                              peer_fingerprint=call.params.get("peer_fingerprint", ""))

    async def vmm_leave(call: ApiCall) -> dict[str, Any]:
        return await vmm.leave(who(call))

    async def add_member(call: ApiCall) -> dict[str, Any]:
        return await vmm.add_member(client_ip(call.request), dict(call.params))

    async def inventory(call: ApiCall) -> dict[str, Any]:
        token(call)
        return vmm.inventory()

    async def members(call: ApiCall) -> dict[str, Any]:
        token(call)
        try:
            listed = json.loads(call.param("members"))
            if not isinstance(listed, list) or not all(isinstance(m, str) for m in listed):
                raise ValueError
        except ValueError:
            raise ApiError(envelope.INVALID_PARAMETER,
                           errors={"members": "a JSON list of URLs"}) from None
        vmm.set_members(listed)
        return {}

    async def remove_member(call: ApiCall) -> dict[str, Any]:
        token(call)
        vmm.remove_member(call.param("url"))
        return {}

    registry.add(Api(
        "SYNO.Virtualization.Cluster", "entry.cgi", 1, 1,
        {"status": vmm_status, "create": vmm_create, "join": vmm_join, "leave": vmm_leave,
         "add_member": add_member, "inventory": inventory, "members": members,
         "remove_member": remove_member},
        public=frozenset({"inventory", "members", "remove_member"}),
        changes=frozenset({"create", "join", "leave", "add_member"}),
        admin=frozenset({"status", "create", "join", "leave", "add_member"})))
