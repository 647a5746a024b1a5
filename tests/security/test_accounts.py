"""Attacks on accounts and sessions: cookie-only changes (7), a 2-step code used twice (9),
unbounded logins and sessions (11), lookalike names (12)."""

from __future__ import annotations

import aiohttp
import pyotp
import pytest

from openstation.accounts import sessions as sessions_module
from openstation.config.sections import AutoBlock, User
from openstation.device import Device
from tests.conftest import FakeClock
from tests.webapi.conftest import STRONG, Api

SECRET = "MGMJGNEJDLC3DH2AL6542GAU6JYMUUTO"


# --- 7: CSRF through the session cookie -------------------------------------------------


async def test_a_change_with_only_the_cookie_needs_the_synotoken(device: Device, api: Api
                                                                 ) -> None:
    jar = aiohttp.CookieJar(unsafe=True)  # keeps the session cookie of an IP host
    async with aiohttp.ClientSession(cookie_jar=jar) as browser:
        signed_in = await api.call("SYNO.API.Auth", "login", 6, http=browser, account="alice",
                                   passwd=STRONG, enable_syno_token="yes")
        token = signed_in["data"]["synotoken"]
        # What a page on another port of the same host can make the browser send:
        forged = (f"{api.base}/webapi/entry.cgi?api=SYNO.Core.User&version=1&method=create"
                  "&name=mallory&password=M4llory!pass")
        async with browser.get(forged) as response:
            assert (await response.json())["error"]["code"] == 119
        assert device.store.record(User, "mallory") is None
        async with browser.get(forged, headers={"X-SYNO-TOKEN": token}) as response:
            assert (await response.json())["success"]
        # Reads need no token; a client naming its session in `_sid` is unaffected.
        listed = await api.call("SYNO.Core.User", "list", http=browser)
        assert listed["success"]
    sid = await api.sid()
    assert (await api.call("SYNO.Core.User", "set", _sid=sid, name="mallory",
                           description="x"))["success"]


async def test_a_cookie_session_without_a_synotoken_cannot_change_anything(api: Api) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        await api.call("SYNO.API.Auth", "login", 6, http=browser, account="alice",
                       passwd=STRONG)
        answer = await api.call("SYNO.Core.User", "create", http=browser, name="mallory",
                                password="M4llory!pass")
        assert answer["error"]["code"] == 119


# --- 9: a 2-step code is good once --------------------------------------------------------


async def test_a_2_step_code_works_once_even_from_another_address(device: Device, api: Api,
                                                                  clock: FakeClock) -> None:
    device.accounts.enrol_otp("alice", SECRET)
    code = pyotp.TOTP(SECRET).at(clock.now)
    first = await api.login("alice", STRONG, otp_code=code)
    assert first["success"], first
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.3", 0))
    async with aiohttp.ClientSession(connector=connector) as elsewhere:
        replayed = await api.call("SYNO.API.Auth", "login", 6, http=elsewhere,
                                  account="alice", passwd=STRONG, otp_code=code)
    assert replayed["error"]["code"] == 404
    clock.advance(30)  # the next step's code is fresh
    fresh = await api.login("alice", STRONG, otp_code=pyotp.TOTP(SECRET).at(clock.now))
    assert fresh["success"], fresh


# --- 11: the cost of successful logins and sessions ---------------------------------------


async def test_sessions_per_account_are_capped_oldest_first(api: Api,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setattr(sessions_module, "PER_ACCOUNT", 3)
    sids = [await api.sid() for _ in range(4)]
    assert (await api.call("SYNO.Core.User", "list", _sid=sids[0]))["error"]["code"] == 119
    for sid in sids[1:]:
        assert (await api.call("SYNO.Core.User", "list", _sid=sid))["success"]


async def test_successful_logins_are_rate_limited_unless_allowed(device: Device, api: Api
                                                                 ) -> None:
    device.web.login.successes.limit = 3
    for _ in range(3):
        await api.sid()
    limited = await api.login("alice", STRONG)
    assert limited["error"]["code"] == 407 and limited["error"]["errors"]["retry_after"] > 0
    with device.store.transaction("test") as tx:
        tx.put(AutoBlock(allow=["127.0.0.0/8"]))
    device.web.login.successes.clear("127.0.0.1")
    for _ in range(5):
        await api.sid()  # the allow list is exempt


# --- 12: lookalike names -------------------------------------------------------------------

LOOKALIKES = ["pub\u200b", "\u202etxt.exe", "\u2025", "\uff0e\uff0e", "a\uff0fb", "tab\there"]


@pytest.mark.parametrize("name", LOOKALIKES)
async def test_lookalike_names_are_refused_everywhere(device: Device, api: Api,
                                                      name: str) -> None:
    sid = await api.sid()
    share = await api.call("SYNO.Core.Share", "create", _sid=sid, name=name)
    assert not share["success"]
    user = await api.call("SYNO.Core.User", "create", _sid=sid, name=name,
                          password="Us3r!secret")
    assert not user["success"]
    assert (await api.call("SYNO.Core.Share", "create", _sid=sid, name="pub"))["success"]
    folder = await api.call("SYNO.FileStation.CreateFolder", "create", 2, _sid=sid,
                            folder_path="/pub", name=name)
    assert not folder["success"]
    assert sorted(p.name for p in device.data_dir.volume.iterdir()
                  if not p.name.startswith("@")) == ["pub"]
    assert [p.name for p in (device.data_dir.volume / "pub").iterdir()
            if not p.name.startswith(("@", "#"))] == []


async def test_names_are_stored_in_one_normal_form(device: Device, api: Api) -> None:
    sid = await api.sid()
    decomposed = "Rene\u0301"  # as macOS types "René"
    assert (await api.call("SYNO.Core.User", "create", _sid=sid, name=decomposed,
                           password="Us3r!secret"))["success"]
    assert device.store.record(User, "Ren\u00e9") is not None
    assert (await api.call("SYNO.Core.User", "create", _sid=sid, name="Ren\u00e9",
                           password="Us3r!secret"))["error"]["code"] == 120
