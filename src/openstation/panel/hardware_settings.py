"""Control Panel > Hardware & Power: fan mode, LED brightness, which events beep (checked,
committed with its audit entry, published)."""

from __future__ import annotations

from openstation.config.changes import SectionService
from openstation.config.sections import FanMode, HardwareSettings


def problems_of(settings: HardwareSettings) -> dict[str, str]:
    """What is wrong with the hardware settings (pure)."""
    problems: dict[str, str] = {}
    brightness = settings.led_brightness
    if not isinstance(brightness, int) or isinstance(brightness, bool) or \
            not 0 <= brightness <= 3:
        problems["led_brightness"] = "0 (off) to 3"
    for name in ("beep_on_power_on", "beep_on_power_off"):
        if not isinstance(getattr(settings, name), bool):
            problems[name] = "true or false"
    return problems


class HardwareSettingsService(SectionService[HardwareSettings]):
    """Reads and changes the hardware settings."""

    section, enums = HardwareSettings, {"fan_mode": FanMode}

    def problems(self, settings: HardwareSettings) -> dict[str, str]:
        return problems_of(settings)
