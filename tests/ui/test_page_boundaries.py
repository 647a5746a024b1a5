"""The pages' two boundaries, without a browser: the CSRF middleware refuses a state change
without the session's token before any handler runs, and a refused change comes back as a
message on the page — never an HTTP 500."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from openstation.testing import STRONG, DeviceProcess

Factory = Callable[..., DeviceProcess]


class Browser:
    def __init__(self, device: DeviceProcess) -> None:
        self.base = device.url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = ""

    def post(self, path: str, **form: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path,
                                  urllib.parse.urlencode(form).encode()) as response:
                return response.status, self._keep(response.read().decode())
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read().decode()

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path) as response:
            return self._keep(response.read().decode())

    def _keep(self, page: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        if found:
            self.csrf = found.group(1)
        return page


def messages(page: str) -> list[tuple[str, str]]:
    return re.findall(r'class="(ok|error)"[^>]*>([^<]*)', page)


def test_csrf_and_refusals_on_the_pages(device_factory: Factory, tmp_path: Path) -> None:
    device = device_factory(tmp_path / "data")
    assert device.install().returncode == 0
    browser = Browser(device)
    browser.get("/")
    assert browser.post("/login", account="alice", passwd=STRONG)[0] == 403  # no token
    status, _ = browser.post("/login", csrf=browser.csrf, account="alice", passwd=STRONG)
    assert status == 200
    token = browser.csrf
    for path, form in (("/panel/user/create", {"name": "mallory", "password": "M4llory!x"}),
                       ("/panel/network/ports", {"http": "6000", "https": "6001"}),
                       ("/personal", {"new_password": "x", "confirm": "x"})):
        for bad in ({}, {"csrf": "wrong"}, {"csrf": "é" * 10}):
            status, text = browser.post(path, **form, **bad)
            assert status == 403 and "CSRF" in text, (path, bad, status)
    assert "mallory" not in browser.get("/panel/user")
    # Refused changes are messages on the page, each naming what is wrong.
    status, page = browser.post("/panel/user/edit", csrf=token, name="alice",
                                password="Al1ce!one", confirm="Al1ce!two")
    assert status == 200 and ("error", "The passwords do not match.") in messages(page)
    status, page = browser.post("/panel/user/edit", csrf=token, name="alice", password="weak",
                                confirm="weak")
    assert status == 200 and any(kind == "error" and "password" in text
                                 for kind, text in messages(page))
    status, page = browser.post("/panel/network/interface", csrf=token, id="eth0",
                                mtu="lots")
    assert status == 200 and ("error", "A number is expected.") in messages(page)
    status, page = browser.post("/panel/user/create", csrf=token, name="bob",
                                password="B0b!secret")
    assert status == 200 and ("ok", "Created bob.") in messages(page)
