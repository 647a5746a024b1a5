"""Control Panel > Hardware & Power: fan mode, LED brightness, which events beep (checked,
committed with its audit entry, published)."""

from __future__ import annotations

import dataclasses
from typing import Any

from openstation.config.sections import FanMode, HardwareSettings
from openstation.config.store import ConfigStore
from openstation.errors import ValidationError

FIELDS = frozenset(f.name for f in dataclasses.fields(HardwareSettings))


class HardwareSettingsService:
    """Reads and changes the hardware settings."""

    def __init__(self, store: ConfigStore) -> None:
        self.store = store

    def settings(self) -> HardwareSettings:
        return self.store.get(HardwareSettings)

    def set(self, actor: str, **changes: Any) -> HardwareSettings:
        """Change some fields (None leaves one as it is); every problem at once."""
        wanted = {k: v for k, v in changes.items() if v is not None}
        problems = {name: "no such setting" for name in sorted(set(wanted) - FIELDS)}
        if "fan_mode" in wanted:
            try:
                wanted["fan_mode"] = FanMode(wanted["fan_mode"])
            except ValueError:
                problems["fan_mode"] = ", ".join(mode.value for mode in FanMode)
        brightness = wanted.get("led_brightness")
        if brightness is not None and (not isinstance(brightness, int)
                                       or not 0 <= brightness <= 3):
            problems["led_brightness"] = "0 (off) to 3"
        for name in ("beep_on_power_on", "beep_on_power_off"):
            if name in wanted and not isinstance(wanted[name], bool):
                problems[name] = "true or false"
        if problems:
            raise ValidationError(problems)
        settings = dataclasses.replace(self.settings(), **wanted)
        with self.store.transaction(actor, "hardware_settings") as tx:
            tx.put(settings)
        return settings
