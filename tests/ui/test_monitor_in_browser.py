"""Resource Monitor in a real browser: the charts are drawn (uPlot, served by the device),
the live figures arrive by server-sent events and agree with the Web API, a range can be
chosen; a user without rights is refused."""

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


def test_resource_monitor_page(device_factory: Factory, page: Any, tmp_path: Path) -> None:
    device = signed_in(device_factory(tmp_path / "data"), page)
    failed: list[str] = []
    page.on("console", lambda message: message.type == "error" and failed.append(message.text))
    page.click("#open-resource-monitor")
    page.wait_for_url("**/monitor")
    expect(page.locator(".uplot")).to_have_count(4)  # CPU, memory, network, disk
    expect(page.locator("#now-cpu")).to_have_text(re.compile(r"^\d+\.\d %$"))
    volume = float(page.locator("#now-volume").inner_text().split()[0])
    from_api = Web(device.url).login().ok("SYNO.Storage.CGI.Volume", "get_space_usage")
    assert abs(volume - from_api["percent"]) < 2.0
    net = page.locator("#now-net").inner_text()
    assert re.fullmatch(r"[\d.]+ [KMG]?B/s / [\d.]+ [KMG]?B/s", net), net
    page.wait_for_timeout(2500)  # live samples keep coming: the CPU chart has points
    points = page.evaluate("document.querySelectorAll('.uplot .u-legend').length")
    assert points == 4
    shot(page, "40-resource-monitor")
    page.click("nav.ranges button[data-range='1h']")
    expect(page.locator("nav.ranges button[data-range='1h']")).to_have_attribute(
        "aria-pressed", "true")
    assert failed == []

    Web(device.url).login().ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    page.context.clear_cookies()
    sign_in(page, device.url + "/", "bob", "B0b!secret")
    page.goto(device.url + "/monitor")
    expect(page.locator("p.error")).to_contain_text("Only administrators")
    assert page.request.get(device.url + "/monitor/live").status == 403
