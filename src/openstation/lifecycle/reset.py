"""The reset engine's steps on the store and the disk (the shell around reset_plan).

The device drives the order (journal, Mode 1, wipe, reboot); the functions here are each
idempotent, so a reset interrupted anywhere is finished by running them again at boot.
"""

from __future__ import annotations

import secrets
from typing import Any

from openstation.config.sections import (
    AutoBlock,
    Firewall,
    Group,
    HACluster,
    KeyEntry,
    LoginSettings,
    Network,
    Ports,
    PPPoE,
    Record,
    Section,
    Share,
    User,
    VMMCluster,
)
from openstation.config.store import ConfigStore
from openstation.failpoints import failpoint
from openstation.lifecycle.journal import Journal
from openstation.lifecycle.reset_plan import MODE1_ITEMS, MODE2_ITEMS, Snapshot, mode1_edits
from openstation.lifecycle.status import Status

RESET_ACTION = "reset"


def refusal(status: Status, mode: int) -> str | None:
    """Why a reset of `mode` is refused in `status`, or None when it may go ahead (pure)."""
    if status in (Status.BOOTING, Status.STARTING_SERVICES, Status.INSTALLING,
                  Status.UPDATING):
        return f"the device is {status.label}; try again when it is Ready"
    if status is Status.NOT_INSTALLED:
        return "the device is Not installed: there is nothing to reset"
    if status is Status.CONFIGURATION_LOST and mode == 1:
        return "the device is in Configuration lost: reinstall it (Mode 1 has nothing to reset)"
    return None


def new_journal(mode: int, trigger: str, now: float) -> Journal:
    items = MODE2_ITEMS if mode == 2 else MODE1_ITEMS
    return Journal(id=secrets.token_hex(8), mode=mode, trigger=trigger, decided_at=now,
                   plan=[item.text for item in items])


def snapshot(store: ConfigStore) -> Snapshot:
    return Snapshot(
        ports=store.get(Ports), network=store.get(Network), pppoe=store.get(PPPoE),
        autoblock=store.get(AutoBlock), firewall=store.get(Firewall),
        ha=store.get(HACluster), vmm=store.get(VMMCluster),
        admin=store.record(User, "admin"), administrators=store.record(Group, "administrators"),
        shares=[s for s in store.records(Share) if s.encrypted],
        keys=store.records(KeyEntry),
    )


def already_applied(store: ConfigStore, journal: Journal) -> dict[str, Any] | None:
    """The report of this reset if its Mode 1 transaction committed before, else None."""
    for entry in store.audit_log(limit=20, section="system"):
        if entry.action == RESET_ACTION and entry.key == journal.id:
            report: dict[str, Any] = entry.detail.get("changes", {})
            return report
    return None


def apply_mode1(store: ConfigStore, journal: Journal) -> dict[str, Any]:
    """Restore the ten items in one transaction; returns what changed, per item."""
    done = already_applied(store, journal)
    if done is not None:
        return done
    window = store.get(LoginSettings).blank_admin_window_minutes * 60.0
    edits = mode1_edits(snapshot(store), lambda cls: cls.factory(store.hardware),
                        store.clock(), window)
    report: dict[str, Any] = {item.id: {} for item in MODE1_ITEMS}
    # Source "reset": a reset goes through on an HA passive too (the trigger is in the audit).
    with store.transaction("reset", "reset") as tx:
        for number, edit in enumerate(edits):
            if isinstance(edit.put, Section):
                changes = tx.put(edit.put)
                where = edit.put.section
            elif isinstance(edit.put, Record):
                changes = tx.put_record(edit.put)
                where = f"{edit.put.section}/{edit.put.key}"
            else:
                assert edit.delete is not None
                cls, key = edit.delete
                tx.delete_record(cls, key)
                changes, where = {"deleted": True}, f"{cls.section}/{key}"
            if changes:
                report[edit.item][where] = changes
            failpoint(f"mode1-edit-{number}")
        tx.audit(RESET_ACTION, "system", journal.id,
                 {"mode": journal.mode, "trigger": journal.trigger, "changes": report})
    return report


def record_mode2(store: ConfigStore, journal: Journal) -> None:
    """In the fresh database after the wipe: the audit entry of the Mode 2 reset."""
    if already_applied(store, journal) is not None:
        return
    with store.transaction("reset", "reset") as tx:
        tx.audit(RESET_ACTION, "system", journal.id,
                 {"mode": 2, "trigger": journal.trigger,
                  "changes": {**journal.report,
                              "system_partition": {"system/": ["kept", "wiped"]}}})

