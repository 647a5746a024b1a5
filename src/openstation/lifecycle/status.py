"""Device statuses with their findhost codes and labels (DESIGN.md §3), and the LED rule."""

from __future__ import annotations

import enum

from openstation.config.sections import LifecycleState


class Status(enum.Enum):
    """What the device is doing; `.code` is findhost field 0xa7, `.label` what users see."""

    CONFIGURATION_LOST = (0, "Configuration lost")
    READY = (1, "Ready")
    NOT_INSTALLED = (2, "Not installed")
    UPDATING = (3, "Updating")
    BOOTING = (5, "Booting")
    STARTING_SERVICES = (7, "Starting services")
    RECOVERABLE = (11, "Recoverable")
    INSTALLING = (13, "Installing")
    MIGRATABLE = (14, "Migratable")

    def __init__(self, code: int, label: str) -> None:
        self.code = code
        self.label = label

    @property
    def persisted(self) -> LifecycleState:
        """The key under which a lasting status is stored (lifecycle.state)."""
        return LifecycleState(self.name.lower())

    @classmethod
    def from_persisted(cls, state: str) -> Status:
        """The status a stored lifecycle.state stands for."""
        try:
            status = cls[state.upper()]
        except KeyError:
            raise ValueError(f"unknown lifecycle state {state!r}") from None
        if status not in LASTING:
            raise ValueError(f"{state!r} is not a lasting state")
        return status

    @property
    def needs_install(self) -> bool:
        """Whether the web page at `/` is the install (or reinstall) wizard."""
        return self in (Status.NOT_INSTALLED, Status.CONFIGURATION_LOST)


# Statuses that survive a restart; the others exist only while something is under way.
LASTING = frozenset({Status.READY, Status.NOT_INSTALLED, Status.CONFIGURATION_LOST})


class LedColor(enum.Enum):
    OFF = "off"
    GREEN = "green"
    ORANGE = "orange"
    BLUE = "blue"


class LedMode(enum.Enum):
    OFF = "off"
    SOLID = "solid"
    BLINKING = "blinking"


def status_led(status: Status) -> tuple[LedColor, LedMode]:
    """The STATUS LED for a device status: green blinking while busy, solid when Ready,
    orange blinking when the device needs installing."""
    if status is Status.READY:
        return LedColor.GREEN, LedMode.SOLID
    if status.needs_install or status in (Status.RECOVERABLE, Status.MIGRATABLE):
        return LedColor.ORANGE, LedMode.BLINKING
    return LedColor.GREEN, LedMode.BLINKING
