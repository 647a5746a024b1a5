"""Control Panel > Hyper Backup in a real browser: make a task, back up now and watch it
finish, see its versions, restore a deleted file, and a refused task says why."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from openstation.testing import DeviceProcess, Web
from tests.ui.conftest import shot
from tests.ui.test_seed_in_browser import signed_in

Factory = Callable[..., DeviceProcess]


@pytest.mark.skipif(shutil.which("restic") is None, reason="restic is not installed")
def test_hyper_backup_page(device_factory: Factory, page: Any, tmp_path: Path) -> None:
    device = signed_in(device_factory(tmp_path / "data"), page)
    Web(device.url).login().ok("SYNO.Core.Share", "create", name="docs")
    report = device.data_dir / "volume1" / "docs" / "report.bin"
    report.write_bytes(os.urandom(50_000))
    before = report.read_bytes()

    page.goto(device.url + "/panel/hyperbackup")
    expect(page.locator("#backup-tasks")).to_contain_text("No backup task yet")
    page.fill("#task_name", "nightly")
    page.check("input[name=source][value=docs]")
    page.check("#task_config")
    page.fill("#task_destination", str(device.data_dir / "volume1"))  # refused: the volume
    page.fill("#task_password", "backup password")
    page.click("#create-backup-task")
    expect(page.locator("p.error")).to_contain_text("destination")
    page.fill("#task_name", "nightly")
    page.check("input[name=source][value=docs]")
    page.fill("#task_destination", str(tmp_path / "usb"))
    page.fill("#task_password", "backup password")
    page.check("input[name=day][value='2']")
    page.click("#create-backup-task")
    expect(page.locator("p.ok")).to_contain_text("Task created")
    row = page.locator("#backup-tasks tr[data-name=nightly]")
    expect(row).to_contain_text("none")
    expect(row).to_contain_text("Wed at 03:00")

    row.locator("button.backup-now").click()
    expect(page.locator("#backup-tasks tr[data-name=nightly] td.result")).to_have_text(
        "done", timeout=30_000)
    shot(page, "40-hyper-backup")

    report.unlink()
    page.locator("#backup-tasks tr[data-name=nightly] button.show-versions").click()
    expect(page.locator("#versions li")).to_have_count(1)
    page.fill("#restore_paths", "docs/report.bin")
    page.click("#restore")
    expect(page.locator("p.ok")).to_contain_text("Restored 1 files")
    assert report.read_bytes() == before
