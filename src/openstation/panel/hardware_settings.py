"""Control Panel > Hardware & Power: fan mode, LED brightness, which events beep (checked,
committed with its audit entry, published)."""

from __future__ import annotations

from typing import Any

from openstation.config.changes import changed
from openstation.config.sections import FanMode, HardwareSettings
from openstation.config.store import ConfigStore


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


class HardwareSettingsService:
    """Reads and changes the hardware settings."""

    def __init__(self, store: ConfigStore) -> None:
        self.store = store

    def settings(self) -> HardwareSettings:
        return self.store.get(HardwareSettings)

    def set(self, actor: str, **changes: Any) -> HardwareSettings:
        """Change some fields (None leaves one as it is); every problem at once."""
        settings = changed(self.settings(), changes, problems_of, {"fan_mode": FanMode})
        with self.store.transaction(actor, "hardware_settings") as tx:
            tx.put(settings)
        return settings
