"""Control Panel > Hardware & Power and External Devices over the Web API:
SYNO.Core.Hardware.FanSpeed, .BeepControl and .Led.Brightness (get, set), .MemoryLayout
(the model's RAM), .SpectreMeltdown (the host kernel's report on its CPU), .NeedReboot, and
SYNO.Core.ExternalDevice.Storage.USB (list, get). The settings are stored and the beeps
obeyed; the fans and LEDs are the virtual panel's, and a virtual device has no USB bus (its
eSATA, printers, Bluetooth, UPS and the rest are answered by absent.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openstation.catalog import Model
from openstation.errors import NotFoundError
from openstation.panel.hardware_settings import HardwareSettingsService
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry
from openstation.webapi.shares import flag

ADMIN_ONLY = frozenset({"SYNO.Core.Hardware.SpectreMeltdown"})  # the host's weak spots
VULNERABILITIES = Path("/sys/devices/system/cpu/vulnerabilities")
ALL_FAN_MODES = 1 | 2 | 4 | 8  # py-synologydsm-api's SupportedFanSpeed: every mode


def yes(value: bool) -> str:
    return "yes" if value else "no"


def register(registry: Registry, hardware: HardwareSettingsService, ctx_model: Callable[[], Model],
             beep: Callable[[str, int], None]) -> None:
    def who(call: ApiCall) -> str:
        return str(call.session.user)

    async def fan_get(call: ApiCall) -> dict[str, Any]:
        mode = hardware.settings().fan_mode
        return {"dual_fan_speed": mode.value, "cool_fan": yes(mode.value == "coolfan"),
                "fan_type": ALL_FAN_MODES, "all_disk_temp_fail": "no",
                "fan_support_adjust_by_ext_nic": "no", "has_ext_nic": "no"}

    async def fan_set(call: ApiCall) -> dict[str, Any]:
        hardware.set(who(call), fan_mode=call.params.get("dual_fan_speed"))
        return await fan_get(call)

    async def beep_get(call: ApiCall) -> dict[str, Any]:
        settings = hardware.settings()
        return {"poweron_beep": settings.beep_on_power_on,
                "poweroff_beep": settings.beep_on_power_off,
                "reset_beep": True}  # the RESET button's beeps: always (the seed's)

    async def beep_set(call: ApiCall) -> dict[str, Any]:
        hardware.set(who(call), beep_on_power_on=flag(call.params.get("poweron_beep")),
                     beep_on_power_off=flag(call.params.get("poweroff_beep")))
        return await beep_get(call)

    async def led_get(call: ApiCall) -> dict[str, Any]:
        return {"led_brightness": hardware.settings().led_brightness}

    async def led_set(call: ApiCall) -> dict[str, Any]:
        hardware.set(who(call), led_brightness=call.int_param("led_brightness", high=3))
        return await led_get(call)

    async def usb_list(call: ApiCall) -> dict[str, Any]:
        return {"devices": []}

    async def usb_get(call: ApiCall) -> dict[str, Any]:
        raise NotFoundError(f"no USB device {call.params.get('dev_id', '')!r}")

    async def memory_layout(call: ApiCall) -> dict[str, Any]:
        model = ctx_model()
        return {"slots": [{"slot": "DIMM 1", "size_mb": model.ram_mb, "built_in": True}],
                "total_mb": model.ram_mb, "is_virtual": True}

    async def cpu_vulnerabilities(call: ApiCall) -> dict[str, Any]:
        """The host kernel's own report (the device runs on its CPU)."""
        found = {}
        with contextlib.suppress(OSError):
            for entry in sorted(VULNERABILITIES.iterdir()):
                found[entry.name] = entry.read_text().strip()
        return {"vulnerabilities": found,
                "mitigated": all(not v.startswith("Vulnerable") for v in found.values())}

    async def find_me_supported(call: ApiCall) -> dict[str, Any]:
        return {"supported": True}

    async def find_me(call: ApiCall) -> dict[str, Any]:
        """Synology Assistant's "Find me": the device beeps three times (the panel's beeper:
        the virtual panel's on a virtual device, shown by `openstation panel status`)."""
        beep("find me", 3)
        return {}

    async def no_reboot(call: ApiCall) -> dict[str, Any]:
        return {"need_reboot": False}

    apis: dict[str, dict[str, Handler]] = {
        "SYNO.Core.Hardware.FanSpeed": {"get": fan_get, "set": fan_set},
        "SYNO.Core.Hardware.MemoryLayout": {"get": memory_layout},
        "SYNO.Core.Hardware.SpectreMeltdown": {"get": cpu_vulnerabilities},
        "SYNO.Core.Hardware.NeedReboot": {"get": no_reboot},
        "SYNO.DSM.FindMe": {"supported": find_me_supported, "start": find_me},

        "SYNO.Core.Hardware.BeepControl": {"get": beep_get, "set": beep_set},
        "SYNO.Core.Hardware.Led.Brightness": {"get": led_get, "set": led_set},
        "SYNO.Core.ExternalDevice.Storage.USB": {"list": usb_list, "get": usb_get},
    }
    for name, methods in apis.items():
        admin = frozenset(methods) if name in ADMIN_ONLY else \
            frozenset(methods) - {"get", "list", "supported"}
        registry.add(Api(name, "entry.cgi", 1, 1, methods, changes=frozenset({"set", "start"}),
                         admin=admin))
