"""Attack 5 and the files read in the code: 2-step secrets in clear, key separation, KDF
parameters taken from a file, an encrypted backup's plaintext digest, file modes."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
import time

import pyotp
import pytest

from openstation.config import backup as backup_file
from openstation.config.sections import User
from openstation.device import Device
from openstation.errors import BackupError, StoreError
from openstation.security import kdf
from openstation.security.machine_key import KEY_MANAGER, OTP, PPPOE
from tests.webapi.conftest import STRONG, Api

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def stored_rows(device: Device) -> bytes:
    """Every byte of the configuration database, as someone copying the file gets it."""
    path = device.data_dir.system / "config.db"
    with sqlite3.connect(path) as conn:
        return b"".join(str(row).encode() for row in conn.execute("SELECT * FROM records"))


async def test_2_step_secrets_are_sealed_at_rest_and_only_in_passphrase_backups(
        device: Device, api: Api) -> None:
    device.accounts.enrol_otp("alice", SECRET)
    assert SECRET.encode() not in stored_rows(device)
    alice = device.store.record(User, "alice")
    assert alice is not None and alice.otp_secret.startswith("mk2:")
    plain = await device.backups.backup(None)
    assert SECRET.encode() not in plain
    _, content = backup_file.open_backup(plain)
    assert all("otp_secret" not in u for u in content["collections"]["users"])
    sealed = await device.backups.backup("a long passphrase")
    _, inside = await asyncio.to_thread(backup_file.open_backup, sealed, "a long passphrase")
    assert [u["otp_secret_plain"] for u in inside["collections"]["users"]
            if u["name"] == "alice"] == [SECRET]
    # Restored from the passphrase backup, the secret works (sealed again); from the
    # plain one, the account has no 2-step secret left and must enrol again.
    await device.backups.restore(sealed, "a long passphrase", ["users"], "alice")
    alice = device.store.record(User, "alice")
    assert alice is not None and device.machine_key.open(alice.otp_secret, OTP) == SECRET
    await device.backups.restore(plain, None, ["users"], "alice")
    alice = device.store.record(User, "alice")
    assert alice is not None and alice.otp_secret == ""


async def test_each_purpose_has_its_own_key(device: Device) -> None:
    sealed = device.machine_key.seal("hunter2", PPPOE)
    assert device.machine_key.open(sealed, PPPOE) == "hunter2"
    for other in (KEY_MANAGER, OTP):
        with pytest.raises(StoreError):
            device.machine_key.open(sealed, other)


def test_kdf_parameters_from_a_file_are_bounded() -> None:
    for crafted in ({"n": 2**30, "r": 8, "p": 1}, {"n": 2**17, "r": 8, "p": 10**6},
                    {"n": 3 * 2**14, "r": 8, "p": 1}, {"n": "x"}, {}):
        with pytest.raises(ValueError):
            kdf.checked(crafted)
    assert kdf.NEW["n"] >= 2**17 and kdf.checked(kdf.NEW) == kdf.NEW


async def test_a_crafted_kdf_in_a_backup_is_refused_at_once(device: Device) -> None:
    document = json.loads(await device.backups.backup("a long passphrase"))
    assert "content_sha256" not in document  # no digest of the plaintext beside it
    document["kdf"]["n"] = 2**31
    started = time.monotonic()
    with pytest.raises(BackupError):
        await device.backups.preview(json.dumps(document).encode(), "a long passphrase", None)
    assert time.monotonic() - started < 5


async def test_the_database_and_the_volume_are_private(device: Device, api: Api) -> None:
    await api.sid()
    system = device.data_dir.system
    for name in ("config.db", "config.db-wal", "config.db-shm"):
        path = system / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert stat.S_IMODE(device.data_dir.volume.stat().st_mode) == 0o700


async def test_an_account_restored_without_its_2_step_secret_must_enrol_again(
        device: Device, api: Api) -> None:
    device.accounts.enrol_otp("alice", SECRET)
    plain = await device.backups.backup(None)
    await device.backups.restore(plain, None, ["users"], "alice")
    alice = device.store.record(User, "alice")
    assert alice is not None and alice.otp_secret == "" and alice.otp_reenrol
    signed_in = await api.login("alice", STRONG)
    assert signed_in["success"] and signed_in["data"]["must_enrol_otp"] is True
    sid = signed_in["data"]["sid"]
    refused = await api.call("SYNO.Core.User", "list", _sid=sid)
    assert refused["error"]["code"] == 406 and "again" in refused["error"]["errors"]["reason"]
    secret = (await api.call("SYNO.Core.OTP", "get_qrcode", _sid=sid))["data"]["secret"]
    code = pyotp.TOTP(secret).at(device.clock())
    assert (await api.call("SYNO.Core.OTP", "save", _sid=sid, code=code))["success"]
    assert (await api.call("SYNO.Core.User", "list", _sid=sid))["success"]
    alice = device.store.record(User, "alice")
    assert alice is not None and not alice.otp_reenrol and alice.otp_secret.startswith("mk2:")
