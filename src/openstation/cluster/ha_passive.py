"""The passive server's side of the link: the mutual-TLS routes that apply what the active
ships (in sequence order, checked), the full resync's steps, promotion by a switchover, an
unbind, and the heartbeat both servers answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from openstation.cluster import replication as rep
from openstation.config.sections import Role
from openstation.config.store import RowChange
from openstation.errors import ReplicationError, ValidationError

if TYPE_CHECKING:
    from openstation.cluster.ha import HAService

Route = tuple[str, str, Callable[[web.Request], Awaitable[web.Response]]]


def passive_routes(svc: HAService) -> list[Route]:
    """The cluster port's routes, bound to `svc`."""
    def bound(handler: Callable[[HAService, web.Request], Awaitable[web.Response]]
              ) -> Callable[[web.Request], Awaitable[web.Response]]:
        return lambda request: handler(svc, request)

    return [("POST", "/ha/heartbeat", bound(on_heartbeat)), ("POST", "/ha/apply", bound(on_apply)),
            ("PUT", "/ha/file", bound(on_file)), ("POST", "/ha/sync", bound(on_sync)),
            ("POST", "/ha/promote", bound(on_promote)), ("POST", "/ha/leave", bound(on_leave))]


def refuse_unless_passive(svc: HAService) -> web.Response | None:
    if svc.ha.member and svc.ha.role == "passive":
        return None
    return web.json_response({"error": "not the passive server"}, status=409)


def in_order(svc: HAService, seq: int) -> web.Response | None:
    """Sequence 0 belongs to a full resync; others must follow the last one applied."""
    if seq == 0 or seq == svc.applied + 1:
        return None
    svc.in_sync = False
    return web.json_response({"error": f"out of order: {seq} after {svc.applied}; "
                                       "a full resync is needed"}, status=409)


async def on_apply(svc: HAService, request: web.Request) -> web.Response:
    if (refused := refuse_unless_passive(svc)) is not None:
        return refused
    try:
        body = await request.json()
        seq, op = int(body["seq"]), str(body["op"])
    except (ValueError, KeyError, TypeError):
        return web.json_response({"error": "send {seq, op}"}, status=400)
    if (refused := in_order(svc, seq)) is not None:
        return refused
    try:
        answer: dict[str, Any] = {}
        if op == "rows":
            # The appliers make them live (listeners, firewall): the events of the commit.
            rep.apply_rows(svc.store, [RowChange.from_json(raw) for raw in body["rows"]])
        elif op == "mkdir":
            await asyncio.to_thread(rep.apply_mkdir, svc.volume, str(body["path"]))
        elif op == "remove":
            await asyncio.to_thread(rep.apply_remove, svc.volume, str(body["path"]))
        elif op == "rename":
            answer["applied"] = await asyncio.to_thread(
                rep.apply_rename, svc.volume, str(body["src"]), str(body["dst"]))
        elif op == "commit":
            svc.applied = seq
        else:
            return web.json_response({"error": f"unknown op {op!r}"}, status=400)
    except (ReplicationError, ValidationError, ValueError, KeyError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    except OSError as exc:
        return web.json_response({"error": f"cannot apply: {exc.strerror}"}, status=507)
    return web.json_response(answer)


async def on_file(svc: HAService, request: web.Request) -> web.Response:
    if (refused := refuse_unless_passive(svc)) is not None:
        return refused
    try:
        seq = int(request.headers["X-Seq"])
        rel = str(json.loads(request.headers["X-Path"]))
        receiver = rep.Receiver(svc.volume, rel, request.headers["X-Sha256"])
    except (KeyError, ValueError, ReplicationError) as exc:
        return web.json_response({"error": f"bad file transfer: {exc}"}, status=400)
    if (refused := in_order(svc, seq)) is not None:
        receiver.abort()
        return refused
    try:
        async for block in request.content.iter_chunked(1 << 20):
            receiver.write(block)
        await asyncio.to_thread(receiver.finish)
    except ReplicationError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    except OSError as exc:  # e.g. the passive's volume is full: the pair degrades
        receiver.abort()
        return web.json_response({"error": f"cannot store the file: {exc.strerror}"},
                                 status=507)
    except BaseException:
        receiver.abort()
        raise
    return web.json_response({})


async def on_sync(svc: HAService, request: web.Request) -> web.Response:
    if (refused := refuse_unless_passive(svc)) is not None:
        return refused
    try:
        body = await request.json()
        step = str(body["step"])
    except (ValueError, KeyError, TypeError):
        return web.json_response({"error": "send {step}"}, status=400)
    try:
        if step == "begin":
            svc.in_sync = False
            rep.clear_incoming(svc.volume)
            items = await asyncio.to_thread(svc.manifest.items)
            return web.json_response({"manifest": rep.to_json(items),
                                      "boot": svc.boot_id})
        if step == "config":
            rows = [RowChange.from_json(raw) for raw in body["rows"]]
            rep.replace_config(svc.store, rows)
        elif step == "extras":
            await asyncio.to_thread(rep.apply_extras, svc.volume,
                                    [str(p) for p in body["paths"]])
        elif step == "done":
            svc.applied = int(body["seq"])
            svc.in_sync = True
            svc.reason = "in sync with the active server"
        else:
            return web.json_response({"error": f"unknown step {step!r}"}, status=400)
    except (ReplicationError, ValidationError, ValueError, KeyError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({})


async def on_promote(svc: HAService, request: web.Request) -> web.Response:
    """A switchover: the active hands over (it has shipped everything)."""
    if (refused := refuse_unless_passive(svc)) is not None:
        return refused
    if not svc.in_sync:
        return web.json_response({"error": "this passive server is not in sync"},
                                 status=409)
    try:
        epoch = int((await request.json())["epoch"])
    except (ValueError, KeyError, TypeError):
        return web.json_response({"error": "send {epoch}"}, status=400)
    svc.ha.role, svc.ha.epoch = Role.ACTIVE, epoch
    svc.save()
    svc.peer_state = "in sync"
    svc.log.restart()
    svc.peer = {**svc.peer, "role": "passive", "epoch": epoch, "in_sync": True}
    svc.since = svc.clock()
    await svc.serve(True)
    svc.reason = "promoted by a switchover"
    return web.json_response({})


async def on_leave(svc: HAService, _request: web.Request) -> web.Response:
    if not svc.ha.member:
        return web.json_response({})
    svc.spawn(svc.dissolve("peer"))  # after this answer is sent
    return web.json_response({})


async def on_heartbeat(svc: HAService, request: web.Request) -> web.Response:
    try:
        facts = await request.json()
        if not isinstance(facts, dict):
            raise ValueError
    except ValueError:
        return web.json_response({"error": "send the sender's facts"}, status=400)
    if not svc.ha.member:
        return web.json_response({"error": "not in a cluster"}, status=409)
    svc.heard(facts)
    return web.json_response(svc.mine())
