"""The File Station app, walked in a real browser: shares, upload (button and drag and
drop, each file with its progress), folders, rename, copy and move through the destination
dialog, search, properties (size and MD5), a share link made, opened and revoked, download
of a selection as a zip, and delete with its confirmation."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from openstation.testing import DeviceProcess, Web, openstation
from tests.ui.conftest import shot
from tests.ui.test_seed_in_browser import signed_in

Factory = Callable[..., DeviceProcess]


def test_file_station_app(device_factory: Factory, page: Any, tmp_path: Path) -> None:
    device = signed_in(device_factory(tmp_path / "data"), page)
    openstation("share", "create", "docs", "--data-dir", str(device.data_dir), check=True)
    volume = device.data_dir / "volume1" / "docs"
    page.click("#open-file-station")
    page.wait_for_url("**/filestation")
    expect(page.locator("#tree a")).to_have_text(["docs"])

    report, notes = tmp_path / "report.txt", tmp_path / "notes.md"
    report.write_bytes(b"quarterly numbers\n" * 500)
    notes.write_bytes(b"# notes\n")
    page.set_input_files("#upload-input", [str(report), str(notes)])
    expect(page.locator("#uploads li[data-done=ok]")).to_have_count(2)
    expect(page.locator("#files tr")).to_have_count(2)
    # Drag and drop: a file dropped on the list uploads like the button's.
    page.evaluate("""() => {
        const data = new DataTransfer();
        data.items.add(new File(["dropped!"], "dropped.txt", {type: "text/plain"}));
        const zone = document.getElementById("drop");
        zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: data, bubbles: true}));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
    }""")
    expect(page.locator("#uploads li[data-done=ok]")).to_have_count(3)
    expect(page.locator("#files tr")).to_have_count(3)
    assert (volume / "dropped.txt").read_bytes() == b"dropped!"
    shot(page, "filestation-uploaded")

    page.once("dialog", lambda dialog: dialog.accept("Archive"))
    page.click("#create-folder")
    expect(page.locator("#files tr").first).to_contain_text("Archive")
    page.check("tr[data-path='/docs/notes.md'] input")
    page.once("dialog", lambda dialog: dialog.accept("notes-2026.md"))
    page.click("#rename")
    expect(page.locator("tr[data-path='/docs/notes-2026.md']")).to_be_visible()

    page.check("tr[data-path='/docs/report.txt'] input")
    page.click("#copy-to")
    page.fill("#dest-path", "/docs/Archive")
    shot(page, "filestation-copy-dialog")
    page.click("#dest-ok")
    expect(page.locator("#status")).to_have_text("Copied.")
    assert (volume / "Archive" / "report.txt").read_bytes() == report.read_bytes()
    page.check("tr[data-path='/docs/dropped.txt'] input")
    page.click("#move-to")
    page.fill("#dest-path", "/docs/Archive")
    page.click("#dest-ok")
    expect(page.locator("#status")).to_have_text("Moved.")
    assert not (volume / "dropped.txt").exists() and (volume / "Archive/dropped.txt").exists()

    page.click("th[data-sort=size]")
    page.click("th[data-sort=size]")  # descending: the largest file first
    expect(page.locator("#files tr").nth(1)).to_contain_text("report.txt")

    page.check("tr[data-path='/docs/report.txt'] input")
    page.click("#properties")
    expect(page.locator("#md5-value")).to_have_text(
        hashlib.md5(report.read_bytes()).hexdigest())
    expect(page.locator("#props")).to_contain_text("8.8 KB")
    shot(page, "filestation-properties")
    page.click("#props-dialog button")

    page.click("#share-link")
    expect(page.locator("#link-url")).to_have_value(re.compile("/sharing/"))
    url = page.locator("#link-url").input_value()
    assert "/sharing/" in url
    shot(page, "filestation-share-link")
    visitor = page.context.browser.new_context()
    shared = visitor.new_page()
    shared.goto(url)
    expect(shared.locator("h1")).to_have_text("report.txt")
    page.click("#link-revoke")
    expect(page.locator("#status")).to_contain_text("revoked")
    response = shared.goto(url)
    assert response is not None and response.status == 404
    visitor.close()

    page.fill("#search", "report")
    page.press("#search", "Enter")
    expect(page.locator("#status")).to_have_text("2 found for “report”.")
    expect(page.locator("#files tr")).to_have_count(2)
    page.click("#tree a")  # back to the share

    page.check("#select-all")
    with page.expect_download() as download:
        page.click("#download")
    body = Path(download.value.path()).read_bytes()
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert {"report.txt", "notes-2026.md", "Archive/report.txt"} <= set(names)

    page.check("#select-all")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete")
    expect(page.locator("#status")).to_have_text("Deleted.")
    expect(page.locator("#files tr")).to_have_count(0)
    assert [p.name for p in volume.iterdir() if not p.name.startswith("@")] == []
    shot(page, "filestation-emptied")


def test_file_station_refuses_what_a_user_may_not(device_factory: Factory, page: Any,
                                                  tmp_path: Path) -> None:
    device = signed_in(device_factory(tmp_path / "data"), page)
    data = str(device.data_dir)
    openstation("share", "create", "team", "--data-dir", data, check=True)
    openstation("user", "create", "bob", "--password", "B0b!secret", "--data-dir", data,
                check=True)
    (device.data_dir / "volume1" / "team" / "plan.txt").write_text("plan")
    Web(device.url).login().ok("SYNO.Core.Share", "set", name="team",
                               permissions={"user:bob": "ro"})
    page.goto(device.url + "/filestation")
    page.click("form[action='/logout'] button")
    page.fill("#account", "bob")
    page.fill("#passwd", "B0b!secret")
    page.click("#signin")
    page.wait_for_url("**/desktop")
    page.goto(device.url + "/filestation")
    expect(page.locator("#files tr")).to_have_count(1)  # bob reads team
    page.check("#select-all")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete")
    expect(page.locator("#status")).to_contain_text("not permitted")
    page.set_input_files("#upload-input", [str(Path(__file__))])
    expect(page.locator("#uploads li[data-done=failed]")).to_contain_text("not permitted")
    assert sorted(p.name for p in (device.data_dir / "volume1" / "team").iterdir()
                  if not p.name.startswith("@")) == ["plan.txt"]
    shot(page, "filestation-read-only")
