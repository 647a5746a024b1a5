"""The desktop in a real browser: app icons; for an administrator the System Health,
Resource Monitor (live), Storage and Backup widgets, their figures as the Web API gives
them; Storage Manager's page. A user without rights gets icons only."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from openstation.testing import DeviceProcess, Web
from tests.ui.conftest import shot
from tests.ui.test_seed_in_browser import sign_in, signed_in

Factory = Callable[..., DeviceProcess]


def test_desktop_widgets_and_storage_manager(device_factory: Factory, page: Any,
                                             tmp_path: Path) -> None:
    device = signed_in(device_factory(tmp_path / "data"), page)
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.Share", "create", name="photos", share_quota=100)
    (device.data_dir / "volume1" / "photos" / "a.jpg").write_bytes(b"j" * 1_500_000)
    page.goto(device.url + "/desktop")
    expect(page.locator("#health-status")).to_have_text("Ready")
    expect(page.locator("#widget-cpu")).to_have_text(re.compile(r"^\d+\.\d %$"))
    volume = admin.ok("SYNO.Storage.CGI.Volume", "get_space_usage")["percent"]
    shown = float(page.locator("#storage-meter").get_attribute("value") or "0")
    assert abs(shown - volume) < 2.0
    expect(page.locator("#backup-none")).to_be_visible()
    expect(page.locator("#widget-spark canvas")).to_have_count(1)
    for app in ("storage-manager", "resource-monitor", "log-center", "hyper-backup"):
        expect(page.locator(f"#open-{app}")).to_be_visible()
    shot(page, "04-desktop-widgets")

    page.click("#open-storage-manager")
    page.wait_for_url("**/storage")
    expect(page.locator("#volume-status")).to_have_text(re.compile("Healthy|Nearly full"))
    expect(page.locator("#disks tbody tr")).to_have_count(4)  # a DS918+ has four bays
    expect(page.locator("#shares")).to_contain_text("photos")
    expect(page.locator("#shares")).to_contain_text("1.5 MB")
    expect(page.locator("#shares")).to_contain_text("100 MB")
    shot(page, "41-storage-manager")

    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    page.context.clear_cookies()
    sign_in(page, device.url + "/", "bob", "B0b!secret")
    page.wait_for_url("**/desktop")
    expect(page.locator("#open-file-station")).to_be_visible()
    expect(page.locator("#widget-health")).to_have_count(0)
    expect(page.locator("#open-storage-manager")).to_have_count(0)
    page.goto(device.url + "/storage")
    expect(page.locator("p.error")).to_contain_text("Only administrators")


def test_the_notification_bell(device_factory: Factory, page: Any, tmp_path: Path) -> None:
    """What a person should see lands under the bell, counted until it is opened."""
    import json

    device = signed_in(device_factory(tmp_path / "data"), page)
    admin = Web(device.url).login()
    expect(page.locator("#bell")).to_be_visible()
    expect(page.locator("#unread")).to_have_count(0)
    admin.ok("SYNO.Core.Share", "create", name="old")
    admin.ok("SYNO.Core.Share", "delete", name="old", confirm="true")
    made = admin.ok("SYNO.Core.TaskScheduler", "create", type="script", name="nightly",
                    owner="alice", extra=json.dumps({"script": "exit 3"}))
    admin.ok("SYNO.Core.TaskScheduler", "run", tasks=json.dumps([{"id": made["id"]}]))
    page.wait_for_timeout(2500)  # the run ends; the bell's count is at most 2 s old
    page.goto(device.url + "/desktop")
    expect(page.locator("#unread")).to_have_text("2")
    page.click("#bell")
    rows = page.locator("#notifications tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Scheduled task nightly failed")
    expect(rows.nth(1)).to_contain_text("A shared folder's data was deleted")
    expect(rows.nth(0)).to_contain_text("(new)")
    shot(page, "05-notifications")
    page.goto(device.url + "/desktop")
    expect(page.locator("#unread")).to_have_count(0)  # read, and kept so
