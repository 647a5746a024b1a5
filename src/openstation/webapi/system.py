"""System information with real figures: SYNO.DSM.Info, .DSM.Network, .Core.System,
.Core.System.Utilization (CPU, memory, network, the host's disks and the volume's device),
.Core.System.SystemHealth, .Core.System.Process and .ProcessGroup (the device's process and
its daemons), .Core.Region.NTP, .NTP.Server and .Language (the host's clock and zone:
the device runs no NTP client or server of its own; its pages are in English)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from openstation.catalog import DEFAULT_VERSION
from openstation.config.sections import General, Network
from openstation.lifecycle.status import Status
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


class Rates:
    """Per second since the previous reading, for counters that only grow (psutil's
    network and disk counters, each a named tuple per device)."""

    def __init__(self, read: Callable[[], dict[str, Any]], fields: tuple[str, ...]) -> None:
        self._read, self._fields = read, fields
        self._last: tuple[float, dict[str, Any]] | None = None

    def read(self) -> dict[str, dict[str, int]]:
        now = time.monotonic()
        counters = self._read()
        last, self._last = self._last, (now, counters)
        rates: dict[str, dict[str, int]] = {}
        for name, value in sorted(counters.items()):
            before = last[1].get(name) if last is not None else None
            span = now - last[0] if last is not None else 0.0
            rates[name] = {field: int(max(0, getattr(value, field) - getattr(before, field))
                                      / span) if before is not None and span > 0 else 0
                           for field in self._fields}
        return rates


def network_rates() -> Rates:
    return Rates(lambda: psutil.net_io_counters(pernic=True), ("bytes_recv", "bytes_sent"))


def disk_rates() -> Rates:
    return Rates(lambda: psutil.disk_io_counters(perdisk=True) or {},
                 ("read_count", "write_count", "read_bytes", "write_bytes", "busy_time"))


def block_device(path: Path) -> str:
    """The kernel's name of the block device holding `path` ("" : none, e.g. a tmpfs)."""
    dev = os.stat(path).st_dev
    try:
        uevent = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}/uevent").read_text()
    except OSError:
        return ""
    return next((line.split("=", 1)[1] for line in uevent.splitlines()
                 if line.startswith("DEVNAME=")), "")


def zone_name() -> str:
    """The host's time zone, as its tz database names it where it can be read."""
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        return time.tzname[0] or "UTC"
    return target.split("zoneinfo/", 1)[-1] if "zoneinfo/" in target else time.tzname[0]


def zone_description() -> str:
    offset = datetime.now().astimezone().strftime("%z")
    return f"(GMT{offset[:3]}:{offset[3:]}) {zone_name()}"


class Processes:
    """The device's own process and its daemons (smbd, gocryptfs, restic …), with CPU
    (percent since the last reading) and memory (KiB), as Resource Monitor lists them."""

    def __init__(self) -> None:
        self._known: dict[int, psutil.Process] = {}

    def read(self) -> list[dict[str, Any]]:
        me = psutil.Process()
        try:
            current = [me, *me.children(recursive=True)]
        except psutil.Error:
            current = [me]
        known = {p.pid: self._known.get(p.pid, p) for p in current}
        self._known = known
        found = []
        for process in known.values():
            try:
                with process.oneshot():
                    memory = process.memory_info()
                    found.append({
                        "pid": process.pid, "command": " ".join(process.cmdline()[:3])[:120]
                        or process.name(), "cpu": round(process.cpu_percent(None), 1),
                        "mem": memory.rss // 1024, "mem_shared": getattr(memory, "shared", 0)
                        // 1024, "status": process.status()})
            except psutil.Error:  # it ended meanwhile
                continue
        return found


def whole_block_devices() -> set[str]:
    """The host's disks (not partitions, loop or RAM devices)."""
    try:
        names = os.listdir("/sys/block")
    except OSError:
        return set()
    return {name for name in names if not name.startswith(("loop", "ram", "zram"))}


def _network(rates: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    shown = [{"device": name, "rx": rate["bytes_recv"], "tx": rate["bytes_sent"]}
             for name, rate in rates.items()]
    return [{"device": "total", "rx": sum(r["rx"] for r in shown),
             "tx": sum(r["tx"] for r in shown)}, *shown]


def _disk(name: str, rate: dict[str, int], kind: str) -> dict[str, Any]:
    # busy_time is in milliseconds: per second of wall time, a share of 1000
    return {"device": name, "display_name": name, "type": kind,
            "read_access": rate["read_count"], "write_access": rate["write_count"],
            "read_byte": rate["read_bytes"], "write_byte": rate["write_bytes"],
            "utilization": min(100, rate["busy_time"] // 10)}


def _total(entries: list[dict[str, Any]]) -> dict[str, Any]:
    fields = ("read_access", "write_access", "read_byte", "write_byte")
    total: dict[str, Any] = {field: sum(e[field] for e in entries) for field in fields}
    total["device"] = "total"
    total["utilization"] = max((e["utilization"] for e in entries), default=0)
    return total


def register(registry: Registry, ctx: WebContext, hosts: list[str]) -> None:
    """Add the system information APIs."""
    model = ctx.hardware.model
    network, disks = network_rates(), disk_rates()
    network.read()
    disks.read()
    processes = Processes()
    volume_device = block_device(ctx.data_dir.volume)
    whole_disks = whole_block_devices()
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
            # the device keeps the host's clock: it runs no NTP client of its own
            "enabled_ntp": False, "ntp_server": "",
            "firmware_ver": DEFAULT_VERSION.version_string, "firmware_date": "2020/12/14",
            "model": model.name, "ram_size": model.ram_mb, "serial": ctx.hardware.serial,
            "sys_temp": temperature(), "temperature_warning": False,
            "time": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "time_zone": zone_name(), "time_zone_desc": zone_description(),
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
            "network": _network(network.read()),
            # The host's real block devices (the volume is a folder on one of them); DSM
            # lists its bays here, whose figures would be the same disk's.
            **io_figures(),
            "lun": [],
            "time": int(ctx.clock()),
        }

    def io_figures() -> dict[str, Any]:
        rates = disks.read()
        whole = [_disk(name, rate, "internal") for name, rate in rates.items()
                 if name in whole_disks]
        volume = []
        if volume_device in rates:
            volume = [_disk("volume1", rates[volume_device], "volume")
                      | {"display_name": "Volume 1"}]
        return {"disk": {"disk": whole, "total": _total(whole)},
                "space": {"volume": volume, "total": _total(volume)}}

    async def ntp_get(call: ApiCall) -> dict[str, Any]:
        return {"enable_ntp": False, "server": "", "time_source": "host",
                "timezone": zone_name(), "timezone_desc": zone_description(),
                "now": datetime.now(UTC).astimezone().isoformat(timespec="seconds")}

    async def ntp_server_get(call: ApiCall) -> dict[str, Any]:
        return {"enable": False, "enable_ntp_server": False}  # no NTP service is offered

    async def language_get(call: ApiCall) -> dict[str, Any]:
        return {"language": "enu", "maillang": "enu", "codepage": "enu",
                "supported": ["enu"]}  # the pages are in English

    async def health(call: ApiCall) -> dict[str, Any]:
        """The System Health widget: the device's status in DSM's words, and its uptime."""
        status = ctx.state.status
        seconds = uptime()
        good = status is Status.READY
        return {"hostname": ctx.store.get(General).server_name,
                "interfaces": (await dsm_network(call))["interfaces"],
                "rule": {"id": "normal" if good else status.name.lower(),
                         "type": "normal" if good else "warning"},
                "status": status.label,
                "uptime": f"{seconds // 86400}:{seconds // 3600 % 24}:{seconds // 60 % 60}:"
                          f"{seconds % 60}"}

    async def process_list(call: ApiCall) -> dict[str, Any]:
        return {"process": [{"pid": p["pid"], "command": p["command"], "cpu": p["cpu"],
                             "mem": p["mem"], "mem_shared": p["mem_shared"],
                             "status": p["status"]} for p in processes.read()]}

    async def process_groups(call: ApiCall) -> dict[str, Any]:
        units = processes.read()
        return {"slices": [{
            "name": "openstation", "display_name": model.name,
            "cpu_utilization": sum(u["cpu"] for u in units),
            "memory": sum(u["mem"] for u in units),
            "units": [{"name": u["command"], "pid": u["pid"], "cpu_utilization": u["cpu"],
                       "memory": u["mem"]} for u in units]}]}

    registry.add(Api("SYNO.DSM.Info", "entry.cgi", 1, 2, {"getinfo": dsm_info}))
    registry.add(Api("SYNO.DSM.Network", "entry.cgi", 1, 1, {"list": dsm_network}))
    registry.add(Api("SYNO.Core.System", "entry.cgi", 1, 3, {"info": core_system}))
    registry.add(Api("SYNO.Core.System.Utilization", "entry.cgi", 1, 1, {"get": utilization}))
    registry.add(Api("SYNO.Core.Region.NTP", "entry.cgi", 1, 1, {"get": ntp_get}))
    registry.add(Api("SYNO.Core.Region.NTP.Server", "entry.cgi", 1, 1, {"get": ntp_server_get}))
    registry.add(Api("SYNO.Core.Region.Language", "entry.cgi", 1, 1, {"get": language_get}))
    registry.add(Api("SYNO.Core.System.SystemHealth", "entry.cgi", 1, 1, {"get": health}))
    registry.add(Api("SYNO.Core.System.Process", "entry.cgi", 1, 1, {"list": process_list},
                     admin=frozenset({"list"})))
    registry.add(Api("SYNO.Core.System.ProcessGroup", "entry.cgi", 1, 1,
                     {"list": process_groups}, admin=frozenset({"list"})))
