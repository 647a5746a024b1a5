"""The front panel's observable state: STATUS and POWER LEDs and the beeper (pure).

Time arrives as an argument; nothing here touches a clock, a socket or a file. A backend
(`virtual` now, `linux` later) is told each change and drives real LEDs and a buzzer.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from openstation.lifecycle.status import LedColor, LedMode, Status, status_led


class Beep(enum.Enum):
    SHORT = "short"
    LONG = "long"


@dataclass(frozen=True)
class Led:
    color: LedColor
    mode: LedMode

    def to_json(self) -> dict[str, str]:
        return {"color": self.color.value, "mode": self.mode.value}


@dataclass(frozen=True)
class BeepEvent:
    at: float
    kind: Beep
    count: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "kind": self.kind.value, "count": self.count,
                "reason": self.reason}


class PanelBackend(Protocol):
    """Where LED and beeper changes go: the virtual panel now, GPIO/sysfs later."""

    def show(self, status_led: Led, power_led: Led) -> None: ...

    def beep(self, event: BeepEvent) -> None: ...


class VirtualBackend:
    """A panel with no hardware: changes are only kept as state (and shown by the pages)."""

    def show(self, status_led: Led, power_led: Led) -> None:
        return None

    def beep(self, event: BeepEvent) -> None:
        return None


class Indicators:
    """LED state and the recent beeps; follows the device status."""

    def __init__(self, backend: PanelBackend | None = None, history: int = 64) -> None:
        self.backend: PanelBackend = backend or VirtualBackend()
        self.status_led = Led(LedColor.GREEN, LedMode.BLINKING)
        self.power_led = Led(LedColor.BLUE, LedMode.BLINKING)
        self.beeps: deque[BeepEvent] = deque(maxlen=history)
        self.beep_total = 0

    def follow(self, status: Status) -> None:
        """Set both LEDs for a device status (power blinks only while booting)."""
        color, mode = status_led(status)
        self.status_led = Led(color, mode)
        self.power_led = Led(LedColor.BLUE,
                             LedMode.BLINKING if status is Status.BOOTING else LedMode.SOLID)
        self.backend.show(self.status_led, self.power_led)

    def power_off(self) -> None:
        self.status_led = Led(LedColor.OFF, LedMode.OFF)
        self.power_led = Led(LedColor.OFF, LedMode.OFF)
        self.backend.show(self.status_led, self.power_led)

    def beep(self, now: float, reason: str, count: int = 1, kind: Beep = Beep.SHORT) -> None:
        event = BeepEvent(now, kind, count, reason)
        self.beeps.append(event)
        self.beep_total += count
        self.backend.beep(event)

    def to_json(self) -> dict[str, Any]:
        return {
            "status_led": self.status_led.to_json(),
            "power_led": self.power_led.to_json(),
            "beep_total": self.beep_total,
            "beeps": [event.to_json() for event in self.beeps],
        }
