from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from openstation.catalog import model_named
from openstation.errors import DataDirError, UserInputError
from openstation.hardware import load_or_create, new_hardware


def test_identity_is_derived_from_model_date_and_token() -> None:
    model = model_named("DS3617xs")
    hw = new_hardware(model, dt.datetime(2026, 1, 10), bytes([0, 0, 7, 0xAA, 0xBB, 0xFF]))
    assert hw.serial == "2602ODN000007"
    assert hw.short_serial == "000007"
    assert len(hw.macs) == model.lan_ports == 4
    assert hw.macs[0] == "02:11:32:aa:bb:ff"
    assert hw.macs[1] == "02:11:32:aa:bc:00"  # consecutive, carrying across octets


def test_mac_is_locally_administered_unicast() -> None:
    hw = new_hardware(model_named("DS918+"), dt.datetime(2026, 1, 1), bytes(6))
    first_octet = int(hw.mac.split(":")[0], 16)
    assert first_octet & 0x02  # locally administered
    assert not first_octet & 0x01  # unicast


def test_identity_is_stable_across_loads(tmp_path: Path) -> None:
    path = tmp_path / "hardware.json"
    first = load_or_create(path, "RS1221+")
    assert load_or_create(path, None) == first
    assert load_or_create(path, "rs1221+") == first


def test_a_different_model_for_an_existing_device_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hardware.json"
    load_or_create(path, "DS918+")
    with pytest.raises(UserInputError, match="holds a DS918\\+"):
        load_or_create(path, "DS220+")


def test_corrupt_identity_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "hardware.json"
    path.write_text("{not json")
    with pytest.raises(DataDirError, match="corrupt"):
        load_or_create(path, None)
    path.write_text('{"model_name": "DS1", "serial": "x", "macs": []}')
    with pytest.raises(DataDirError):
        load_or_create(path, None)
