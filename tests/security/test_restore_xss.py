"""Attack 6: stored XSS through a configuration restore.

Before: restore accepted any user name; a crafted backup added x'+(document.title=…)+' and
clicking Delete on that user ran it (the name sat inside an inline onsubmit handler).
"""

from __future__ import annotations

import re

import aiohttp
import pytest

from openstation.config import backup as backup_file
from openstation.config.sections import User
from openstation.device import Device
from openstation.errors import BackupError
from tests.webapi.conftest import STRONG, Api

CRAFTED = "x'+(document.title='pwned')+'"


async def test_a_crafted_backup_is_refused_whole(device: Device) -> None:
    header, content = backup_file.open_backup(await device.backups.backup(None))
    content["collections"]["users"].append({**content["collections"]["users"][-1],
                                            "name": CRAFTED, "uid": 4242})
    forged = backup_file.seal(content, header["model"], header["created"])
    with pytest.raises(BackupError, match="name"):
        await device.backups.preview(forged, None, None)
    with pytest.raises(BackupError, match="name"):
        await device.backups.restore(forged, None, None, "alice")
    assert device.store.record(User, CRAFTED) is None


async def test_pages_carry_no_inline_handlers_and_scripts_need_a_nonce(device: Device,
                                                                       api: Api) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as browser:
        async with browser.get(f"{api.base}/") as page:
            csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text())
        assert csrf is not None
        async with browser.post(f"{api.base}/login", data={
                "csrf": csrf.group(1), "account": "alice", "passwd": STRONG}) as signed_in:
            assert signed_in.status == 200
        for path in ("/desktop", "/panel/user", "/panel/user/edit?name=alice", "/panel/group",
                     "/panel/share", "/panel/restore", "/panel/network", "/panel/security",
                     "/panel/ha", "/logs", "/personal", "/front"):
            async with browser.get(f"{api.base}{path}") as response:
                html = await response.text()
                policy = response.headers["Content-Security-Policy"]
            assert response.status == 200, path
            assert not re.search(r"\son[a-z]+\s*=", html), path  # no inline event handlers
            script_src = next(p for p in policy.split(";") if "script-src" in p)
            assert "unsafe-inline" not in script_src
            nonce = re.search(r"'nonce-([^']+)'", script_src)
            assert nonce is not None
            for tag in re.findall(r"<script[^>]*>", html):
                assert "src=" in tag or f'nonce="{nonce.group(1)}"' in tag, (path, tag)
