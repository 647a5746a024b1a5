"""The burned-in facts of one device: model, serial number and MAC addresses.

A real NAS carries these in ROM, so no reset changes them. Here they live in
`<data-dir>/hardware.json`, outside the system partition, made once at first boot.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from openstation.catalog import DEFAULT_MODEL, Model, model_named
from openstation.errors import DataDirError, UserInputError
from openstation.files import write_atomic

# Synology's OUI is 00:11:32; setting the locally-administered bit (0x02) keeps a virtual
# NAS from ever colliding with a real one on the same LAN.
MAC_PREFIX = (0x02, 0x11, 0x32)


@dataclass(frozen=True)
class Hardware:
    """Model name, serial and one MAC per LAN port."""

    model_name: str
    serial: str
    macs: tuple[str, ...]

    @property
    def model(self) -> Model:
        return model_named(self.model_name)

    @property
    def short_serial(self) -> str:
        """The last six characters, as findhost's short-serial field carries them."""
        return self.serial[-6:]

    @property
    def mac(self) -> str:
        """The first NIC's MAC, the device's identity on the network."""
        return self.macs[0]


def new_hardware(model: Model, now: datetime, token: bytes) -> Hardware:
    """Make a device's identity from a model, a date and random bytes (pure)."""
    if len(token) < 6:
        raise ValueError("token needs at least 6 bytes")
    year_week = f"{now.year % 100:02d}{min(now.isocalendar().week, 52):02d}"
    digits = f"{int.from_bytes(token[:3], 'big') % 1_000_000:06d}"
    serial = f"{year_week}{model.serial_code}{digits}"
    base = int.from_bytes(token[3:6], "big")
    macs = tuple(
        ":".join(f"{octet:02x}" for octet in (*MAC_PREFIX, *((base + port) % 2**24).to_bytes(3)))
        for port in range(model.lan_ports)
    )
    return Hardware(model.name, serial, macs)


def load_or_create(path: Path, model_name: str | None) -> Hardware:
    """Read the device's identity, making it at first boot; a model change is refused."""
    if path.exists():
        hardware = _load(path)
        if model_name is not None and model_named(model_name).name != hardware.model_name:
            raise UserInputError(
                f"this data directory holds a {hardware.model_name}; it cannot become a "
                f"{model_named(model_name).name} (use another --data-dir)"
            )
        return hardware
    model = model_named(model_name or DEFAULT_MODEL)
    hardware = new_hardware(model, datetime.now(UTC), secrets.token_bytes(6))
    write_atomic(path, json.dumps(asdict(hardware), indent=2).encode(), mode=0o644)
    return hardware


def _load(path: Path) -> Hardware:
    try:
        raw = json.loads(path.read_text())
        hardware = Hardware(str(raw["model_name"]), str(raw["serial"]), tuple(raw["macs"]))
        hardware.model  # noqa: B018 - validates the model name
    except (OSError, ValueError, KeyError, TypeError, UserInputError) as exc:
        raise DataDirError(f"{path} is unreadable or corrupt ({exc})") from None
    return hardware
