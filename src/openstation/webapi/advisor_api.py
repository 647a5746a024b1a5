"""Security Advisor over the Web API, from a real scan of the device (security/advisor.py):
SYNO.SecurityAdvisor.Conf (get), .Conf.Checklist (list), .Conf.Location (get), .Report
(list: the scans since boot, newest first), SYNO.Core.SecurityScan.Conf (get),
.SecurityScan.Operation (start: a scan now; get) and .SecurityScan.Status (system_get,
rule_get: the newest scan, made at first ask)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from openstation import offload
from openstation.accounts.service import GUEST, AccountService
from openstation.config.auto_backup import snapshots
from openstation.config.sections import AutoBlock, Firewall, User
from openstation.security.advisor import CATEGORIES, CHECKS, SEVERITIES, Facts, Scan, scan
from openstation.upgrade import UpgradeService
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry

KEEP_SCANS = 20


def self_signed(cert_path: Path) -> bool:
    """Whether the served certificate signs itself (one that cannot be read: it is not
    known to be, and the scan goes on)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return False
    return cert.issuer == cert.subject


def newest_snapshot(volume: Path) -> float | None:
    """When the newest automatic configuration backup was written, if there is one."""
    found = snapshots(volume)
    try:
        return found[0].stat().st_mtime if found else None
    except OSError:
        return None


def stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y/%m/%d %H:%M:%S")


def register(registry: Registry, ctx: WebContext, accounts: AccountService,
             upgrades: UpgradeService, ports: Callable[[], dict[str, int]],
             cert_path: Callable[[], Path]) -> None:
    scans: list[Scan] = []

    async def facts() -> Facts:
        now = ctx.clock()
        users = {u.name: u for u in ctx.store.records(User)}
        admin = users.get("admin")
        guest = users.get(GUEST)
        readable = [] if guest is None or guest.disabled else [
            share.name for share, _ in ctx.storage.readable(GUEST)]
        live = ports()
        newest = await offload.run(newest_snapshot, ctx.data_dir.volume)  # a folder read
        return Facts(
            admin_enabled=admin is not None and not admin.disabled,
            blank_password_accounts=sorted(
                u.name for u in users.values()
                if u.blank_password_until is not None and u.blank_password_until > now),
            admins_without_2step=sorted(
                name for name in accounts.administrators()
                if name in users and not users[name].disabled and not users[name].otp_secret),
            firewall_on=ctx.store.get(Firewall).enabled,
            autoblock_on=ctx.store.get(AutoBlock).enabled,
            ports=(live.get("http", 5000), live.get("https", 5001)),
            self_signed=await offload.run(self_signed, cert_path()),
            guest_readable_shares=sorted(readable),
            newest_backup=newest,
            update_available=upgrades.available() is not None)

    async def run_scan() -> Scan:
        done = scan(await facts(), ctx.clock())
        scans.insert(0, done)
        del scans[KEEP_SCANS:]
        return done

    async def latest() -> Scan:
        return scans[0] if scans else await run_scan()

    def checklist(done: Scan) -> list[dict[str, Any]]:
        return [{"id": f.check.id, "category": f.check.category, "title": f.check.title,
                 "severity": f.check.severity, "result": "pass" if f.passed else "fail",
                 "detail": f.detail, "enable": True} for f in done.findings]

    async def conf_get(call: ApiCall) -> dict[str, Any]:
        return {"location": "home", "schedule": {"enable": False},
                "checklist_type": "home", "checks": len(CHECKS)}

    async def checklist_list(call: ApiCall) -> dict[str, Any]:
        done = await latest()
        return {"items": checklist(done), "total": len(done.findings)}

    async def location_get(call: ApiCall) -> dict[str, Any]:
        return {"location": "home"}

    async def report_list(call: ApiCall) -> dict[str, Any]:
        await latest()
        return {"reports": [{"id": index, "time": stamp(done.at), "score": done.score,
                             "status": done.worst,
                             "failed": sum(not f.passed for f in done.findings)}
                            for index, done in enumerate(scans)], "total": len(scans)}

    async def scan_conf(call: ApiCall) -> dict[str, Any]:
        return {"categories": list(CATEGORIES), "checks": [c.id for c in CHECKS]}

    async def scan_groups(call: ApiCall) -> dict[str, Any]:
        """The checks by category (DSM's rule groups)."""
        return {"groups": [{"category": category,
                            "rules": [c.id for c in CHECKS if c.category == category]}
                           for category in CATEGORIES]}

    async def operation_start(call: ApiCall) -> dict[str, Any]:
        done = await run_scan()
        return {"started": stamp(done.at), "score": done.score}

    async def operation_get(call: ApiCall) -> dict[str, Any]:
        done = await latest()
        return {"running": False, "progress": 100, "lastScanTime": stamp(done.at)}

    async def status(call: ApiCall) -> dict[str, Any]:
        done = await latest()
        items = {}
        for category in CATEGORIES:
            mine = [f for f in done.findings if f.check.category == category]
            fail = {severity: sum(not f.passed and f.check.severity == severity for f in mine)
                    for severity in SEVERITIES}
            worst = next((s for s in SEVERITIES if fail[s]), "safe")
            items[category] = {"category": category, "fail": fail, "failSeverity": worst,
                               "progress": 100, "runningItem": "", "total": len(mine),
                               "waitNum": 0}
        return {"items": items, "lastScanTime": stamp(done.at), "startTime": stamp(done.at),
                "success": True, "sysProgress": 100, "sysStatus": done.worst,
                "score": done.score}

    async def rule_get(call: ApiCall) -> dict[str, Any]:
        done = await latest()
        return {"items": checklist(done), "total": len(done.findings)}

    apis: dict[str, dict[str, Handler]] = {
        "SYNO.SecurityAdvisor.Conf": {"get": conf_get},
        "SYNO.SecurityAdvisor.Conf.Checklist": {"list": checklist_list},
        "SYNO.SecurityAdvisor.Conf.Location": {"get": location_get},
        "SYNO.SecurityAdvisor.Report": {"list": report_list},
        "SYNO.Core.SecurityScan.Conf": {"get": scan_conf, "first_get": scan_conf,
                                        "group_enum": scan_groups},
        "SYNO.Core.SecurityScan.Operation": {"start": operation_start, "get": operation_get},
        "SYNO.Core.SecurityScan.Status": {"system_get": status, "rule_get": rule_get},
    }
    for name, methods in apis.items():
        registry.add(Api(name, "entry.cgi", 1, 1, methods, changes=frozenset({"start"}),
                         admin=frozenset(methods)))
