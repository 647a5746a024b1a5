"""Control Panel > File Services in a real browser: switch SFTP on, see it run, and sign in
over it; a bad port is refused with its reason and changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncssh
from playwright.sync_api import expect

from openstation.testing import STRONG, DeviceProcess
from tests.conftest import CLIENT_THREAD
from tests.ui.conftest import shot
from tests.ui.test_seed_in_browser import signed_in

Factory = Callable[..., DeviceProcess]


def test_file_services_page(device_factory: Factory, page: Any, tmp_path: Path) -> None:
    device = signed_in(device_factory(tmp_path / "data", file_services=True), page)
    page.goto(device.url + "/panel/fileservices")
    expect(page.locator("#status-sftp")).to_contain_text("stopped")
    page.check("input[name=sftp_enabled]")
    page.click("#apply-fileservices")
    expect(page.locator("#status-sftp")).to_contain_text("running")
    shot(page, "30-file-services")
    device.refresh()

    async def sign_in() -> list[str]:
        async with asyncssh.connect(
                "127.0.0.1", device.runtime["file_services"]["ssh"], username="alice",
                password=STRONG, known_hosts=None, client_keys=None, agent_path=None,
                preferred_auth="password") as conn, conn.start_sftp_client() as client:
            return list(await client.listdir("/"))

    # Playwright owns this thread's event loop: the client gets a thread of its own
    with ThreadPoolExecutor(1, thread_name_prefix=CLIENT_THREAD) as pool:
        listed = pool.submit(lambda: asyncio.run(sign_in())).result()
    assert listed == [".", ".."]  # alice has no share yet
    page.fill("input[name=sftp_port]", "5001")  # the HTTPS management port
    page.click("#apply-fileservices")
    expect(page.locator("p.error")).to_contain_text("HTTPS management port")
    page.goto(device.url + "/panel/fileservices")
    expect(page.locator("input[name=sftp_port]")).to_have_value("22")
