"""Control Panel > Hardware & Power and External Devices through py-synologydsm-api's
`hardware` and `external_usb` (Home Assistant's library), unchanged: the fan mode is kept
and reported, the power-on beep obeys its setting, a virtual device lists no USB disk."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import aiohttp
from synology_dsm import SynologyDSM
from synology_dsm.api.core.hardware import FanSpeed

from openstation.testing import STRONG, DeviceProcess, Web, openstation
from tests.fileserv.conftest import run

Factory = Callable[..., DeviceProcess]


async def home_assistant(port: int) -> None:
    async with aiohttp.ClientSession() as http:
        dsm = SynologyDSM(http, "127.0.0.1", port, "alice", STRONG, timeout=30)
        assert await dsm.login()
        await dsm.hardware.update()
        assert dsm.hardware.fan_speed is FanSpeed.COOL
        assert set(dsm.hardware.supported_fan_speeds) == set(FanSpeed)
        await dsm.hardware.set_fan_speed(FanSpeed.QUIET)
        await dsm.hardware.update()
        assert dsm.hardware.fan_speed is FanSpeed.QUIET
        await dsm.external_usb.update()
        assert dsm.external_usb.get_devices == {}
        await dsm.logout()


def test_fan_mode_beeps_and_usb(device_factory: Factory, tmp_path: Path) -> None:
    data = tmp_path / "data"
    device = device_factory(data)
    assert device.install("nas1", "alice", STRONG).returncode == 0
    run(home_assistant(device.runtime["ports"]["http"]))

    admin = Web(device.url).login()
    assert admin.call("SYNO.Core.Hardware.FanSpeed", "set",
                      dual_fan_speed="turbo")["error"]["code"] == 120
    assert admin.call("SYNO.Core.Hardware.Led.Brightness", "set",
                      led_brightness=7)["error"]["code"] == 120
    assert admin.ok("SYNO.Core.Hardware.FanSpeed", "get")["dual_fan_speed"] == "quietfan"
    admin.ok("SYNO.Core.Hardware.BeepControl", "set", poweron_beep="false")
    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    bob = Web(device.url).login("bob", "B0b!secret")
    assert bob.call("SYNO.Core.Hardware.FanSpeed", "set",
                    dual_fan_speed="fullfan")["error"]["code"] == 105

    device.stop()
    device.start()  # a boot without its beep now
    panel = json.loads(openstation("panel", "status", "--data-dir", str(data), "--json").stdout)
    assert "boot complete" not in [beep["reason"] for beep in panel["beeps"]]
    assert Web(device.url).login().ok("SYNO.Core.Hardware.FanSpeed", "get")[
        "dual_fan_speed"] == "quietfan"  # kept across boots
