"""Key Manager entries under the machine key and under a key-store passphrase."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from openstation.accounts.service import AccountService
from openstation.config.sections import KeyEntry
from openstation.config.store import ConfigStore
from openstation.datadir import DataDir
from openstation.errors import ValidationError, WrongKeyError
from openstation.security.machine_key import MachineKey
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
