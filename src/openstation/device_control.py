"""The routes of the local control channel (system/panel.sock): status, the RESET button,
a reset decision (for tests and benchmarks), settings and configuration backup — what the
CLI uses on a running device."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from aiohttp import web

from openstation import settings
from openstation.config.sections import Ports, Share
from openstation.errors import OpenStationError, ValidationError
from openstation.ui.front import press_or_release
from openstation.webapi.shares import share_json

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

    async def config(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            section, values = str(body["section"]), dict(body.get("values", {}))
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "send {section, values}"}, status=400)
        try:
            if section == "ports" and values:
                current = device.wanted_ports(device.store) if device.store else (0, 0)
                typed = settings.convert(Ports, values)
                await device.change_ports("cli", typed.get("http", current[0]),
                                        typed.get("https", current[1]))
                result = settings.read(device.store, section) if device.store else {}
            elif values:
                assert device.store is not None
                result = settings.apply(device.store, device.network, device.security, section,
                                        {k: str(v) for k, v in values.items()}, "cli")
            else:
                assert device.store is not None
                result = settings.read(device.store, section)
        except ValidationError as exc:
            return web.json_response({"error": str(exc), "problems": exc.problems},
                                     status=400)
        except OpenStationError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"section": section, "values": result})

    async def backup_restore(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            action = body["action"]
            passphrase = body.get("passphrase") or None
            raw = base64.b64decode(body.get("file", ""))
            sections = body.get("sections") or None
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "send {action, file, passphrase}"},
                                     status=400)
        try:
            if action == "backup":
                return web.json_response(
                    {"file": base64.b64encode(await device.backups.backup(passphrase)).decode()})
            if action == "preview":
                return web.json_response(await device.backups.preview(raw, passphrase,
                                                                      sections))
            if action == "restore":
                changes = await device.backups.restore(raw, passphrase, sections, "cli")
                return web.json_response({"changes": changes})
        except OpenStationError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"error": "action: backup, preview or restore"},
                                 status=400)

    async def share(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            action, name = str(body["action"]), str(body.get("name", ""))
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "send {action, name}"}, status=400)
        storage = device.web.storage
        try:
            if action == "create":
                await storage.create_share(name, actor="cli", encrypted=bool(body.get("encrypted")),
                                     passphrase=body.get("passphrase"),
                                     description=str(body.get("description", "")))
            elif action == "delete":
                storage.delete_share(name, actor="cli", confirm=bool(body.get("confirm")))
            elif action == "mount":
                key = body.get("key_file")
                await storage.mount(name, passphrase=body.get("passphrase"),
                              key_file=base64.b64decode(key) if key else None)
            elif action == "unmount":
                storage.unmount(name)
            elif action != "list":
                return web.json_response({"error": "unknown action"}, status=400)
        except OpenStationError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"shares": [share_json(storage, s) for s in
                                             storage.store.records(Share)]})

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
                    float(args.get("failover_seconds", 5.0))))
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
                    str(args.get("peer_password", "")), device.ports.get("http", 0)))
            if (kind, action) == ("vmm", "leave"):
                return web.json_response(await vmm.leave("cli"))
        except ValidationError as exc:
            return web.json_response({"error": str(exc), "problems": exc.problems},
                                     status=400)
        except (OpenStationError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"error": f"unknown: {kind} {action}"}, status=400)

    return [("GET", "/status", status), ("POST", "/cluster", cluster), ("POST", "/share", share),
            ("POST", "/button", button), ("POST", "/reset", reset), ("POST", "/config", config),
            ("POST", "/backup", backup_restore)]
