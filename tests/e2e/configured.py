"""A device configured in every way Mode 1 touches (and some ways it must not)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from openstation.accounts.service import AccountService
from openstation.config.sections import (
    AutoBlock,
    BlockEntry,
    Firewall,
    FirewallRule,
    General,
    Group,
    HACluster,
    Interface,
    KeyEntry,
    Lifecycle,
    Network,
    Ports,
    PPPoE,
    Right,
    Share,
    User,
    VMMCluster,
)
from openstation.config.store import ConfigStore
from openstation.hardware import load_or_create
from openstation.storage.service import StorageService
from openstation.storage.volume import ShareMetadata, write_share_metadata

BOB, CAROL = ("bob", "B0b!secret"), ("carol", "C4rol!pass")
EXPECTED_RULES = ["local", *(f"r{n}" for n in range(5))]


def open_store(data: Path, readonly: bool = False) -> ConfigStore:
    hardware = load_or_create(data / "hardware.json", None)
    db = data / "system" / "config.db"
    return ConfigStore.open_readonly(db, hardware) if readonly else ConfigStore.open(db, hardware)


def volume_digest(volume: Path) -> str:
    """SHA-256 over every path and byte below volume1 (metadata files included), except the
    device's own daily configuration snapshots, which a boot may add (never a reset)."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(volume):
        dirs[:] = sorted(d for d in dirs if d != "@config-backups")
        for name in sorted(files):
            path = Path(root) / name
            digest.update(str(path.relative_to(volume)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def configure_everything(data: Path, ports: tuple[int, int] = (5050, 5051)) -> None:
    """With the device stopped: set every item Mode 1 restores, plus what it must keep."""
    store = open_store(data)
    accounts = AccountService(store)
    asyncio.run(accounts.create_user(*BOB, actor="test", administrator=True))
    asyncio.run(accounts.create_user(*CAROL, actor="test"))
    storage = StorageService(store, data / "volume1")
    asyncio.run(storage.create_share("photos", actor="test"))
    (data / "volume1" / "photos" / "cat.jpg").write_bytes(os.urandom(300_000))
    (data / "volume1" / "photos" / "album").mkdir()
    (data / "volume1" / "photos" / "album" / "dog.jpg").write_bytes(os.urandom(50_000))
    vault = data / "volume1" / "@vault@"  # an encrypted share's ciphertext (gocryptfs's)
    vault.mkdir()
    write_share_metadata(vault, ShareMetadata("vault", "uuid-vault", True, 1.0))
    (vault / "c2VjcmV0LmJpbg").write_bytes(os.urandom(20_000))
    with store.transaction("test") as tx:
        share = tx.record(Share, "photos")
        assert share is not None
        carol, bob = tx.record(User, "carol"), tx.record(User, "bob")
        admins = tx.record(Group, "administrators")
        assert carol is not None and bob is not None and admins is not None
        share.permissions = {f"gid:{admins.gid}": Right.READ_WRITE,
                             f"uid:{carol.uid}": Right.READ_ONLY}
        tx.put_record(share)
        tx.put_record(Share(name="vault", uuid="uuid-vault", encrypted=True,
                            mount_on_startup=True,
                            permissions={f"uid:{bob.uid}": Right.READ_WRITE}))
        tx.put_record(KeyEntry(share="vault", protection="machine", wrapped_key="k1"))
        tx.put_record(KeyEntry(share="archive", protection="passphrase", wrapped_key="k2"))
        tx.put(Ports(*ports))
        tx.put(Network(default_gateway="192.168.1.1", dns=["192.168.1.1", "9.9.9.9"],
                       interfaces=[Interface("eth0", dhcp=False, address="192.168.1.10",
                                             netmask="255.255.255.0", gateway="192.168.1.1",
                                             mtu=9000),
                                   Interface("eth1", dhcp=False, address="10.0.0.10",
                                             netmask="255.0.0.0")]))
        tx.put(PPPoE(enabled=True, username="isp-user", password="enc:pw", mtu=1480))
        tx.put(Firewall(enabled=True, default_action="deny"))
        # Loopback (the tests' own address) is let in; the default denies everything else.
        tx.put_record(FirewallRule(rule_id="local", order=0, source="127.0.0.0/8"))
        for n, rule in enumerate(EXPECTED_RULES[1:], start=1):
            tx.put_record(FirewallRule(rule_id=rule, order=n, source=f"10.0.{n}.0/24",
                                       action="deny"))
        tx.put(AutoBlock(enabled=True, attempts=5, allow=["10.1.1.1"],
                         block=[BlockEntry("203.0.113.9")]))
        # Peers that are not there (nothing listens on port 9): the device's own side of the
        # clusters is what Mode 1 must remove; tests never send traffic off loopback.
        tx.put(HACluster(member=True, role="active", cluster_name="ha1", peer="127.0.0.1",
                         peer_port=9, quorum="127.0.0.1:9"))
        tx.put(VMMCluster(member=True, cluster_name="vmm1",
                          members=["http://127.0.0.1:9", "http://127.0.0.1:10"]))
        admin = tx.record(User, "admin")
        assert admin is not None
        admin.otp_secret = "JBSWY3DPEHPK3PXP"
        tx.put_record(admin)
    store.close()


@dataclass(frozen=True)
class Observed:
    """Everything the crash and reset tests compare."""

    ten_items: dict[str, Any]
    kept: dict[str, Any]

    @classmethod
    def read(cls, data: Path) -> Observed:
        store = open_store(data, readonly=True)
        try:
            admin = store.record(User, "admin")
            vault = store.record(Share, "vault")
            ten = {
                "admin": None if admin is None else [admin.disabled, bool(admin.password_hash),
                                                     admin.blank_password_until is not None,
                                                     bool(admin.otp_secret)],
                "ports": [store.get(Ports).http, store.get(Ports).https],
                "network": json.dumps(asdict(store.get(Network))),
                "pppoe": store.get(PPPoE).enabled,
                "autoblock": store.get(AutoBlock).enabled,
                "firewall": store.get(Firewall).enabled,
                "ha": store.get(HACluster).member,
                "vmm": store.get(VMMCluster).member,
                "vault_automount": vault.mount_on_startup if vault else None,
                "machine_key": store.record(KeyEntry, "vault") is not None,
            }
            kept = {
                "users": sorted(u.name for u in store.records(User)),
                "hashes": {u.name: u.password_hash for u in store.records(User)
                           if u.name != "admin"},
                "shares": {s.name: s.permissions for s in store.records(Share)},
                "rules": [r.rule_id for r in store.records(FirewallRule)],
                "autoblock_lists": [store.get(AutoBlock).allow,
                                    [b.address for b in store.get(AutoBlock).block]],
                "passphrase_key": store.record(KeyEntry, "archive") is not None,
                "server_name": store.get(General).server_name,
                "state": store.get(Lifecycle).state,
            }
        finally:
            store.close()
        return cls(ten, kept)


def is_mode1_done(observed: Observed) -> bool:
    """Every one of the ten items restored."""
    ten = observed.ten_items
    return (ten["admin"] == [False, False, True, False] and ten["ports"] == [5000, 5001]
            and '"dhcp": true' in ten["network"] and '"dhcp": false' not in ten["network"]
            and not ten["pppoe"] and not ten["autoblock"] and not ten["firewall"]
            and not ten["ha"] and not ten["vmm"] and ten["vault_automount"] is False
            and ten["machine_key"] is False)


def is_untouched(observed: Observed) -> bool:
    """None of the ten items restored."""
    ten = observed.ten_items
    return (ten["admin"] == [True, False, False, True] and ten["ports"] == [5050, 5051]
            and ten["pppoe"] and ten["autoblock"] and ten["firewall"] and ten["ha"]
            and ten["vmm"] and ten["vault_automount"] is True and ten["machine_key"] is True)
