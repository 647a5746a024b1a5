"""Export the configuration into a backup, show what a restore would change, restore it.

A restore is one SQLite transaction, preceded by a journal (outside the system partition)
that a boot replays if the power failed before the commit; it never touches volume1. Shares
are matched by name to those registered from the volume: their settings come back, their
data never moves; a share in the backup with no folder on the volume is reported, not
invented.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openstation.accounts.policy import name_problem
from openstation.config.codec import from_dict, to_dict
from openstation.config.sections import (
    AutoBlock,
    BackupKey,
    ConfigBackupSettings,
    FileServices,
    Firewall,
    FirewallRule,
    General,
    Group,
    HardwareSettings,
    KeyEntry,
    LoginSettings,
    LogReceiving,
    LogSending,
    Network,
    Notifications,
    PasswordPolicy,
    Ports,
    PowerSchedule,
    PPPoE,
    Record,
    ResourceMonitorSettings,
    Right,
    ScheduledTask,
    Section,
    Share,
    TaskOutput,
    UpgradeSettings,
    User,
    secret_fields,
)
from openstation.config.store import ConfigStore, Transaction, diff
from openstation.errors import BackupError, StoreError, ValidationError
from openstation.failpoints import failpoint
from openstation.files import write_atomic
from openstation.fileserv.service import problems_of
from openstation.lifecycle.install import server_name_problem
from openstation.monitor.service import settings_problems
from openstation.network.validate import network_problems, ports_problems
from openstation.notify.service import problems_of as notification_problems
from openstation.scheduler.service import (
    MAX_TASKS,
    output_problem,
    power_problems,
    task_problems,
)
from openstation.security.firewall import rule_problems
from openstation.security.machine_key import NOTIFY, OTP, PPPOE, MachineKey
from openstation.security.service import address_problem
from openstation.storage.paths import name_problem as path_name_problem
from openstation.storage.permissions import principal_problem
from openstation.storage.service import by_id, prune_rights, rights
from openstation.storage.volume import share_name_problem
from openstation.syslog.service import problems_of as log_sending_problems
from openstation.syslog.service import receiving_problems

# Cluster memberships are not in a backup: they name peers and certificates of the moment.
SECTIONS: dict[str, type[Section]] = {cls.section: cls for cls in (
    General, Ports, Network, PPPoE, Firewall, AutoBlock, PasswordPolicy, LoginSettings,
    ConfigBackupSettings, FileServices, HardwareSettings, UpgradeSettings, Notifications,
    LogSending, LogReceiving, TaskOutput, PowerSchedule, ResourceMonitorSettings)}
# Secrets sealed with the machine key: (field, purpose). Only a passphrase backup carries
# them, in clear inside its encryption ("<field>_plain"), to be sealed by the restoring key.
SEALED: dict[str, tuple[str, str]] = {"pppoe": ("password", PPPOE),
                                      "notifications": ("smtp_password", NOTIFY)}
COLLECTIONS: dict[str, type[Record]] = {cls.section: cls for cls in (
    User, Group, Share, KeyEntry, FirewallRule, BackupKey, ScheduledTask)}
RESTORE_ACTION = "restore"


def export(store: ConfigStore, machine_key: MachineKey, with_secrets: bool) -> dict[str, Any]:
    """Every section and collection; machine-key secrets only re-sealed by a passphrase."""
    sections = {name: to_dict(store.get(cls)) for name, cls in SECTIONS.items()}
    for name, (secret, purpose) in SEALED.items():
        sealed = sections[name].pop(secret)
        if with_secrets and sealed:
            # A secret sealed by another machine key (an older system partition) is lost.
            with contextlib.suppress(StoreError):
                sections[name][f"{secret}_plain"] = machine_key.open(sealed, purpose)

    collections = {name: [to_dict(r) for r in store.records(cls)]
                   for name, cls in COLLECTIONS.items()}
    collections["keys"] = [k for k in collections["keys"] if k["protection"] != "machine"]
    for user in collections["users"]:  # 2-step secrets: only inside a passphrase backup
        user.pop("smb_hash", None)  # sealed by this machine's key: kept only where it is
        sealed = user.pop("otp_secret")
        user["otp_enrolled"] = bool(sealed)  # so a restore without it asks to enrol again
        if with_secrets and sealed:
            with contextlib.suppress(StoreError):
                user["otp_secret_plain"] = (machine_key.open(sealed, OTP)
                                            if MachineKey.is_sealed(sealed) else sealed)
    return {"sections": sections, "collections": collections}


def chosen_names(requested: list[str] | None) -> list[str]:
    names = list(SECTIONS) + list(COLLECTIONS)
    if not requested:
        return names
    unknown = [n for n in requested if n not in names]
    if unknown:
        raise BackupError(f"unknown sections {', '.join(unknown)}; known: {', '.join(names)}")
    return [n for n in names if n in requested]


@dataclass
class Decoded:
    """A backup's chosen content, typed and checked; the secrets it carried in clear (a
    passphrase backup) apart, to be sealed by this machine key."""

    sections: dict[str, Section] = field(default_factory=dict)
    collections: dict[str, list[Record]] = field(default_factory=dict)
    plain: dict[str, str] = field(default_factory=dict)  # section → its sealed field, in clear
    otp_secrets: dict[str, str] = field(default_factory=dict)  # user name → secret


def _decode(content: dict[str, Any], names: list[str]) -> Decoded:
    """Typed sections from the content, checked like the Control Panel checks them."""
    decoded = Decoded()
    sections, collections = decoded.sections, decoded.collections
    try:
        for name in names:
            if name in SECTIONS and name in content["sections"]:
                raw = dict(content["sections"][name])
                if name in SEALED:
                    secret = SEALED[name][0]
                    if given := raw.pop(f"{secret}_plain", None):
                        if not isinstance(given, str):
                            raise BackupError(f"the backup is invalid: {name}.{secret}")
                        decoded.plain[name] = given
                    raw[secret] = ""
                sections[name] = from_dict(SECTIONS[name], raw, f"{name}.")
            elif name in COLLECTIONS and name in content["collections"]:
                items = [dict(item) for item in content["collections"][name]]
                if name == "users":
                    for item in items:
                        _take_otp_secret(item, decoded.otp_secrets)
                if name == ScheduledTask.section:  # a script from a file runs only once
                    for item in items:            # an administrator has read it again
                        if item.get("kind", "script") == "script":
                            item["enabled"] = False
                collections[name] = [from_dict(COLLECTIONS[name], item, f"{name}[{n}].")
                                     for n, item in enumerate(items)]
    except ValidationError as exc:
        raise BackupError(f"the backup is invalid: {exc}") from None
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise BackupError(f"the backup's {name} section is unreadable ({exc})") from None
    network = sections.get("network")
    if isinstance(network, Network):
        ids = [i.id for i in network.interfaces]
        problems = network_problems(network, ids)
        if problems:
            raise BackupError(f"the backup's network settings are invalid: {problems}")
    ports = sections.get("ports")
    if isinstance(ports, Ports) and ports_problems(ports.http, ports.https):
        raise BackupError("the backup's UI ports are invalid")
    if "users" in collections and not any(getattr(u, "name", "") == "admin"
                                          for u in collections["users"]):
        raise BackupError("the backup's users lack the system admin account")
    problems = {**section_problems(sections), **record_problems(collections)}
    if len(collections.get(ScheduledTask.section, [])) > MAX_TASKS:
        problems[ScheduledTask.section] = f"more than {MAX_TASKS} scheduled tasks"
    if problems:
        raise BackupError("the backup is invalid: " + "; ".join(
            f"{where}: {why}" for where, why in list(problems.items())[:10]))
    return decoded


def section_problems(sections: dict[str, Section]) -> dict[str, str]:
    """What the services would refuse in a backup's settings (network and ports are
    checked above): the server name, Auto Block's addresses."""
    problems: dict[str, str] = {}
    general = sections.get("general")
    if isinstance(general, General) and (why := server_name_problem(general.server_name)):
        problems["general.server_name"] = why
    services = sections.get("file_services")
    if isinstance(services, FileServices):
        ports = sections.get("ports")
        for key, why in problems_of(services, ports if isinstance(ports, Ports)
                                    else Ports()).items():
            problems[f"file_services.{key}"] = why
    autoblock = sections.get("autoblock")
    if isinstance(autoblock, AutoBlock):
        for address in [*autoblock.allow, *(entry.address for entry in autoblock.block)]:
            if (why := address_problem(address)) is not None:
                problems["autoblock"] = why
    notify, sending = sections.get("notifications"), sections.get("log_sending")
    if isinstance(notify, Notifications):
        problems |= {f"notifications.{k}": v for k, v in notification_problems(notify).items()}
    if isinstance(sending, LogSending):
        problems |= {f"log_sending.{k}": v for k, v in log_sending_problems(sending).items()}
    output = sections.get("task_output")
    if isinstance(output, TaskOutput) and output.path and \
            (why := output_problem(output.path, None)) is not None:
        problems["task_output.path"] = why
    monitor = sections.get("resource_monitor")
    if isinstance(monitor, ResourceMonitorSettings):
        problems |= {f"resource_monitor.{k}": v for k, v in settings_problems(monitor).items()}
    power = sections.get("power_schedule")
    if isinstance(power, PowerSchedule):
        problems |= {f"power_schedule.{k}": v for k, v in power_problems(power).items()}
    receiving = sections.get("log_receiving")
    if isinstance(receiving, LogReceiving):
        problems |= {f"log_receiving.{k}": v for k, v in receiving_problems(receiving).items()}
    return problems


def record_problems(collections: dict[str, list[Record]]) -> dict[str, str]:
    """What the services would refuse in a backup's records: names (a crafted name must
    not reach a page or a path), members, e-mail addresses, permission entries."""
    problems: dict[str, str] = {}
    for name, records in collections.items():
        for n, record in enumerate(records):
            where = f"{name}[{n}]"
            if isinstance(record, User | Group) and (why := name_problem(record.name)):
                problems[f"{where}.name"] = why
            if isinstance(record, Group):
                for member in record.members:
                    if (why := name_problem(member)) is not None:
                        problems[f"{where}.members"] = why
            if isinstance(record, User) and record.email and "@" not in record.email:
                problems[f"{where}.email"] = "is not an e-mail address"
            if isinstance(record, Share):
                if (why := share_name_problem(record.name)) is not None:
                    problems[f"{where}.name"] = why
                for principal in record.permissions:
                    who = principal.partition(":")[2]
                    if principal_problem(principal) or (not who.isdigit() and name_problem(who)):
                        problems[f"{where}.permissions"] = f"{principal!r} is not a principal"
            if isinstance(record, KeyEntry) and (why := share_name_problem(record.share)):
                problems[f"{where}.share"] = why
            if isinstance(record, BackupKey):
                if "\x00" in record.repository or len(record.repository) > 4096 \
                        or path_name_problem(record.task):
                    problems[f"{where}.repository"] = "is not a backup repository's name"
                if not _wrapped_key(record.header):
                    problems[f"{where}.header"] = "is not a wrapped password"
            if isinstance(record, ScheduledTask):
                # owners and shares may be restored apart: a run refuses what is gone
                for field_name, why in task_problems(record, None, None).items():
                    problems[f"{where}.{field_name}"] = why
            if isinstance(record, FirewallRule):
                for field_name, why in rule_problems(record).items():
                    problems[f"{where}.{field_name}"] = why
    return problems


def _wrapped_key(header: str) -> bool:
    """Whether `header` has the shape of a passphrase-wrapped secret (storage/crypto)."""
    try:
        parsed = json.loads(header)
    except ValueError:
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("kdf"), dict) and all(
        isinstance(parsed.get(k), str) for k in ("salt", "nonce", "wrapped"))


def _take_otp_secret(item: dict[str, Any], into: dict[str, str]) -> None:
    """Move a backed-up account's 2-step secret into `into` (a passphrase backup's, or
    an old backup's secret in clear); an account that had one the backup could not carry
    must enrol again."""
    had = bool(item.pop("otp_enrolled", False) or item.get("otp_secret"))
    plain = item.pop("otp_secret_plain", None) or item.get("otp_secret")
    if isinstance(plain, str) and plain and not MachineKey.is_sealed(plain):
        into[str(item.get("name", ""))] = plain
    item["otp_secret"] = ""
    item["otp_reenrol"] = had and str(item.get("name", "")) not in into


def plan(store: ConfigStore, content: dict[str, Any], requested: list[str] | None
         ) -> dict[str, Any]:
    """What a restore would change, per section (secrets redacted); changes nothing."""
    names = chosen_names(requested)
    decoded = _decode(content, names)
    sections, collections = decoded.sections, decoded.collections
    changes: dict[str, Any] = {}
    for name, section in sections.items():
        current = to_dict(store.get(SECTIONS[name]))
        wanted = to_dict(section)
        if name in SEALED:
            wanted[SEALED[name][0]] = current[SEALED[name][0]]
        changes[name] = diff(current, wanted, secret_fields(SECTIONS[name]))
    for name, records in collections.items():
        cls = COLLECTIONS[name]
        current = {r.key: to_dict(r) for r in store.records(cls)}
        wanted = {r.key: to_dict(r) for r in records}
        if name == "shares":
            missing = sorted(set(wanted) - set(current))
            wanted = {k: v for k, v in wanted.items() if k in current}
            entry: dict[str, Any] = {"changed": {k: diff(current[k], v, secret_fields(cls))
                                                 for k, v in wanted.items()
                                                 if diff(current[k], v, secret_fields(cls))}}
            if missing:
                entry["not_on_volume"] = missing
            changes[name] = entry
            continue
        if name == "keys":
            current = {k: v for k, v in current.items() if v["protection"] != "machine"}
        changes[name] = {
            "added": sorted(set(wanted) - set(current)),
            "removed": sorted(set(current) - set(wanted)),
            "changed": {k: diff(current[k], v, secret_fields(cls)) for k, v in wanted.items()
                        if k in current and diff(current[k], v, secret_fields(cls))},
        }
    return changes


def apply(store: ConfigStore, content: dict[str, Any], requested: list[str] | None,
          machine_key: MachineKey, actor: str, restore_id: str) -> dict[str, Any]:
    """Restore in one transaction; idempotent per `restore_id`."""
    for entry in store.audit_log(limit=50, section="system"):
        if entry.action == RESTORE_ACTION and entry.key == restore_id:
            done: dict[str, Any] = entry.detail.get("changes", {})
            return done
    report = plan(store, content, requested)
    decoded = _decode(content, chosen_names(requested))
    with store.transaction(actor, "restore") as tx:
        for name, section in decoded.sections.items():
            if name in SEALED:  # the backup's secret sealed here, or the one kept here
                secret, purpose = SEALED[name]
                setattr(section, secret, machine_key.seal(decoded.plain[name], purpose)
                        if name in decoded.plain
                        else getattr(tx.get(SECTIONS[name]), secret))
            tx.put(section)
        failpoint("restore-sections")
        for name, records in decoded.collections.items():
            cls = COLLECTIONS[name]
            current = {r.key: r for r in tx.records(cls)}
            if name == "shares":
                for record in records:
                    existing = current.get(record.key)
                    if isinstance(record, Share) and isinstance(existing, Share):
                        record.uuid, record.encrypted = existing.uuid, existing.encrypted
                        record.permissions = _by_id(tx, record.permissions)
                        tx.put_record(record)
                continue
            wanted = {r.key for r in records}
            for key, record in current.items():
                if key not in wanted and not (isinstance(record, KeyEntry)
                                              and record.protection == "machine"):
                    tx.delete_record(cls, key)
            for record in records:
                if isinstance(record, User) and record.name in decoded.otp_secrets:
                    record.otp_secret = machine_key.seal(decoded.otp_secrets[record.name], OTP)
                existing = current.get(record.key)
                if isinstance(record, User) and isinstance(existing, User) and \
                        existing.password_hash == record.password_hash:
                    record.smb_hash = existing.smb_hash  # the same password: SMB goes on
                tx.put_record(record)
        prune_rights(tx)  # an account the backup lacks takes its rights with it
        tx.audit(RESTORE_ACTION, "system", restore_id,
                 {"sections": chosen_names(requested), "changes": report})
    return report


def _by_id(tx: Transaction, permissions: dict[str, Right]) -> dict[str, Right]:
    """Rights keyed by id (a backup made before they were names them; an unknown name is
    dropped: its rights were for an account this configuration does not have)."""
    keyed, _ = by_id(tx, {key: str(level) for key, level in permissions.items()})
    return rights(keyed)


# --- the restore journal -----------------------------------------------------------------


def new_restore_id() -> str:
    return secrets.token_hex(8)


def write_journal(path: Path, restore_id: str, content: dict[str, Any],
                  requested: list[str] | None, actor: str) -> None:
    body = {"id": restore_id, "content": content, "sections": requested, "actor": actor}
    write_atomic(path, json.dumps(body).encode())


def read_journal(path: Path) -> dict[str, Any] | None:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise BackupError(f"the restore journal {path} is unreadable ({exc})") from None
