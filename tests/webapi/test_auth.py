"""SYNO.API.Auth and the session rules, on an in-process device with a fake clock."""

from __future__ import annotations

import base64
import json
import secrets
from urllib.parse import urlencode

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from yarl import URL

from openstation.accounts.service import UserChanges
from openstation.config.sections import AutoBlock, LoginSettings, User
from openstation.device import Device
from openstation.errors import LoginRefused
from openstation.webapi.login_crypto import openssl_aes_encrypt
from tests.conftest import FakeClock
from tests.webapi.conftest import STRONG, Api

INFO = ("SYNO.DSM.Info", "getinfo")


async def test_calls_need_a_session_and_logout_ends_it(api: Api) -> None:
    assert (await api.call(*INFO))["error"]["code"] == 119
    sid = await api.sid()
    assert (await api.call(*INFO, _sid=sid))["success"]
    assert (await api.call("SYNO.API.Auth", "logout", 6, _sid=sid)) == {"success": True}
    assert (await api.call(*INFO, _sid=sid))["error"]["code"] == 119
    assert (await api.call("SYNO.API.Auth", "logout", 6)) == {"success": True}


async def test_the_id_cookie_carries_the_session(api: Api) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        body = await api.call("SYNO.API.Auth", "login", 6, http=browser, account="alice",
                              passwd=STRONG, format="cookie")
        assert body["success"] and body["data"]["sid"]
        assert (await api.call(*INFO, http=browser))["success"]


async def test_sessions_are_128_bit_random(api: Api) -> None:
    sids = {await api.sid() for _ in range(3)}
    assert len(sids) == 3
    assert all(len(base64.urlsafe_b64decode(s + "==")) == 16 for s in sids)


async def test_an_idle_session_times_out(api: Api, clock: FakeClock) -> None:
    sid = await api.sid()
    clock.advance(14 * 60)
    assert (await api.call(*INFO, _sid=sid))["success"]  # activity resets the idle timer
    clock.advance(15 * 60 + 1)
    assert (await api.call(*INFO, _sid=sid))["error"]["code"] == 106


async def test_the_idle_timeout_is_configurable(api: Api, device: Device,
                                                clock: FakeClock) -> None:
    with device.store.transaction("test") as tx:
        tx.put(LoginSettings(session_timeout_minutes=1))
    sid = await api.sid()
    clock.advance(61)
    assert (await api.call(*INFO, _sid=sid))["error"]["code"] == 106


async def test_a_password_change_revokes_the_users_sessions(api: Api) -> None:
    sid = await api.sid()
    other = await api.sid()
    changed = await api.call("SYNO.Core.NormalUser", "set", _sid=sid, old_password=STRONG,
                             password="N3w!password")
    assert changed["success"], changed
    for old in (sid, other):
        assert (await api.call(*INFO, _sid=old))["error"]["code"] == 119
    assert (await api.login("alice", STRONG))["error"]["code"] == 400
    assert (await api.login("alice", "N3w!password"))["success"]


async def test_changing_ones_own_password_needs_the_old_one(api: Api) -> None:
    sid = await api.sid()
    wrong = await api.call("SYNO.Core.NormalUser", "set", _sid=sid, old_password="nope",
                           password="N3w!password")
    assert wrong["error"]["code"] == 120 and "old_password" in wrong["error"]["errors"]
    assert (await api.call(*INFO, _sid=sid))["success"]


async def test_disabling_an_account_signs_it_out_and_refuses_it(api: Api, device: Device
                                                                ) -> None:
    admin = await api.sid()
    assert (await api.call("SYNO.Core.User", "create", _sid=admin, name="bob",
                           password="B0b!secret"))["success"]
    bob = await api.sid("bob", "B0b!secret")
    assert (await api.call("SYNO.Core.User", "set", _sid=admin, name="bob",
                           expired="now"))["success"]
    assert (await api.call(*INFO, _sid=bob))["error"]["code"] == 119
    assert (await api.login("bob", "B0b!secret"))["error"]["code"] == 401
    assert (await api.login("bob", "wrong"))["error"]["code"] == 400  # reveals nothing


async def test_synotoken_is_required_for_changes_when_asked_for(api: Api) -> None:
    body = await api.login("alice", STRONG, enable_syno_token="yes")
    sid, token = body["data"]["sid"], body["data"]["synotoken"]
    create = {"name": "carol", "password": "C4rol!pass"}
    assert (await api.call("SYNO.Core.User", "create", _sid=sid, **create)
            )["error"]["code"] == 119
    assert (await api.call("SYNO.Core.User", "list", _sid=sid))["success"]  # reads need none
    ok = await api.call("SYNO.Core.User", "create", _sid=sid, headers={"X-SYNO-TOKEN": token},
                        **create)
    assert ok["success"], ok
    again = await api.call("SYNO.Core.User", "set", _sid=sid, SynoToken=token, name="carol",
                           description="Carol")
    assert again["success"], again


async def test_a_session_is_bound_to_its_source_address(api: Api) -> None:
    sid = await api.sid()
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as elsewhere:
        body = await api.call(*INFO, http=elsewhere, _sid=sid)
    assert body["error"]["code"] == 150


async def test_only_administrators_manage_others(api: Api) -> None:
    admin = await api.sid()
    assert (await api.call("SYNO.Core.User", "create", _sid=admin, name="dave",
                           password="D4ve!pass"))["success"]
    dave = await api.sid("dave", "D4ve!pass")
    for method, params in (("list", {}), ("create", {"name": "x", "password": "X!x12345a"}),
                           ("delete", {"name": "alice"}),
                           ("set", {"name": "alice", "password": "Ev1l!pass"}),
                           ("get", {"name": "alice"})):
        assert (await api.call("SYNO.Core.User", method, _sid=dave, **params)
                )["error"]["code"] == 105, method
    assert (await api.call("SYNO.Core.User", "get", _sid=dave, name="dave"))["success"]
    assert (await api.login("alice", STRONG))["success"]


async def test_the_last_enabled_administrator_cannot_be_disabled_or_deleted(api: Api) -> None:
    sid = await api.sid()
    disabled = await api.call("SYNO.Core.User", "set", _sid=sid, name="alice", expired="now")
    assert disabled["error"]["code"] == 120
    assert "last enabled administrator" in json.dumps(disabled["error"])
    deleted = await api.call("SYNO.Core.User", "delete", _sid=sid, name="alice")
    assert deleted["error"]["code"] == 120
    assert (await api.login("alice", STRONG))["success"]


async def test_a_weak_password_names_each_rule_and_creates_nothing(api: Api,
                                                                   device: Device) -> None:
    sid = await api.sid()
    body = await api.call("SYNO.Core.User", "create", _sid=sid, name="erin", password="erin")
    assert body["error"]["code"] == 120
    reasons = body["error"]["errors"]["password"]
    for rule in ("8 characters", "upper and lower", "digit", "special", "user name"):
        assert rule in reasons
    assert device.store.record(User, "erin") is None


async def test_user_list_pages_and_reports_expired(api: Api) -> None:
    sid = await api.sid()
    listed = await api.call("SYNO.Core.User", "list", _sid=sid, offset=0, limit=2,
                            additional='["email","is_admin"]')
    data = listed["data"]
    assert data["total"] == 3 and [u["name"] for u in data["users"]] == ["admin", "alice"]
    admin, alice = data["users"]
    assert admin["expired"] == "now" and alice["expired"] == "normal"
    assert alice["is_admin"] is True and "password_hash" not in json.dumps(data)


# --- the blank admin after a Mode 1 reset ------------------------------------------------


async def put_in_blank_admin_state(device: Device, until: float) -> None:
    """What Mode 1 does to `admin` (the reset issue drives it; here it is set directly)."""
    with device.store.transaction("test") as tx:
        admin = tx.record(User, "admin")
        assert admin is not None
        admin.password_hash, admin.disabled = "", False
        admin.blank_password_until = until
        tx.put_record(admin)
    await device.accounts.set_user("admin", UserChanges(), actor="test")


async def test_blank_admin_can_only_set_a_strong_password(api: Api, device: Device,
                                                          clock: FakeClock) -> None:
    await put_in_blank_admin_state(device, clock.now + 30 * 60)
    body = await api.login("admin", "")
    assert body["success"] and body["data"]["must_change_password"] is True
    sid = body["data"]["sid"]
    for api_name, method in (INFO, ("SYNO.Core.User", "list"), ("SYNO.Core.Share", "list")):
        assert (await api.call(api_name, method, _sid=sid))["error"]["code"] == 410
    other = await api.call("SYNO.Core.User", "set", _sid=sid, name="alice", password="Ev1l!pass")
    assert other["error"]["code"] == 410
    weak = await api.call("SYNO.Core.User", "set", _sid=sid, name="admin", password="short")
    assert weak["error"]["code"] == 120
    done = await api.call("SYNO.Core.User", "set", _sid=sid, name="admin", password="Adm1n!new")
    assert done["success"], done
    assert (await api.call(*INFO, _sid=sid))["error"]["code"] == 119  # that session ended
    assert (await api.login("admin", ""))["error"]["code"] == 400
    assert (await api.sid("admin", "Adm1n!new"))
    assert (await api.sid("alice", STRONG))  # other users untouched


async def test_blank_admin_window_expires_with_a_message_to_press_reset(
        api: Api, device: Device, clock: FakeClock) -> None:
    await put_in_blank_admin_state(device, clock.now + 30 * 60)
    clock.advance(30 * 60 + 1)
    body = await api.login("admin", "")
    assert body["error"]["code"] == 400
    assert "press RESET again" in body["error"]["errors"]["reason"]


async def test_blank_admin_is_refused_from_outside_the_devices_network(device: Device,
                                                                      clock: FakeClock) -> None:
    from openstation.accounts.login import LoginRequest, LoginService

    await put_in_blank_admin_state(device, clock.now + 60)
    service = LoginService(device.store, device.sessions, clock,
                           lambda: ["192.168.1.0/24"])
    assert (await service.login(LoginRequest("admin", "", "192.168.1.20"))).session.restricted
    try:
        await service.login(LoginRequest("admin", "", "10.0.0.5"))
    except LoginRefused as refused:
        assert refused.code == 402
    else:
        raise AssertionError("a blank admin login from another network was accepted")


# --- Auto Block and the rate limit -------------------------------------------------------


async def test_auto_block_blocks_after_the_configured_failures(api: Api, device: Device,
                                                               clock: FakeClock) -> None:
    with device.store.transaction("test") as tx:
        tx.put(AutoBlock(enabled=True, attempts=3, within_minutes=5, expire_days=1))
    for _ in range(3):
        assert (await api.login("alice", "wrong"))["error"]["code"] == 400
    # A blocked address is refused when it connects, before any request is read.
    async with aiohttp.ClientSession() as fresh:
        with pytest.raises(aiohttp.ClientConnectionError):
            await api.call("SYNO.API.Auth", "login", 6, http=fresh, account="alice",
                           passwd=STRONG)
    assert device.connections.refused == 1
    block = device.store.get(AutoBlock).block
    assert [entry.address for entry in block] == ["127.0.0.1"]
    clock.advance(86400 + 1)
    assert (await api.login("alice", STRONG))["success"]


async def test_the_allow_list_is_never_blocked(api: Api, device: Device) -> None:
    with device.store.transaction("test") as tx:
        tx.put(AutoBlock(enabled=True, attempts=2, allow=["127.0.0.0/8"]))
    for _ in range(5):
        await api.login("alice", "wrong")
    assert (await api.login("alice", STRONG))["success"]


async def test_failed_logins_are_rate_limited_without_auto_block(api: Api,
                                                                 clock: FakeClock) -> None:
    for _ in range(20):
        assert (await api.login("alice", "wrong"))["error"]["code"] == 400
    limited = await api.login("alice", STRONG)
    assert limited["error"]["code"] == 407 and limited["error"]["errors"]["retry_after"] > 0
    clock.advance(61)
    assert (await api.login("alice", STRONG))["success"]


# --- the DSM 7 handshake -----------------------------------------------------------------


async def test_dsm7_encrypted_login(api: Api) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        ui = await api.call("SYNO.API.Auth.UIConfig", "get", http=browser)
        assert ui["success"]
        ssid = browser.cookie_jar.filter_cookies(URL(api.base))["_SSID"].value
        assert len(base64.urlsafe_b64decode(ssid + "=")) == 32 and "=" not in ssid
    info = (await api.call("SYNO.API.Encryption", "getinfo"))["data"]
    public = rsa.RSAPublicNumbers(65537, int(info["public_key"], 16)).public_key()
    assert public.key_size == 4096
    passphrase = secrets.token_urlsafe(24).encode()
    fields = urlencode({"account": "alice", "passwd": STRONG,
                        info["ciphertoken"]: info["server_time"]})
    envelope = {
        "rsa": base64.b64encode(public.encrypt(passphrase, padding.PKCS1v15())).decode(),
        "aes": base64.b64encode(openssl_aes_encrypt(fields.encode(), passphrase,
                                                    secrets.token_bytes(8))).decode(),
    }
    body = await api.call("SYNO.API.Auth", "login", 7, **{info["cipherkey"]:
                                                          json.dumps(envelope)})
    assert body["success"], body
    assert (await api.call(*INFO, _sid=body["data"]["sid"]))["success"]
    garbled = dict(envelope, aes=base64.b64encode(b"Salted__" + bytes(24)).decode())
    bad = await api.call("SYNO.API.Auth", "login", 7, **{info["cipherkey"]:
                                                         json.dumps(garbled)})
    assert bad["error"]["code"] == 120
