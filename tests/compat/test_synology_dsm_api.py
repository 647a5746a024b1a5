"""py-synologydsm-api (Home Assistant's DSM library), unchanged, against a real device."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pyotp
import pytest
from synology_dsm import SynologyDSM
from synology_dsm.exceptions import (
    SynologyDSMLogin2SARequiredException,
    SynologyDSMLoginDisabledAccountException,
    SynologyDSMLoginInvalidException,
)

from openstation.testing import STRONG, DeviceProcess

Factory = Callable[..., DeviceProcess]


@pytest.fixture
def device(device_factory: Factory, tmp_path: Path) -> DeviceProcess:
    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    return device


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def client(http: aiohttp.ClientSession, device: DeviceProcess, user: str, password: str,
           **kwargs: Any) -> SynologyDSM:
    port = device.runtime["ports"]["http"]
    return SynologyDSM(http, "127.0.0.1", port, user, password, timeout=30, **kwargs)


async def test_home_assistant_reads_everything_it_needs(device: DeviceProcess,
                                                        http: aiohttp.ClientSession) -> None:
    dsm = client(http, device, "alice", STRONG)
    assert await dsm.login()
    info = dsm.information
    assert info.model == "DS918+" and info.serial
    assert info.version_string == "DSM 6.2.3-25426 Update 3"
    assert str(info.awesome_version) == "6.2.3.3"
    assert info.ram == 4096 and info.uptime >= 0

    await dsm.utilisation.update()
    assert dsm.utilisation.cpu_user_load is not None
    assert dsm.utilisation.memory_size() > 0
    await dsm.storage.update()
    assert dsm.storage.volumes_ids == ["volume_1"]
    assert dsm.storage.volume_size_total("volume_1") > 0
    assert len(dsm.storage.disks_ids) == 4
    await dsm.network.update()
    assert dsm.network.hostname == "nas1"
    assert dsm.network.macs and dsm.network.macs[0].startswith("02:11:32")
    await dsm.system.update()
    assert dsm.system.model == "DS918+" and dsm.system.cpu_cores == "4"
    await dsm.share.update()
    assert dsm.share.shares_uuids == []
    await dsm.upgrade.update()
    assert dsm.upgrade.update_available is False
    await dsm.security.update()  # a real scan: a fresh device has things to fix
    assert dsm.security.status == "warning"
    assert dsm.security.status_by_check == {
        "malware": "safe", "network": "warning", "securitySetting": "warning",
        "systemCheck": "info", "update": "safe", "userInfo": "warning"}
    # The firewall on, then a new scan: the network is safe (a test device's ports are not
    # the default 5000 and 5001).
    sid = dsm._session_id  # the library's own session, for a raw call
    assert (await api(http, device, sid, "SYNO.Core.Security.Firewall", "set",
                      enable_firewall="true"))["success"]
    assert (await api(http, device, sid, "SYNO.Core.SecurityScan.Operation", "start")
            )["success"]
    await dsm.security.update()
    assert dsm.security.status_by_check["network"] == "safe"
    shares = await dsm.file.get_shared_folders()
    assert shares == []
    assert await dsm.logout()


async def test_shares_show_in_core_share_and_file_station(device: DeviceProcess, tmp_path: Path,
                                                          http: aiohttp.ClientSession) -> None:
    from openstation.panel.control import call

    data = tmp_path / "data"
    answer = await call(data / "system" / "panel.sock", "POST", "/op",
                        {"op": "share.create", "args": {"name": "photos"}})
    share_uuid = answer["result"][0]["uuid"]
    (data / "volume1" / "photos" / "big.bin").write_bytes(b"x" * 3 * 2**20)
    dsm = client(http, device, "alice", STRONG)
    assert await dsm.login()
    await dsm.share.update()
    assert dsm.share.shares_uuids == [share_uuid]
    assert dsm.share.share_name(share_uuid) == "photos"
    assert dsm.share.share_size(share_uuid) >= 3
    shares = await dsm.file.get_shared_folders()
    assert shares is not None and [s.name for s in shares] == ["photos"]
    assert shares[0].additional is not None
    assert shares[0].additional.perm.share_right == "RW"


async def test_wrong_password_and_unknown_account_raise_login_invalid(
        device: DeviceProcess, http: aiohttp.ClientSession) -> None:
    for user, password in (("alice", "Wrong!pass1"), ("nobody", STRONG)):
        with pytest.raises(SynologyDSMLoginInvalidException):
            await client(http, device, user, password).login()


async def api(http: aiohttp.ClientSession, device: DeviceProcess, sid: str, api_name: str,
              method: str, **params: str) -> dict[str, Any]:
    async with http.post(f"{device.url}/webapi/entry.cgi",
                         data={"api": api_name, "version": "1", "method": method, "_sid": sid,
                               **params}) as response:
        body: dict[str, Any] = await response.json()
        return body


async def test_disabled_account_raises_disabled_account(device: DeviceProcess,
                                                        http: aiohttp.ClientSession) -> None:
    admin = client(http, device, "alice", STRONG)
    assert await admin.login()
    sid = admin._session_id
    assert sid
    created = await api(http, device, sid, "SYNO.Core.User", "create", name="bob",
                        password="B0b!secret", expired="now")
    assert created["success"], created
    with pytest.raises(SynologyDSMLoginDisabledAccountException):
        await client(http, device, "bob", "B0b!secret").login()


async def test_two_step_login_needs_the_code_then_trusts_the_device(
        device: DeviceProcess, http: aiohttp.ClientSession) -> None:
    alice = client(http, device, "alice", STRONG)
    assert await alice.login()
    sid = alice._session_id
    assert sid
    qr = await api(http, device, sid, "SYNO.Core.OTP", "get_qrcode")
    secret = qr["data"]["secret"]
    saved = await api(http, device, sid, "SYNO.Core.OTP", "save",
                      code=pyotp.TOTP(secret).now())
    assert saved["success"], saved

    fresh = client(http, device, "alice", STRONG)
    with pytest.raises(SynologyDSMLogin2SARequiredException):
        await fresh.login()
    assert await fresh.login(pyotp.TOTP(secret).now())
    token = fresh.device_token
    assert token
    trusted = client(http, device, "alice", STRONG, device_token=token)
    assert await trusted.login()  # the device token skips the code
