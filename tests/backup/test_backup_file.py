"""Backup files: round trip, and every kind of bad file refused with nothing changed."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openstation.accounts.service import AccountService
from openstation.config import restore as restores
from openstation.config.backup import FORMAT, open_backup, seal
from openstation.config.sections import FileServices, Ports, PPPoE, User
from openstation.config.store import ConfigStore
from openstation.errors import BackupError
from openstation.security.machine_key import MachineKey

KEY = MachineKey(bytes(range(32)))


@pytest.fixture
def configured(store: ConfigStore) -> ConfigStore:
    AccountService(store).ensure_system_accounts()
    asyncio.run(AccountService(store).create_user("bob", "B0b!secret", actor="t",
                                                  administrator=True))
    with store.transaction("t") as tx:
        tx.put(Ports(5050, 5051))
        tx.put(PPPoE(enabled=True, username="isp", password=KEY.seal("pw-secret", "pppoe")))
    return store


def backup_of(store: ConfigStore, passphrase: str | None = None) -> bytes:
    content = restores.export(store, KEY, with_secrets=bool(passphrase))
    return seal(content, store.hardware.model_name, 1000.0, passphrase)


def test_a_plain_backup_has_everything_but_machine_key_secrets(configured: ConfigStore) -> None:
    raw = backup_of(configured)
    header, content = open_backup(raw)
    assert header["model"] == "DS918+" and header["format"] == FORMAT
    assert content["sections"]["ports"] == {"http": 5050, "https": 5051}
    assert "password" not in content["sections"]["pppoe"]
    assert b"pw-secret" not in raw
    users = {u["name"]: u for u in content["collections"]["users"]}
    assert users["bob"]["password_hash"].startswith("$argon2id$")


def test_an_encrypted_backup_carries_the_secret_and_needs_the_passphrase(
        configured: ConfigStore) -> None:
    raw = backup_of(configured, "correct horse")
    assert b"argon2id" not in raw and b"pw-secret" not in raw
    _, content = open_backup(raw, "correct horse")
    assert content["sections"]["pppoe"]["password_plain"] == "pw-secret"
    for wrong in (None, "", "wrong horse"):
        with pytest.raises(BackupError, match="passphrase"):
            open_backup(raw, wrong)


def test_a_restore_brings_back_users_settings_and_secrets(configured: ConfigStore) -> None:
    raw = backup_of(configured, "pass")
    with configured.transaction("t") as tx:
        tx.put(Ports())
        tx.put(PPPoE())
        tx.delete_record(User, "bob")
    _, content = open_backup(raw, "pass")
    preview = restores.plan(configured, content, None)
    assert preview["ports"] == {"http": [5000, 5050], "https": [5001, 5051]}
    assert preview["users"]["added"] == ["bob"]
    restores.apply(configured, content, None, KEY, "t", "r1")
    assert configured.get(Ports) == Ports(5050, 5051)
    assert KEY.open(configured.get(PPPoE).password, "pppoe") == "pw-secret"
    assert asyncio.run(AccountService(configured).check_login("bob", "B0b!secret")) is not None
    restores.apply(configured, content, None, KEY, "t", "r1")  # idempotent per id
    assert [e.key for e in configured.audit_log(section="system") if e.action == "restore"
            ] == ["r1"]


def test_chosen_sections_only(configured: ConfigStore) -> None:
    raw = backup_of(configured)
    with configured.transaction("t") as tx:
        tx.put(Ports())
        tx.delete_record(User, "bob")
    _, content = open_backup(raw)
    restores.apply(configured, content, ["ports"], KEY, "t", "r2")
    assert configured.get(Ports) == Ports(5050, 5051)
    assert configured.record(User, "bob") is None
    with pytest.raises(BackupError, match="unknown sections"):
        restores.plan(configured, content, ["nonsense"])


def snapshot(store: ConfigStore) -> str:
    return json.dumps(restores.export(store, KEY, with_secrets=True), sort_keys=True)


@pytest.mark.parametrize("mutate", [
    lambda raw: raw[: len(raw) // 2],  # truncated
    lambda raw: raw.replace(b'"format": 2', b'"format": 99'),  # from the future
    lambda raw: raw.replace(b'"http": 5050', b'"http": 5060'),  # edited: SHA-256 mismatch
    lambda raw: b"not json at all",
    lambda raw: json.dumps({"magic": "something else"}).encode(),
    lambda raw: raw.replace(b'"model": "DS918+"', b'"model": "DS918+", "x": 1').replace(
        b'"content_sha256": "', b'"content_sha256": "0'),
])
def test_bad_files_are_refused_and_change_nothing(configured: ConfigStore, mutate: object
                                                  ) -> None:
    raw = mutate(backup_of(configured))  # type: ignore[operator]
    before = snapshot(configured)
    with pytest.raises(BackupError):
        _, content = open_backup(raw)
        restores.apply(configured, content, None, KEY, "t", "bad")
    assert snapshot(configured) == before


@settings(max_examples=60)
@given(data=st.data())
def test_bit_flips_in_an_encrypted_backup_are_always_refused(data: st.DataObject) -> None:
    raw = bytearray(seal({"sections": {}, "collections": {}}, "DS918+", 1.0, "pw"))
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] ^= 1 << data.draw(st.integers(0, 7))
    try:
        open_backup(bytes(raw), "pw")
    except BackupError:
        return
    # A flip that leaves a valid file can only be in insignificant whitespace or JSON
    # formatting; the content must then be exactly what was sealed.
    _, content = open_backup(bytes(raw), "pw")
    assert content == {"sections": {}, "collections": {}}


def test_file_services_are_backed_up_and_nt_hashes_are_not(configured: ConfigStore) -> None:
    accounts = AccountService(configured, machine_key=KEY)
    asyncio.run(accounts.create_user("carol", "C4rol!pass", actor="t"))
    sealed = configured.record(User, "carol")
    assert sealed is not None and sealed.smb_hash and KEY.is_sealed(sealed.smb_hash)
    with configured.transaction("t") as tx:
        tx.put(FileServices(sftp_enabled=True, sftp_port=2222, workgroup="HOME"))
    raw = backup_of(configured, "pass")
    _, content = open_backup(raw, "pass")
    assert content["sections"]["file_services"]["sftp_port"] == 2222
    assert all("smb_hash" not in user for user in content["collections"]["users"])
    with configured.transaction("t") as tx:
        tx.put(FileServices())
    restores.apply(configured, content, None, KEY, "t", "r2")
    assert configured.get(FileServices).workgroup == "HOME"
    restored = configured.record(User, "carol")
    assert restored is not None and restored.smb_hash == sealed.smb_hash  # same password
    # A backup whose file services clash with its own UI ports is refused
    content["sections"]["file_services"]["sftp_port"] = content["sections"]["ports"]["http"]
    with pytest.raises(BackupError, match=r"file_services\.sftp_port"):
        restores.plan(configured, content, None)


def test_scheduled_tasks_come_back_with_scripts_switched_off(configured: ConfigStore) -> None:
    """A backup carries Task Scheduler and the power schedule; a restored script is off
    until an administrator switches it on; a crafted task is refused, whole."""
    from openstation.config.sections import PowerSchedule, PowerTime, ScheduledTask, TaskKind
    from openstation.scheduler.schedule import parse
    from openstation.scheduler.service import TaskService

    tasks = TaskService(configured)
    script = tasks.create("t", name="nightly", kind=TaskKind.SCRIPT, owner="bob",
                          schedule=parse({"hour": 2}), script="echo hi")
    beep = tasks.create("t", name="beep", kind=TaskKind.BEEP, owner="bob",
                        schedule=parse({"hour": 9}))
    tasks.set_power("t", [PowerTime(hour=7)], [])
    _, content = open_backup(backup_of(configured), None)
    with configured.transaction("t") as tx:
        tx.delete_record(ScheduledTask, script.task_id)
        tx.delete_record(ScheduledTask, beep.task_id)
        tx.put(PowerSchedule())
    restores.apply(configured, content, None, KEY, "t", "r3")
    assert tasks.task(script.task_id).script == "echo hi"
    assert tasks.task(script.task_id).enabled is False  # read it again, then switch it on
    assert tasks.task(beep.task_id).enabled is True
    assert configured.get(PowerSchedule).power_on[0].hour == 7

    for field, value in (("task_id", "../../volume1/share"), ("task_id", "x"),
                         ("schedule", {"date_type": 1, "date": "99999999999999999999/1/1",
                                       "repeat_date": 0}),
                         ("owner", "../x"), ("script", "")):
        crafted = json.loads(json.dumps(content))
        crafted["collections"]["scheduled_tasks"][0][field] = value
        with pytest.raises(BackupError):
            restores.plan(configured, crafted, None)
    crafted = json.loads(json.dumps(content))
    crafted["collections"]["scheduled_tasks"] *= 300
    with pytest.raises(BackupError, match="500"):
        restores.plan(configured, crafted, None)
