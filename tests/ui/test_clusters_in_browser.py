"""Control Panel > High Availability in a real browser: a refused create shows why, a pair
is made, switched over and removed from the page."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from openstation.testing import STRONG, DeviceProcess, openstation
from tests.ui.conftest import shot
from tests.ui.test_seed_in_browser import sign_in

Factory = Callable[..., DeviceProcess]


def ha_status(device: DeviceProcess) -> dict[str, Any]:
    return dict(json.loads(openstation("ha", "status", "--data-dir", str(device.data_dir),
                                       "--json", check=True).stdout))


def test_high_availability_page_creates_switches_over_and_removes(
        device_factory: Factory, page: Any, tmp_path: Any) -> None:
    a = device_factory(tmp_path / "a", "--model", "DS918+")
    b = device_factory(tmp_path / "b", "--model", "DS918+")
    for device, name in ((a, "nas-a"), (b, "nas-b")):
        assert device.install(name).returncode == 0

    sign_in(page, a.url, "alice", STRONG)
    page.goto(f"{a.url}/panel/ha")
    assert page.is_visible("#ha_none")

    def fill(password: str) -> None:
        page.fill("#ha_peer_url", b.https_url)
        page.fill("#ha_peer_fingerprint", b.fingerprint)
        page.fill("#ha_peer_user", "alice")
        page.fill("#ha_peer_password", password)
        page.fill("#ha_cluster_name", "hapair")
        page.fill("#ha_quorum", "127.0.0.1:9")
        page.fill("#ha_failover", "2")
        page.click("#ha_create")

    fill("Wr0ng!pass")
    assert "refused the login" in page.inner_text(".error")
    assert ha_status(a)["member"] is False and ha_status(b)["member"] is False

    fill(STRONG)
    assert "The cluster is created." in page.inner_text("body")
    assert "active" in page.inner_text("#ha_role")
    assert "replication in sync" in page.inner_text("#ha_peer")
    shot(page, "ha-active")

    sign_in(page, b.url, "alice", STRONG)
    page.goto(f"{b.url}/panel/ha")
    assert "passive" in page.inner_text("#ha_role") and "in sync" in page.inner_text("#ha_role")

    sign_in(page, a.url, "alice", STRONG)
    page.goto(f"{a.url}/panel/ha")
    page.click("#ha_switchover")
    assert "this server is passive now" in page.inner_text("body")
    assert ha_status(b)["role"] == "active"

    sign_in(page, b.url, "alice", STRONG)
    page.goto(f"{b.url}/panel/ha")
    page.click("#ha_remove")
    assert "The cluster is removed" in page.inner_text("body")
    assert page.is_visible("#ha_none")
    for _ in range(50):
        if not ha_status(a)["member"]:
            break
        page.wait_for_timeout(100)
    assert ha_status(a)["member"] is False and ha_status(b)["member"] is False
