"""What runs, as DSM's clients read it: SYNO.Core.Package (list, get),
SYNO.Core.Package.Control (start, stop), SYNO.Core.Service (get) and
SYNO.Core.System.Status (get). openstation's "packages" are its real features:
the file services and the Hyper Backup Vault start and stop through their settings (the
services), the apps built into the device (File Station, Hyper Backup, Log Center) run
always and say so when asked to stop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from openstation import __version__
from openstation.backup.service import BackupService
from openstation.config.store import AuditEntry
from openstation.errors import NotFoundError
from openstation.fileserv.service import FileServicesService
from openstation.lifecycle.status import Status
from openstation.packages import BUILT_IN, PACKAGES, SERVICE_IDS, Package, switch
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry

VERSION = f"{__version__}-0001"


def register(registry: Registry, services: FileServicesService, backups: BackupService,
             status: Callable[[], dict[str, Any]], settle: Callable[[], Awaitable[None]],
             installed_at: Callable[[], float], device_status: Callable[[], Status],
             audit: Callable[[str], list[AuditEntry]]) -> None:
    def package_of(call: ApiCall) -> Package:
        wanted = call.param("id")
        found = next((p for p in PACKAGES if p.id == wanted), None)
        if found is None:
            raise NotFoundError(f"no package {wanted!r}")
        return found

    def state(package: Package, running: dict[str, Any]) -> tuple[str, str]:
        """(status, why) as the feature runs now."""
        if package.id == "HyperBackupVault":
            return ("running", "") if backups.vault().enabled else ("stop", "")
        if not package.setting:
            return "running", ""
        entry = running.get(package.status_of, {})
        if not entry.get("enabled"):
            return "stop", ""
        return ("running" if entry.get("state") == "running" else "broken",
                str(entry.get("why", "")))

    def describe(package: Package, running: dict[str, Any]) -> dict[str, Any]:
        status, why = state(package, running)
        startable = package.id not in BUILT_IN
        return {"id": package.id, "name": package.name, "version": VERSION,
                "timestamp": int(installed_at() * 1000), "additional": {
                    "status": status, "status_code": 0 if status == "running" else 1,
                    "status_origin": status, "status_description": why or status,
                    "description": package.description,
                    "description_enu": package.description, "dependent_packages": {},
                    "beta": False, "distributor": "openstation", "distributor_url": "",
                    "maintainer": "openstation", "maintainer_url": "",
                    "dsm_apps": f"SYNO.SDS.{package.id}", "dsm_app_page": "",
                    "dsm_app_launch_name": "", "report_beta_url": "", "support_center": False,
                    "startable": startable, "installed_info": {"is_installed": True},
                    "support_url": "", "is_uninstall_pages": False, "install_type": "system",
                    "autoupdate": False, "silent_upgrade": False, "installing_progress": 0,
                    "ctl_uninstall": False, "updated_at": "", "url": "",
                    "available_operation": ["stop"] if startable and status == "running"
                    else ["start"] if startable else []}}

    def answer(found: dict[str, Any], call: ApiCall) -> dict[str, Any]:
        """Only the `additional` fields asked for, as DSM answers."""
        asked = call.json_param("additional", [])
        wanted = set(asked) if isinstance(asked, list) else set()
        if wanted & {"status"}:
            wanted |= {"status_code", "status_origin", "status_description"}
        return {**found, "additional": {k: v for k, v in found["additional"].items()
                                        if k in wanted}}

    async def package_list(call: ApiCall) -> dict[str, Any]:
        running = status()
        packages = [answer(describe(p, running), call) for p in PACKAGES]
        return {"packages": packages, "total": len(packages)}

    async def package_get(call: ApiCall) -> dict[str, Any]:
        return answer(describe(package_of(call), status()), call)

    async def control(call: ApiCall, on: bool) -> dict[str, Any]:
        package = package_of(call)
        switch(package, on, str(call.session.user), services, backups)
        await settle()  # answered once the service has started or stopped
        return {"id": package.id, "status": state(package, status())[0]}

    async def start(call: ApiCall) -> dict[str, Any]:
        return await control(call, True)

    async def stop(call: ApiCall) -> dict[str, Any]:
        return await control(call, False)

    async def service_get(call: ApiCall) -> dict[str, Any]:
        """Each service: enabled or not, and whether it runs (DSM's fields)."""
        running = status()
        found = []
        for package in PACKAGES:
            if package.id not in SERVICE_IDS:
                continue
            state_now, why = state(package, running)
            found.append({"service_id": SERVICE_IDS[package.id], "display_name": package.name,
                          "enable_status": "disabled" if state_now == "stop" else "enabled",
                          "status": state_now, "why": why, "package_id": package.id})
        # the device's own listeners always run while it does
        found.append({"service_id": "nginx", "display_name": "DSM web (HTTP, HTTPS)",
                      "enable_status": "static", "status": "running", "why": "",
                      "package_id": ""})
        return {"service": found, "total": len(found)}

    async def system_status(call: ApiCall) -> dict[str, Any]:
        now = device_status()
        return {"is_system_crashed": False, "upgrade_ready": False,
                "status": now.label, "status_code": now.code}

    async def installable(call: ApiCall) -> dict[str, Any]:
        # every feature ships with the device: Package Center has nothing more to offer
        return {"packages": [], "total": 0, "beta_packages": []}

    async def center_settings(call: ApiCall) -> dict[str, Any]:
        return {"autoupdateall": False, "autoupdateimportant": False,
                "enable_autoupdate": False, "enable_email": False, "trust_level": 0,
                "default_vol": "/volume1", "update_channel": "stable"}

    async def center_info(call: ApiCall) -> dict[str, Any]:
        return {"installed": len(PACKAGES), "volume": "/volume1", "feeds": 0,
                "version": VERSION}

    async def nothing_running(call: ApiCall) -> dict[str, Any]:
        return {"queue": [], "progress": 0, "status": "none", "total": 0}

    async def feeds(call: ApiCall) -> dict[str, Any]:
        return {"items": [], "total": 0}

    async def package_log(call: ApiCall) -> dict[str, Any]:
        """Starts and stops of the features: the audit log's entries for their settings."""
        entries = [e for section in ("file_services", "backup_vault")
                   for e in audit(section)]
        entries.sort(key=lambda e: e.id, reverse=True)
        return {"items": [{"time": int(e.at), "user": e.actor, "section": e.section,
                           "detail": e.detail} for e in entries[:100]],
                "total": len(entries)}

    registry.add(Api("SYNO.Core.Service", "entry.cgi", 1, 3, {"get": service_get},
                     admin=frozenset({"get"})))
    registry.add(Api("SYNO.Core.System.Status", "entry.cgi", 1, 1, {"get": system_status}))
    registry.add(Api("SYNO.Core.Package", "entry.cgi", 1, 2,
                     {"list": package_list, "get": package_get},
                     admin=frozenset({"list", "get"})))
    center: dict[str, dict[str, Handler]] = {
            "SYNO.Core.Package.Server": {"list": installable},
            "SYNO.Core.Package.Setting": {"get": center_settings},
            "SYNO.Core.Package.Info": {"get": center_info},
            "SYNO.Core.Package.Installation": {"status": nothing_running,
                                               "get_queue": nothing_running},
            "SYNO.Core.Package.Progress": {"get": nothing_running},
            "SYNO.Core.Package.AutoUpgrade.Progress": {"get": nothing_running},
            "SYNO.Core.Package.Feed": {"list": feeds},
            "SYNO.Core.Package.Log": {"get": package_log}}
    for name, methods in center.items():
        registry.add(Api(name, "entry.cgi", 1, 1, methods, admin=frozenset(methods)))
    registry.add(Api("SYNO.Core.Package.Control", "entry.cgi", 1, 1,
                     {"start": start, "stop": stop}, changes=frozenset({"start", "stop"}),
                     admin=frozenset({"start", "stop"})))
