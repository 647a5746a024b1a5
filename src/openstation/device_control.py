"""The routes of the local control channel (system/panel.sock): status, the RESET button,
a reset decision (for tests and benchmarks), the cluster commands, and every operation of
the CLI's table (`operations.py`) — what the CLI uses on a running device."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from openstation import operations
from openstation.errors import ConflictError, OpenStationError, ValidationError
from openstation.ui.front import press_or_release

if TYPE_CHECKING:
    from openstation.device import Device


def control_routes(device: Device) -> list[tuple[str, str, Any]]:
    """(method, path, handler) for the control server."""
    async def status(_request: web.Request) -> web.Response:
        return web.json_response(device.snapshot())

    async def button(request: web.Request) -> web.Response:
        return await press_or_release(device.panel, request)

    async def reset(request: web.Request) -> web.Response:
        # The decision as the button would take it; for tests and benchmarks.
        try:
            mode = int((await request.json()).get("mode"))
        except (ValueError, TypeError, AttributeError):
            mode = 0
        if mode not in (1, 2):
            return web.json_response({"error": "mode must be 1 or 2"}, status=400)
        why = device.resets.why_not(mode)
        if why is not None:
            return web.json_response({"error": why}, status=409)
        device.resets.start(mode, "control")
        return web.json_response({"accepted": True, "mode": mode})

    async def op(request: web.Request) -> web.Response:
        """One operation of the CLI's table (operations.py), on this device's services."""
        try:
            body = await request.json()
            name, args = str(body["op"]), dict(body.get("args") or {})
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "send {op, args}"}, status=400)
        try:
            return web.json_response({"result": await operations.run(device, name, args)})
        except (KeyError, TypeError, ValueError) as exc:
            return web.json_response({"error": f"bad arguments for {name}: {exc}"},
                                     status=400)
        except OpenStationError as exc:
            return answer_error(exc)

    async def cluster(request: web.Request) -> web.Response:
        """`openstation ha …` and `openstation vmm …` (local access stands for an admin)."""
        try:
            body = await request.json()
            kind, action = str(body["kind"]), str(body["action"])
            args = dict(body.get("args", {}))
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "send {kind, action, args}"}, status=400)
        if device.store is None:
            return web.json_response({"error": "the device is rebooting"}, status=409)
        ha, vmm = device.ha, device.vmm
        try:
            if (kind, action) == ("ha", "status"):
                return web.json_response(ha.status())
            if (kind, action) == ("ha", "create"):
                return web.json_response(await ha.create(
                    "cli", str(args.get("peer", "")), str(args.get("peer_user", "")),
                    str(args.get("peer_password", "")), str(args.get("cluster_name", "")),
                    str(args.get("cluster_address", "")), str(args.get("quorum", "")),
                    float(args.get("heartbeat_seconds", 1.0)),
                    float(args.get("failover_seconds", 5.0)),
                    peer_fingerprint=str(args.get("peer_fingerprint", ""))))
            if (kind, action) == ("ha", "switchover"):
                return web.json_response(await ha.switchover("cli"))
            if (kind, action) == ("ha", "remove"):
                return web.json_response(await ha.remove("cli"))
            if (kind, action) == ("vmm", "status"):
                return web.json_response(vmm.status())
            if (kind, action) == ("vmm", "create"):
                return web.json_response(await vmm.create("cli",
                                                          str(args.get("cluster_name", ""))))
            if (kind, action) == ("vmm", "join"):
                return web.json_response(await vmm.join(
                    "cli", str(args.get("peer", "")), str(args.get("peer_user", "")),
                    str(args.get("peer_password", "")), device.ports.get("http", 0),
                    peer_fingerprint=str(args.get("peer_fingerprint", ""))))
            if (kind, action) == ("vmm", "leave"):
                return web.json_response(await vmm.leave("cli"))
        except OpenStationError as exc:
            return answer_error(exc)
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"error": f"unknown: {kind} {action}"}, status=400)

    return [("GET", "/status", status), ("POST", "/cluster", cluster), ("POST", "/op", op),
            ("POST", "/button", button), ("POST", "/reset", reset)]


def answer_error(exc: OpenStationError) -> web.Response:
    """The control socket's one error boundary: the message, each invalid field, and 409
    for what the device's state refuses (the CLI prints them and exits 1)."""
    body: dict[str, Any] = {"error": str(exc)}
    if isinstance(exc, ValidationError):
        body["problems"] = exc.problems
    return web.json_response(body, status=409 if isinstance(exc, ConflictError) else 400)
