"""System information with real figures: SYNO.DSM.Info, .DSM.Network, .Core.System,
.Core.System.Utilization, .Core.Upgrade.Server and .Core.SecurityScan.Status."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

import psutil

from openstation.catalog import DEFAULT_VERSION
from openstation.config.sections import General, Network
from openstation.network.addresses import primary
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Registry


def temperature() -> int:
    """This host's hottest sensor, or a typical NAS figure when it has none."""
    try:
        readings = psutil.sensors_temperatures()
    except (AttributeError, OSError):
        readings = {}
    values = [int(r.current) for entries in readings.values() for r in entries if r.current]
    return max(values) if values else 40


class NetworkRates:
    """Bytes per second since the previous reading, per interface and in total."""

    def __init__(self) -> None:
        self._last: tuple[float, dict[str, Any]] | None = None

    def read(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        counters = psutil.net_io_counters(pernic=True)
        last, self._last = self._last, (now, counters)
        rates: list[dict[str, Any]] = []
        total_rx = total_tx = 0
        for name, value in sorted(counters.items()):
            rx = tx = 0
            if last is not None and name in last[1] and now > last[0]:
                span = now - last[0]
                rx = int(max(0, value.bytes_recv - last[1][name].bytes_recv) / span)
                tx = int(max(0, value.bytes_sent - last[1][name].bytes_sent) / span)
            total_rx += rx
            total_tx += tx
            rates.append({"device": name, "rx": rx, "tx": tx})
        return [{"device": "total", "rx": total_rx, "tx": total_tx}, *rates]


def register(registry: Registry, ctx: WebContext, hosts: list[str]) -> None:
    """Add the system information APIs."""
    model = ctx.hardware.model
    rates = NetworkRates()
    rates.read()
    psutil.cpu_times_percent(interval=None)  # primes the counters for the first real reading

    def uptime() -> int:
        return int(ctx.clock() - ctx.booted_at)

    async def dsm_info(call: ApiCall) -> dict[str, Any]:
        return {"model": model.name, "ram": model.ram_mb, "serial": ctx.hardware.serial,
                "temperature": temperature(), "temperature_warn": False, "uptime": uptime(),
                "version": str(DEFAULT_VERSION.build),
                "version_string": DEFAULT_VERSION.version_string, "codepage": "enu",
                "time": datetime.now(UTC).strftime("%a %b %d %H:%M:%S %Y")}

    async def dsm_network(call: ApiCall) -> dict[str, Any]:
        config = ctx.store.get(Network)
        serving = primary(hosts)
        interfaces = []
        for index, (iface, mac) in enumerate(zip(config.interfaces, ctx.hardware.macs,
                                                 strict=False)):
            if not iface.dhcp:
                ip = [{"address": iface.address, "netmask": iface.netmask}]
            elif index == 0:
                ip = [{"address": serving.address, "netmask": serving.netmask}]
            else:
                ip = []
            interfaces.append({"id": iface.id, "ip": ip, "ipv6": [], "mac": mac,
                               "type": "lan"})
        return {"dns": list(config.dns), "gateway": config.default_gateway,
                "hostname": ctx.store.get(General).server_name, "workgroup": "WORKGROUP",
                "interfaces": interfaces}

    async def core_system(call: ApiCall) -> dict[str, Any]:
        seconds = uptime()
        return {
            "cpu_clock_speed": model.cpu_clock_mhz, "cpu_cores": str(model.cpu_cores),
            "cpu_family": model.cpu_family, "cpu_series": model.cpu_series,
            "cpu_vendor": "AMD" if model.cpu_family == "Ryzen" else "INTEL",
            "enabled_ntp": True, "ntp_server": "time.google.com",
            "firmware_ver": DEFAULT_VERSION.version_string, "firmware_date": "2020/12/14",
            "model": model.name, "ram_size": model.ram_mb, "serial": ctx.hardware.serial,
            "sys_temp": temperature(), "temperature_warning": False,
            "time": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "time_zone": "UTC", "time_zone_desc": "(GMT) Coordinated Universal Time",
            "up_time": f"{seconds // 3600}:{seconds // 60 % 60}:{seconds % 60}",
            "usb_dev": [],
        }

    async def utilization(call: ApiCall) -> dict[str, Any]:
        cpu = psutil.cpu_times_percent(interval=None)
        user, system = int(cpu.user + cpu.nice), int(cpu.system)
        other = int(getattr(cpu, "iowait", 0) + getattr(cpu, "irq", 0)
                    + getattr(cpu, "softirq", 0) + getattr(cpu, "steal", 0))
        load1, load5, load15 = (int(value * 100) for value in os.getloadavg())
        memory, swap = psutil.virtual_memory(), psutil.swap_memory()
        kib = 1024
        return {
            "cpu": {"user_load": user, "system_load": system, "other_load": other,
                    "1min_load": load1, "5min_load": load5, "15min_load": load15,
                    "device": "System"},
            "memory": {"real_usage": int(memory.percent), "memory_size": memory.total // kib,
                       "avail_real": memory.available // kib, "avail_swap": swap.free // kib,
                       "cached": getattr(memory, "cached", 0) // kib,
                       "buffer": getattr(memory, "buffers", 0) // kib,
                       "total_real": memory.total // kib, "total_swap": swap.total // kib,
                       "swap_usage": int(swap.percent), "device": "Memory"},
            "network": rates.read(),
            "time": int(ctx.clock()),
        }

    async def upgrade_check(call: ApiCall) -> dict[str, Any]:
        return {"update": {"available": False, "version": None, "reboot": "none",
                           "restart": "none", "version_details": None}}

    async def security_status(call: ApiCall) -> dict[str, Any]:
        stamp = datetime.fromtimestamp(ctx.booted_at, UTC).strftime("%Y/%m/%d %H:%M:%S")
        items = {name: {"category": name, "fail": {"danger": 0, "info": 0, "outOfDate": 0,
                                                   "risk": 0, "warning": 0},
                        "failSeverity": "safe", "progress": 100, "runningItem": "",
                        "total": 1, "waitNum": 0}
                 for name in ("malware", "network", "securitySetting", "systemCheck",
                              "update", "userInfo")}
        return {"items": items, "lastScanTime": stamp, "startTime": stamp, "success": True,
                "sysProgress": 100, "sysStatus": "safe"}

    registry.add(Api("SYNO.DSM.Info", "entry.cgi", 1, 2, {"getinfo": dsm_info}))
    registry.add(Api("SYNO.DSM.Network", "entry.cgi", 1, 1, {"list": dsm_network}))
    registry.add(Api("SYNO.Core.System", "entry.cgi", 1, 3, {"info": core_system}))
    registry.add(Api("SYNO.Core.System.Utilization", "entry.cgi", 1, 1, {"get": utilization}))
    registry.add(Api("SYNO.Core.Upgrade.Server", "entry.cgi", 1, 4, {"check": upgrade_check}))
    registry.add(Api("SYNO.Core.SecurityScan.Status", "entry.cgi", 1, 1,
                     {"system_get": security_status}))
