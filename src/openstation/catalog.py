"""The model catalog: models, product lines, default server names, DSM version strings."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from openstation.errors import UserInputError


class ProductLine(enum.Enum):
    """Synology's product lines; each has its own default server name."""

    DISKSTATION = "DiskStation"
    RACKSTATION = "RackStation"
    FLASHSTATION = "FlashStation"

    @property
    def default_server_name(self) -> str:
        """The server name a freshly installed (or Mode 2 reset) device announces."""
        return self.value


@dataclass(frozen=True)
class Model:
    """One hardware model: what the device reports about itself."""

    name: str
    line: ProductLine
    unique_id: str  # findhost 0x70, e.g. "synology_broadwell_3617xs"
    serial_code: str  # the three letters inside a serial number that name the model
    cpu_family: str
    cpu_series: str
    cpu_cores: int
    cpu_clock_mhz: int
    ram_mb: int
    lan_ports: int
    drive_bays: int


@dataclass(frozen=True)
class DsmVersion:
    """A DSM release: 6.2.3-25426 Update 3 and the strings clients expect from it."""

    major: int = 6
    minor: int = 2
    micro: int = 3
    build: int = 25426
    update: int = 3

    @property
    def short(self) -> str:
        """"6.2.3": findhost 0x77 and the mDNS TXT record."""
        return f"{self.major}.{self.minor}.{self.micro}"

    @property
    def full(self) -> str:
        """"6.2.3-25426"."""
        return f"{self.short}-{self.build}"

    @property
    def display(self) -> str:
        """"DSM 6.2.3-25426", as `openstation status` and the pages show it."""
        return f"DSM {self.full}"

    @property
    def version_string(self) -> str:
        """"DSM 6.2.3-25426 Update 3", as SYNO.DSM.Info reports it."""
        return f"{self.display} Update {self.update}" if self.update else self.display

    @classmethod
    def parse(cls, text: str) -> DsmVersion:
        """Parse "6.2.3-25426" (optionally with "DSM " before and "-N" update after)."""
        raw = text.removeprefix("DSM ").strip()
        try:
            numbers, _, rest = raw.partition("-")
            major, minor, micro = (int(part) for part in numbers.split("."))
            build_text, _, update_text = rest.partition("-")
            return cls(major, minor, micro, int(build_text), int(update_text or 0))
        except ValueError:
            raise UserInputError(
                f"not a DSM version: {text!r} (expected e.g. 6.2.3-25426)"
            ) from None


DEFAULT_VERSION = DsmVersion()
OS_NAME = "DSM"

_DS, _RS, _FS = ProductLine.DISKSTATION, ProductLine.RACKSTATION, ProductLine.FLASHSTATION

MODELS: dict[str, Model] = {
    model.name: model
    for model in (
        Model("DS918+", _DS, "synology_apollolake_918+", "PQN", "Celeron", "J3455",
              4, 1500, 4096, 2, 4),
        Model("DS3617xs", _DS, "synology_broadwell_3617xs", "ODN", "Xeon", "D-1527",
              4, 2200, 16384, 4, 12),
        Model("DS220+", _DS, "synology_geminilake_220+", "SBR", "Celeron", "J4025",
              2, 2000, 2048, 2, 2),
        Model("RS1221+", _RS, "synology_v1000_rs1221+", "TKR", "Ryzen", "V1500B",
              4, 2200, 4096, 4, 8),
        Model("FS2500", _FS, "synology_v1000_fs2500", "SLR", "Ryzen", "V1780B",
              4, 3350, 8192, 4, 12),
    )
}

DEFAULT_MODEL = "DS918+"


def model_named(name: str) -> Model:
    """The catalog entry for `name`, matched without regard to case."""
    for model in MODELS.values():
        if model.name.lower() == name.lower():
            return model
    known = ", ".join(MODELS)
    raise UserInputError(f"unknown model {name!r}; known models: {known}")
