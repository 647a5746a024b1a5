"""The seed's procedures in a real browser: install, Mode 1 steps 3-9, Mode 2 steps 4-6,
the front panel's RESET held with the mouse, and bad input on the forms."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from openstation.panel import control
from openstation.testing import STRONG, DeviceProcess, openstation, wait_for, wait_for_status
from tests.ui.conftest import shot

Factory = Callable[..., DeviceProcess]


def reset(data: Path, mode: int) -> None:
    """Decide a reset through the control channel (in a thread: Playwright owns this one's
    event loop)."""
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(lambda: asyncio.run(control.call(
            data / "system" / "panel.sock", "POST", "/reset", {"mode": mode}))).result()
    assert answer.get("accepted"), answer


def resets(data: Path) -> list[dict[str, Any]]:
    return list(json.loads(openstation("log", "--data-dir", str(data), "--resets", "--json",
                                       check=True).stdout))


def status_of(data: Path) -> dict[str, Any]:
    return dict(json.loads(openstation("panel", "status", "--data-dir", str(data), "--json",
                                       check=True).stdout))


def sign_in(page: Any, url: str, user: str, password: str) -> None:
    page.goto(url)
    page.fill("#account", user)
    page.fill("#passwd", password)
    page.click("#signin")


def signed_in(device: DeviceProcess, page: Any) -> DeviceProcess:
    """Install `device` (nas1, alice) and sign alice in on `page`, at the desktop."""
    assert device.install("nas1", "alice", STRONG).returncode == 0
    sign_in(page, device.url + "/", "alice", STRONG)
    page.wait_for_url("**/desktop")
    return device


def install_in_browser(page: Any, url: str, user: str, password: str, name: str) -> None:
    page.goto(url)
    page.fill("#server_name", name)
    page.fill("#admin_user", user)
    page.fill("#password", password)
    page.fill("#confirm", password)
    page.click("#install")
    page.wait_for_url("**/?installed=1")


def test_install_a_new_device_through_the_wizard(device_factory: Factory, page: Any) -> None:
    device = device_factory()
    page.goto(device.url + "/")
    assert page.inner_text("h1") == "Install DSM"
    page.fill("#admin_user", "alice")
    page.fill("#password", "alice")
    assert "\u2717 At least 8 characters" in page.inner_text("#rules")
    page.fill("#confirm", "alice")
    page.click("#install")
    page.wait_for_selector("#problem:not([hidden])")
    assert "8 characters" in page.inner_text("#problem")
    shot(page, "01-wizard-weak-password")
    install_in_browser(page, device.url + "/", "alice", STRONG, "nas1")
    assert "Sign in with your administrator account" in page.inner_text("main")
    shot(page, "02-installed-sign-in")
    sign_in(page, device.url + "/", "alice", "wrong")
    assert "invalid" in page.inner_text(".error")
    sign_in(page, device.url + "/", "alice", STRONG)
    page.wait_for_url("**/desktop")
    shot(page, "03-desktop")


def test_seed_mode_1_steps_3_to_9(device_factory: Factory, page: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    device = device_factory(data)
    assert device.install("nas1", "alice", STRONG).returncode == 0
    reset(data, 1)
    wait_for(lambda: bool(resets(data)))
    url = device.url + "/"
    # Step 3: admin with a blank password.
    sign_in(page, url, "admin", "")
    page.wait_for_url("**/password")
    assert page.inner_text("h1") == "Create a strong password"
    shot(page, "10-create-a-strong-password")
    # Step 4: a weak one is refused, a strong one accepted.
    page.fill("#new_password", "admin")
    page.fill("#confirm", "admin")
    page.click("#submit")
    assert "must" in page.inner_text(".error")
    page.fill("#new_password", "Adm1n!strong")
    page.fill("#confirm", "Adm1n!strong")
    page.click("#submit")
    page.wait_for_url("**/?changed=1")
    # Step 5: sign in with it.
    sign_in(page, url, "admin", "Adm1n!strong")
    page.wait_for_url("**/desktop")
    assert page.is_visible("#disable-admin")  # the reminder of step 8
    shot(page, "11-desktop-after-mode-1")
    # Steps 6-7: Control Panel > User > double-click the administrator > Info > password.
    page.click("#open-control-panel")
    page.dblclick('tr.user[data-name="alice"]')
    page.wait_for_selector("#tab-info")
    page.fill("#password", "Al1ce!renewed")
    page.fill("#confirm", "Al1ce!renewed")
    shot(page, "12-user-info-tab")
    page.click("#ok")
    assert "Saved alice" in page.inner_text(".ok")
    # Step 8: sign in with that administrator and disable admin.
    page.click("header form button")
    sign_in(page, url, "alice", "Al1ce!renewed")
    page.wait_for_url("**/desktop")
    page.goto(device.url + "/panel/user")
    page.dblclick('tr.user[data-name="admin"]')
    page.check("#disabled")
    page.click("#ok")
    # Step 9: the admin account status is Disabled.
    status = page.inner_text('tr.user[data-name="admin"] td.status')
    assert status == "Disabled"
    shot(page, "13-admin-disabled")
    page.click("header form button")
    sign_in(page, url, "admin", "Adm1n!strong")
    assert "disabled" in page.inner_text(".error")
    sign_in(page, url, "alice", "Al1ce!renewed")
    page.wait_for_url("**/desktop")
    page.goto(device.url + "/logs")
    assert "Reset (Mode 1, control)" in page.inner_text("#log")
    shot(page, "14-log-center")


def test_seed_mode_2_steps_4_to_6(device_factory: Factory, page: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    device = device_factory(data)
    assert device.install("nas1", "alice", STRONG).returncode == 0
    keep = data / "volume1" / "family.txt"
    keep.write_text("precious")
    reset(data, 2)
    wait_for_status(data, "Configuration lost")
    assert status_of(data)["status_led"] == {"color": "orange", "mode": "blinking"}
    device.refresh()
    page.goto(device.url + "/")
    assert page.inner_text("h1") == "Reinstall DSM"
    assert "keeps every file on volume1" in page.inner_text("main")
    assert page.input_value("#server_name") == "DiskStation"
    shot(page, "20-reinstall-wizard")
    install_in_browser(page, device.url + "/", "alice", STRONG, "nas1")
    sign_in(page, device.url + "/", "alice", STRONG)
    page.wait_for_url("**/desktop")
    assert keep.read_text() == "precious"
    shot(page, "21-after-reinstall")


def test_front_panel_reset_held_with_the_mouse_gives_mode_1(device_factory: Factory,
                                                            page: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    device = device_factory(data)
    assert device.install("nas1", "alice", STRONG).returncode == 0
    front = openstation("panel", "open", "--data-dir", str(data), check=True).stdout.strip()
    assert "#token=" in front and front.startswith("http://127.0.0.1:")
    page.goto(front)
    # (Locators, not wait_for_function: the page's CSP rightly forbids eval.)
    expect(page.locator("body")).to_have_attribute("data-status", "Ready")
    assert "green" in page.get_attribute("#status-led", "class")
    shot(page, "30-front-panel")
    box = page.locator("#reset").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(4300)
    page.mouse.up()
    expect(page.locator("#info")).to_contain_text("Reset window open")
    wait_for(lambda: (status_of(data).get("beep_total") or 0) >= 2, 5)
    shot(page, "31-front-panel-window")
    wait_for(lambda: bool(resets(data)), 20)
    log = resets(data)
    assert log[0]["detail"]["mode"] == 1 and log[0]["detail"]["trigger"] == "button"
    page.goto(front.split("#")[0])  # no token: no state, no button
    expect(page.locator("#status")).to_contain_text("no access")


def test_a_cross_site_post_without_the_csrf_token_changes_nothing(device_factory: Factory,
                                                                  page: Any) -> None:
    device = signed_in(device_factory(), page)
    cookie = next(c for c in page.context.cookies() if c["name"] == "id")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    body = urllib.parse.urlencode({"name": "alice", "password": "Ev1l!pass",
                                   "confirm": "Ev1l!pass"}).encode()
    request = urllib.request.Request(device.url + "/panel/user/edit", data=body,
                                     headers={"Cookie": f"id={cookie['value']}"})
    try:
        urllib.request.urlopen(request, timeout=5)
        raise AssertionError("a POST without the CSRF token was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 403
    page.goto(device.url + "/desktop")
    page.wait_for_url("**/desktop")  # still signed in: the password did not change
    assert device.api("SYNO.API.Auth", "login", 6, account="alice", passwd=STRONG)["success"]
    forged = urllib.request.Request(device.url + "/webman/install.cgi", data=b"a=b",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        urllib.request.urlopen(forged, timeout=5)
    except urllib.error.HTTPError as error:
        assert error.code == 415


def test_forms_show_bad_input(device_factory: Factory, page: Any) -> None:
    device = signed_in(device_factory(), page)
    page.goto(device.url + "/panel/user")
    page.fill("#name", "bad/name")
    page.fill("#new_password", "x")
    page.click('form[action="/panel/user/create"] button')
    assert "name" in page.inner_text(".error")
    page.goto(device.url + "/panel/network")
    page.locator('form[action="/panel/network/interface"]').first.locator(
        'input[name="dhcp"]').uncheck()
    page.locator('form[action="/panel/network/interface"]').first.locator(
        'input[name="address"]').fill("192.168.1.10")
    page.locator('form[action="/panel/network/interface"]').first.locator(
        'input[name="netmask"]').fill("255.0.255.0")
    page.locator('form[action="/panel/network/interface"]').first.locator("button").click()
    assert "not a netmask" in page.inner_text("main")
    shot(page, "40-network-bad-netmask")
    page.goto(device.url + "/personal")
    page.fill("#old_password", "wrong")
    page.fill("#new_password", "N3w!pass")
    page.fill("#confirm", "N3w!pass")
    page.click('form[action="/personal"] button')
    assert "old_password" in page.inner_text(".error")


def test_configuration_backup_page_exports_previews_and_restores(device_factory: Factory,
                                                                 page: Any, tmp_path: Path
                                                                 ) -> None:
    data = tmp_path / "data"
    device = signed_in(device_factory(data), page)
    page.goto(device.url + "/panel/restore")
    with page.expect_download() as download:
        page.click("#export")
    saved = tmp_path / "backup.json"
    download.value.save_as(saved)
    assert b"openstation-config-backup" in saved.read_bytes()
    openstation("config", "set", "general", "server_name=changed", "--data-dir", str(data),
                check=True)
    page.goto(device.url + "/panel/restore")
    page.set_input_files("#file", str(tmp_path / "backup.json"))
    page.click("#preview")
    assert "server_name" in page.inner_text("#changes")
    shot(page, "50-restore-preview")
    page.click("#restore")
    page.wait_for_url("**/?restored=1")
    status = json.loads(openstation("status", "--data-dir", str(data), "--json",
                                    check=True).stdout)
    assert status["server_name"] == "nas1"
    page.goto(device.url + "/")
    sign_in(page, device.url + "/", "alice", STRONG)
    page.goto(device.url + "/panel/restore")
    page.set_input_files("#file", {"name": "bad.json", "mimeType": "application/json",
                                   "buffer": b'{"magic": "nope"}'})
    page.click("#preview")
    assert "not an openstation configuration backup" in page.inner_text(".error")


def test_shared_folder_page_encryption_mount_export_and_delete(device_factory: Factory,
                                                               page: Any, tmp_path: Path
                                                               ) -> None:
    device = signed_in(device_factory(), page)
    page.goto(device.url + "/panel/share")
    page.fill("#share_name", "vault")
    page.check("#share_encrypt")
    page.fill("#share_pass", "short")
    page.click("#share_create")
    assert "passphrase" in page.inner_text(".error")
    page.fill("#share_name", "vault")
    page.check("#share_encrypt")
    page.fill("#share_pass", "vault pass 1")
    page.click("#share_create")
    row = 'tr[data-name="vault"]'
    assert page.inner_text(f"{row} td.state") == "Encrypted, mounted"
    page.click(f'{row} button[value="unmount"]')
    assert page.inner_text(f"{row} td.state") == "Encrypted, unmounted"
    page.fill(f"{row} input.mount-pass", "wrong passphrase")
    page.click(f'{row} button[value="mount"]')
    assert "wrong passphrase" in page.inner_text(".error")
    page.fill(f"{row} input.mount-pass", "vault pass 1")
    page.click(f'{row} button[value="mount"]')
    assert page.inner_text(f"{row} td.state") == "Encrypted, mounted"
    page.fill(f'{row} input[name="export_passphrase"]', "vault pass 1")
    with page.expect_download() as download:
        page.click(f'{row} button[value="export"]')
    key = tmp_path / "vault.key"
    download.value.save_as(key)
    assert b"openstation-share-key" in key.read_bytes()
    page.fill(f'{row} input[name="export_passphrase"]', "vault pass 1")
    page.click(f'{row} button[value="keymanager"]')
    assert "(mount on startup)" in page.inner_text(f"{row} td.state")
    assert "machine key" in page.inner_text("#keys")
    shot(page, "60-shared-folder")
    page.click(f'{row} button.danger')
    assert "confirm" in page.inner_text(".error")
    page.check(f'{row} input[name="confirm"]')
    page.click(f'{row} button.danger')
    assert page.locator(row).count() == 0
    assert not (device.data_dir / "volume1" / "vault").exists()
    assert not (device.data_dir / "volume1" / "@vault@").exists()
