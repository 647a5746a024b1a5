"""The Mode 1 plan (pure): the ten items, and nothing else."""

from __future__ import annotations

import dataclasses

from openstation.config.sections import (
    AutoBlock,
    Firewall,
    Group,
    HACluster,
    Interface,
    KeyEntry,
    Network,
    Ports,
    PPPoE,
    Share,
    User,
    VMMCluster,
)
from openstation.hardware import Hardware
from openstation.lifecycle.reset import refusal
from openstation.lifecycle.reset_plan import MODE1_ITEMS, MODE2_ITEMS, Snapshot, mode1_edits
from openstation.lifecycle.status import Status

NOW = 1_000_000.0


def configured() -> Snapshot:
    return Snapshot(
        ports=Ports(5050, 5051),
        network=Network(default_gateway="10.0.0.1", dns=["10.0.0.1"],
                        interfaces=[Interface("eth0", dhcp=False, address="10.0.0.5",
                                              netmask="255.255.255.0")]),
        pppoe=PPPoE(enabled=True, username="isp", password="enc"),
        autoblock=AutoBlock(enabled=True, attempts=3, allow=["10.0.0.9"]),
        firewall=Firewall(enabled=True, default_action="deny"),
        ha=HACluster(member=True, cluster_name="ha"),
        vmm=VMMCluster(member=True, members=["a", "b"]),
        admin=User(name="admin", uid=1024, disabled=True, password_hash="h", otp_secret="s",
                   device_tokens=["t"], system=True),
        administrators=Group(name="administrators", gid=101, members=["alice"]),
        shares=[Share(name="vault", encrypted=True, mount_on_startup=True),
                Share(name="safe", encrypted=True, mount_on_startup=False)],
        keys=[KeyEntry(share="vault", protection="machine"),
              KeyEntry(share="safe", protection="passphrase")],
    )


def edits_by_item(hardware: Hardware) -> dict[str, list[object]]:
    edits = mode1_edits(configured(), lambda cls: cls.factory(hardware), NOW, 1800)
    grouped: dict[str, list[object]] = {}
    for edit in edits:
        grouped.setdefault(edit.item, []).append(edit.put or edit.delete)
    return grouped


def test_the_plan_names_the_seeds_ten_items_and_mode_2_adds_the_wipe() -> None:
    assert len(MODE1_ITEMS) == 10
    assert [i.id for i in MODE2_ITEMS] == [*(i.id for i in MODE1_ITEMS), "system_partition"]


def test_mode1_edits_restore_each_item(hardware: Hardware) -> None:
    edits = edits_by_item(hardware)
    assert set(edits) == {item.id for item in MODE1_ITEMS}
    admin, admins = edits["admin"]
    assert isinstance(admin, User) and isinstance(admins, Group)
    assert (admin.disabled, admin.password_hash, admin.otp_secret, admin.device_tokens) == (
        False, "", "", [])
    assert admin.blank_password_until == NOW + 1800
    assert admins.members == ["alice", "admin"]
    assert edits["ports"] == [Ports(5000, 5001)]
    assert edits["network"] == [Network.factory(hardware)]
    pppoe, = edits["pppoe"]
    assert isinstance(pppoe, PPPoE) and not pppoe.enabled and pppoe.username == "isp"
    autoblock, = edits["autoblock"]
    assert isinstance(autoblock, AutoBlock) and not autoblock.enabled
    assert autoblock.allow == ["10.0.0.9"]
    firewall, = edits["firewall"]
    assert isinstance(firewall, Firewall) and not firewall.enabled
    assert edits["ha_cluster"] == [HACluster()] and edits["vmm_cluster"] == [VMMCluster()]
    vault, = edits["encrypted_shares"]
    assert isinstance(vault, Share) and vault.name == "vault" and not vault.mount_on_startup
    assert edits["machine_keys"] == [(KeyEntry, "vault")]


def test_an_already_reset_configuration_needs_only_the_admin_refresh(hardware: Hardware
                                                                     ) -> None:
    snap = configured()
    factory = lambda cls: cls.factory(hardware)  # noqa: E731
    reset = dataclasses.replace(
        snap, ports=Ports(), network=Network.factory(hardware),
        pppoe=dataclasses.replace(snap.pppoe, enabled=False),
        autoblock=dataclasses.replace(snap.autoblock, enabled=False),
        firewall=dataclasses.replace(snap.firewall, enabled=False), ha=HACluster(),
        vmm=VMMCluster(), shares=[dataclasses.replace(s, mount_on_startup=False)
                                  for s in snap.shares],
        keys=[k for k in snap.keys if k.protection != "machine"],
        administrators=Group(name="administrators", members=["alice", "admin"]))
    edits = mode1_edits(reset, factory, NOW, 1800)
    assert [e.item for e in edits if e.put is None] == []
    assert not [e for e in edits if e.item in ("encrypted_shares", "machine_keys")]


def test_resets_are_refused_while_busy_or_with_nothing_to_reset() -> None:
    assert refusal(Status.READY, 1) is None and refusal(Status.READY, 2) is None
    assert refusal(Status.CONFIGURATION_LOST, 2) is None
    assert "Configuration lost" in (refusal(Status.CONFIGURATION_LOST, 1) or "")
    for busy in (Status.INSTALLING, Status.BOOTING, Status.STARTING_SERVICES):
        assert refusal(busy, 1) is not None and refusal(busy, 2) is not None
    assert "Not installed" in (refusal(Status.NOT_INSTALLED, 2) or "")


def test_mode1_leaves_hyper_backup_alone(hardware: Hardware) -> None:
    """Backup tasks, their results and the Vault role are not among the ten items."""
    edits = mode1_edits(configured(), lambda cls: cls.factory(hardware), NOW, 1800)
    touched = {edit.put.section if edit.put is not None else edit.delete[0].section
               for edit in edits if edit.put is not None or edit.delete is not None}
    assert touched.isdisjoint({"backup_tasks", "backup_state", "backup_vault"}), touched
