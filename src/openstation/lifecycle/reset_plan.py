"""What Mode 1 and Mode 2 change, as data (pure).

Mode 1 restores exactly the ten items of the seed's note 4 (DESIGN.md §4) and nothing else.
`mode1_edits` turns a snapshot of the configuration into the edits that do it; the engine
applies them in one transaction. Each item restores a section's *factory default* (or the
one field the seed names), so a plan is "these sections back to their defaults", never a
hand-written sequence of edits. Mode 2 is Mode 1 followed by wiping the system partition.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from openstation.config.sections import (
    AutoBlock,
    Firewall,
    Group,
    HACluster,
    KeyEntry,
    Network,
    Ports,
    PPPoE,
    Record,
    Section,
    Share,
    User,
    VMMCluster,
)

S = TypeVar("S", bound=Section)
Defaults = Callable[[type[Any]], Any]  # a section class -> its factory default


@dataclass(frozen=True)
class Item:
    """One line of the seed's list of what Mode 1 restores."""

    id: str
    text: str


MODE1_ITEMS: tuple[Item, ...] = (
    Item("admin", "The admin account is restored to default"),
    Item("ports", "UI management port is reset to 5000/5001"),
    Item("network", "IP, DNS, gateway, and other net interfaces are reset to DHCP"),
    Item("pppoe", "PPPoE is disabled"),
    Item("autoblock", "Auto Block is disabled"),
    Item("firewall", "Firewall rules are disabled"),
    Item("ha_cluster", "High-availability cluster is removed"),
    Item("vmm_cluster", "Virtual Machine Manager cluster is removed"),
    Item("encrypted_shares", "Encrypted folders are unmounted and the feature Mount "
                             "automatically on startup is disabled"),
    Item("machine_keys", "Machine-key ciphers are deleted from Key Manager"),
)
MODE2_ITEMS: tuple[Item, ...] = (
    *MODE1_ITEMS,
    Item("system_partition", "All system configurations are wiped (Configuration lost)"),
)


@dataclass(frozen=True)
class Snapshot:
    """The parts of the configuration Mode 1 may touch."""

    ports: Ports
    network: Network
    pppoe: PPPoE
    autoblock: AutoBlock
    firewall: Firewall
    ha: HACluster
    vmm: VMMCluster
    admin: User | None
    administrators: Group | None
    shares: list[Share]
    keys: list[KeyEntry]


@dataclass(frozen=True)
class Edit:
    """One change a reset makes: put a section or record, or delete a record."""

    item: str
    put: Section | Record | None = None
    delete: tuple[type[Record], str] | None = None


def default_admin(template: User | None, now: float, blank_window: float) -> User:
    """`admin` as Mode 1 leaves it: enabled, blank password (usable for `blank_window`
    seconds, only to set a new one), 2-step off, no trusted devices."""
    return User(name="admin", uid=template.uid if template else 1024,
                description="System default user", disabled=False, password_hash="",
                blank_password_until=now + blank_window, must_change_password=False,
                otp_secret="", device_tokens=[], system=True, password_changed=now)


def mode1_edits(snapshot: Snapshot, defaults: Defaults, now: float,
                blank_window: float) -> list[Edit]:
    """The edits that restore the ten items; nothing else in the configuration changes."""
    edits = [Edit("admin", put=default_admin(snapshot.admin, now, blank_window))]
    admins = snapshot.administrators
    if admins is not None and "admin" not in admins.members:
        edits.append(Edit("admin", put=dataclasses.replace(
            admins, members=[*admins.members, "admin"])))
    edits += [
        Edit("ports", put=defaults(Ports)),
        Edit("network", put=defaults(Network)),
        Edit("pppoe", put=dataclasses.replace(snapshot.pppoe, enabled=False)),
        Edit("autoblock", put=dataclasses.replace(snapshot.autoblock, enabled=False)),
        Edit("firewall", put=dataclasses.replace(snapshot.firewall, enabled=False)),
        Edit("ha_cluster", put=defaults(HACluster)),
        Edit("vmm_cluster", put=defaults(VMMCluster)),
    ]
    for share in snapshot.shares:
        if share.encrypted and share.mount_on_startup:
            edits.append(Edit("encrypted_shares",
                              put=dataclasses.replace(share, mount_on_startup=False)))
    for key in snapshot.keys:
        if key.protection == "machine":
            edits.append(Edit("machine_keys", delete=(KeyEntry, key.key)))
    return edits
