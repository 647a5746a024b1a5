from __future__ import annotations

import pytest

from openstation.accounts.service import AccountService
from openstation.config.sections import General, Group, Lifecycle, Share, User
from openstation.config.store import ConfigStore
from openstation.datadir import DataDir
from openstation.device_facts import initial_state
from openstation.errors import ConflictError, ValidationError, WeakPasswordError
from openstation.hardware import Hardware
from openstation.lifecycle.install import Installer, InstallRequest, Progress
from openstation.lifecycle.state import DeviceState
from openstation.lifecycle.status import Status
from openstation.storage.service import StorageService
from tests.conftest import FakeClock
from tests.test_datadir import tree_digest

STRONG = "Str0ng!pass"


async def run_install(installer: Installer, request: InstallRequest) -> list[Progress]:
    return [step async for step in installer.install(request)]


def make_installer(store: ConfigStore, data_dir: DataDir) -> Installer:
    state = DeviceState(Status.from_persisted(store.get(Lifecycle).state))
    AccountService(store).ensure_system_accounts()
    return Installer(store, data_dir, state)


async def test_install_with_another_administrator_keeps_admin_disabled(
        store: ConfigStore, data_dir: DataDir) -> None:
    installer = make_installer(store, data_dir)
    steps = await run_install(installer, InstallRequest("nas1", "alice", STRONG))
    assert steps[-1].fraction == 1.0
    assert installer.state.status is Status.READY
    assert store.get(Lifecycle).state == "ready"
    assert store.get(General).server_name == "nas1"
    alice = store.record(User, "alice")
    assert alice is not None and not alice.disabled
    admin = store.record(User, "admin")
    assert admin is not None and admin.disabled and admin.uid == 1024
    assert "alice" in store.record(Group, "administrators").members  # type: ignore[union-attr]
    accounts = AccountService(store)
    assert (await accounts.check_login("alice", STRONG)) is not None
    assert (await accounts.check_login("alice", "wrong")) is None
    assert data_dir.volume_marker.exists()


async def test_install_as_admin_enables_admin(store: ConfigStore, data_dir: DataDir) -> None:
    installer = make_installer(store, data_dir)
    await run_install(installer, InstallRequest("nas1", "admin", STRONG))
    admin = store.record(User, "admin")
    assert admin is not None and not admin.disabled
    assert (await AccountService(store).check_login("admin", STRONG)) is not None


async def test_a_weak_password_names_each_rule_and_changes_nothing(
        store: ConfigStore, data_dir: DataDir) -> None:
    installer = make_installer(store, data_dir)
    audit = store.audit_log(limit=1000)
    with pytest.raises(WeakPasswordError) as caught:
        await run_install(installer, InstallRequest("nas1", "alice", "alice"))
    text = str(caught.value)
    for rule in ("8 characters", "upper and lower", "digit", "special", "user name"):
        assert rule in text
    assert store.audit_log(limit=1000) == audit
    assert installer.state.status is Status.NOT_INSTALLED
    assert not data_dir.volume_marker.exists()


async def test_every_bad_field_is_reported_together(store: ConfigStore, data_dir: DataDir
                                                    ) -> None:
    installer = make_installer(store, data_dir)
    with pytest.raises(ValidationError) as caught:
        await run_install(installer, InstallRequest("-bad name-", "a/b", "x"))
    assert set(caught.value.problems) == {"server_name", "admin_user", "password"}


async def test_installing_a_ready_device_is_refused(store: ConfigStore, data_dir: DataDir
                                                    ) -> None:
    installer = make_installer(store, data_dir)
    await run_install(installer, InstallRequest("nas1", "alice", STRONG))
    with pytest.raises(ConflictError, match="Ready"):
        await run_install(installer, InstallRequest("nas2", "bob", STRONG))
    assert store.get(General).server_name == "nas1"


async def test_reinstall_after_a_wipe_keeps_the_volume_and_re_registers_shares(
        data_dir: DataDir, hardware: Hardware, clock: FakeClock) -> None:
    store = ConfigStore.open(data_dir.config_db, hardware, clock=clock,
                             initial_state=initial_state(data_dir))
    installer = make_installer(store, data_dir)
    await run_install(installer, InstallRequest("nas1", "alice", STRONG))
    share = await StorageService(store, data_dir.volume).create_share("photos", actor="alice")
    (data_dir.volume / "photos" / "cat.jpg").write_bytes(b"\xff\xd8 a cat")
    (data_dir.volume / "stray-folder").mkdir()  # no metadata: not a share
    store.close()
    before = tree_digest(data_dir.volume)

    data_dir.wipe_system()
    store = ConfigStore.open(data_dir.config_db, hardware, clock=clock,
                             initial_state=initial_state(data_dir))
    installer = make_installer(store, data_dir)
    assert installer.state.status is Status.CONFIGURATION_LOST
    assert store.record(User, "alice") is None  # the system partition was wiped
    steps = await run_install(installer, InstallRequest("nas1", "bob", STRONG))

    assert installer.state.status is Status.READY
    assert any(step.detail == "photos" for step in steps)
    registered = store.record(Share, "photos")
    assert registered is not None and registered.uuid == share.uuid
    assert [s.name for s in store.records(Share)] == ["photos"]
    assert tree_digest(data_dir.volume) == before
    assert store.get(Lifecycle).installs == 1
    store.close()
