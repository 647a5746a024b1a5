"""Key Manager entries under the machine key and under a key-store passphrase."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from openstation.accounts.service import AccountService
from openstation.cluster.replication import crosses_encryption
from openstation.config.sections import KeyEntry
from openstation.config.store import ConfigStore
from openstation.datadir import DataDir
from openstation.errors import ValidationError, WrongKeyError
from openstation.security.machine_key import MachineKey
from openstation.storage import gocrypt
from openstation.storage.service import StorageService


@pytest.fixture
async def storage(store: ConfigStore, data_dir: DataDir) -> AsyncIterator[StorageService]:
    AccountService(store).ensure_system_accounts()
    service = StorageService(store, data_dir.volume, MachineKey(bytes(range(32))))
    await service.create_share("vault", actor="t", encrypted=True, passphrase="vault pass 1")
    yield service
    await service.close()  # gocryptfs unmounts


async def test_a_key_store_passphrase_entry_mounts_only_with_that_passphrase(
        storage: StorageService) -> None:
    with pytest.raises(ValidationError):
        await storage.key_manager_add("vault", actor="t", passphrase="vault pass 1",
                                protection="passphrase", keystore_passphrase="short")
    await storage.key_manager_add("vault", actor="t", passphrase="vault pass 1",
                            protection="passphrase", keystore_passphrase="key store pass")
    entry = storage.store.record(KeyEntry, "vault")
    assert entry is not None and entry.protection == "passphrase"
    await storage.unmount("vault")
    with pytest.raises(ValidationError):
        await storage.key_manager_mount("vault")
    with pytest.raises(WrongKeyError):
        await storage.key_manager_mount("vault", "wrong store pass")
    await storage.key_manager_mount("vault", "key store pass")
    assert "vault" in storage.mounts
    await storage.unmount("vault")
    storage.set_share("vault", actor="t", mount_on_startup=True)
    assert await storage.automount() == []  # only machine-key entries mount unattended


async def test_a_machine_key_entry_automounts(storage: StorageService) -> None:
    await storage.key_manager_add("vault", actor="t", passphrase="vault pass 1")
    storage.set_share("vault", actor="t", mount_on_startup=True)
    await storage.unmount("vault")
    assert await storage.automount() == ["vault"]
    with pytest.raises(WrongKeyError):
        await storage.key_manager_add("vault", actor="t", passphrase="not the pass")


async def test_changing_the_passphrase_keeps_the_data_key(storage: StorageService) -> None:
    before = await storage.data_key("vault", "vault pass 1")
    await storage.change_passphrase("vault", "vault pass 1", "new vault pass", "t")
    assert await storage.data_key("vault", "new vault pass") == before
    with pytest.raises(WrongKeyError):
        await storage.data_key("vault", "vault pass 1")


async def test_deleting_a_mounted_encrypted_share_removes_it_whole(
        storage: StorageService) -> None:
    point = storage.volume / "vault"
    (point / "a.txt").write_bytes(b"kept until the share is deleted")
    await storage.delete_share("vault", actor="t", confirm=True)
    assert "vault" not in storage.mounts and not point.exists()
    assert not (storage.volume / "@vault@").exists()


async def test_a_gocryptfs_that_dies_leaves_the_share_unmounted(
        storage: StorageService) -> None:
    told: list[bool] = []

    async def follow() -> None:
        told.append(True)

    storage.mounts_changed.append(follow)
    point = storage.volume / "vault"
    (point / "a.txt").write_bytes(b"alpha")
    mount = storage.mounts._mounts["vault"]
    os.kill(mount.process.pid, signal.SIGKILL)  # a dead FUSE server: ENOTCONN
    for _ in range(200):
        if "vault" not in storage.mounts:
            break
        await asyncio.sleep(0.05)
    assert "vault" not in storage.mounts and told and not point.exists()
    await storage.mount("vault", passphrase="vault pass 1")
    assert (point / "a.txt").read_bytes() == b"alpha"


def test_mount_points_are_found_by_any_spelling_of_their_path() -> None:
    relative = os.path.relpath("/proc")
    assert gocrypt._mounted(Path(relative)) and gocrypt._mounted(Path("/proc"))
    assert not gocrypt._mounted(Path("/proc/self"))
    assert gocrypt._unescaped(b"/v/a\\040b") == b"/v/a b"


def test_a_move_into_or_out_of_an_encrypted_share_is_not_a_rename() -> None:
    assert crosses_encryption("docs/a.txt", "@vault@/Xy")
    assert crosses_encryption("@vault@/Xy", "docs/a.txt")
    assert not crosses_encryption("docs/a.txt", "docs/b.txt")
    assert not crosses_encryption("@vault@/Xy", "@vault@/Zz")
