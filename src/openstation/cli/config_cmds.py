"""`openstation config …`: settings by section, and Configuration Backup."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from openstation.cli.common import (
    DataDirOption,
    JsonOption,
    config_app,
    err,
    open_store,
    out,
    write_private,
)
from openstation.config.sections import Lifecycle
from openstation.datadir import DEFAULT_DATA_DIR, DataDir
from openstation.errors import BackupError, DeviceNotRunningError, UserInputError
from openstation.panel import control_client

# --- config -------------------------------------------------------------------------------


def _config(data_dir: Path, section: str, values: dict[str, str]) -> dict[str, Any]:
    """Read or change a section: through the running device, or the store when stopped."""
    data = DataDir(data_dir)
    try:
        answer = control_client.call(data.control_socket, "POST", "/config",
                                          {"section": section, "values": values})
    except DeviceNotRunningError:
        return _config_stopped(data, section, values)
    if "error" in answer:
        for key, why in (answer.get("problems") or {}).items():
            err.print(f"  {key}: {why}")
        raise UserInputError(str(answer["error"]))
    return dict(answer["values"])


def _config_stopped(data: DataDir, section: str, values: dict[str, str]) -> dict[str, Any]:
    from openstation import settings
    from openstation.errors import ValidationError
    from openstation.network.service import NetworkService
    from openstation.security.machine_key import MachineKey
    from openstation.security.service import SecurityService

    with open_store(data.root, writing=bool(values)) as store:
        if not values:
            return settings.read(store, section)
        network = NetworkService(store, MachineKey.load_or_create(data.machine_key))
        try:
            return settings.apply(store, network, SecurityService(store), section, values,
                                  "cli")
        except ValidationError as exc:
            for key, why in exc.problems.items():
                err.print(f"  {key}: {why}")
            raise


def _print_section(section: str, values: dict[str, Any], as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(values))
        return
    for key, value in values.items():
        out.print(f"{section}.{key} = {json.dumps(value)}")


@config_app.command("get")
def config_get(section: str, data_dir: DataDirOption = DEFAULT_DATA_DIR,
               as_json: JsonOption = False) -> None:
    """Show a section's settings."""
    _print_section(section, _config(data_dir, section, {}), as_json)


@config_app.command("set")
def config_set(section: str, assignments: Annotated[list[str], typer.Argument(
                   help="KEY=VALUE … (lists: comma-separated)")],
               data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False
               ) -> None:
    """Change a section's settings (validated like the Control Panel; all or nothing)."""
    values: dict[str, str] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key:
            raise UserInputError(f"not KEY=VALUE: {assignment!r}")
        values[key.strip()] = value
    _print_section(section, _config(data_dir, section, values), as_json)


# --- configuration backup ---------------------------------------------------------------


def _backup_call(data: DataDir, action: str, **fields: Any) -> dict[str, Any] | None:
    """Ask the running device; None when no device runs on this data directory."""
    try:
        answer = control_client.call(data.control_socket, "POST", "/backup",
                                          {"action": action, **fields})
    except DeviceNotRunningError:
        return None
    if "error" in answer:
        raise UserInputError(str(answer["error"]))
    return answer


@config_app.command("backup")
def config_backup(output: Annotated[Path, typer.Option("-o", "--output", help="The file.")],
                  data_dir: DataDirOption = DEFAULT_DATA_DIR,
                  passphrase: Annotated[str | None, typer.Option(
                      help="Encrypt the file (AES-256-GCM, scrypt).")] = None) -> None:
    """Write a Configuration Backup file of every section."""
    import base64

    data = DataDir(data_dir)
    answer = _backup_call(data, "backup", passphrase=passphrase)
    if answer is not None:
        body = base64.b64decode(answer["file"])
    else:
        from openstation.config.backup import seal
        from openstation.config.restore import export
        from openstation.security.machine_key import MachineKey

        with open_store(data.root) as store:
            content = export(store, MachineKey.load_or_create(data.machine_key),
                             with_secrets=bool(passphrase))
            body = seal(content, store.hardware.model_name, time.time(), passphrase)
    write_private(output, body)
    out.print(f"wrote {output} ({len(body)} bytes{', encrypted' if passphrase else ''})")


@config_app.command("restore")
def config_restore(file: Path, data_dir: DataDirOption = DEFAULT_DATA_DIR,
                   passphrase: Annotated[str | None, typer.Option(help="The file's.")] = None,
                   sections: Annotated[str | None, typer.Option(
                       help="Only these sections, comma-separated (default: all).")] = None,
                   yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
                   as_json: JsonOption = False) -> None:
    """Show what a backup would change, then restore it (all or chosen sections)."""
    import base64

    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise UserInputError(f"cannot read {file}: {exc.strerror}") from None
    chosen = [s.strip() for s in sections.split(",")] if sections else None
    data = DataDir(data_dir)
    fields = {"file": base64.b64encode(raw).decode(), "passphrase": passphrase,
              "sections": chosen}
    running = _backup_call(data, "preview", **fields)
    preview = running if running is not None else _restore_stopped(data, raw, passphrase,
                                                                    chosen, apply=False)
    if not (as_json and yes):
        out.print(f"Backup of a {preview['model']} made "
                  f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(preview['created']))}")
        for section, changes in preview["changes"].items():
            out.print(f"  {section}: {json.dumps(changes) if changes else 'no change'}")
    if not yes and not typer.confirm("Restore these sections?", default=False):
        raise typer.Exit(1)
    if running is not None:
        result = _backup_call(data, "restore", **fields)
        assert result is not None
    else:
        result = _restore_stopped(data, raw, passphrase, chosen, apply=True)
    if as_json:
        out.print_json(json.dumps(result))
    else:
        out.print("Restored. Every session was signed out.")


def _restore_stopped(data: DataDir, raw: bytes, passphrase: str | None,
                     sections: list[str] | None, apply: bool) -> dict[str, Any]:
    """Preview or restore on a stopped device (journaled like the device does it)."""
    from openstation.config import restore as restores
    from openstation.config.backup import open_backup
    from openstation.security.machine_key import MachineKey

    with open_store(data.root, writing=True) as store:
        if store.get(Lifecycle).state != "ready":
            raise BackupError("the device is not installed: install it first, then restore")
        header, content = open_backup(raw, passphrase)
        if header["model"] != store.hardware.model_name:
            raise BackupError(f"the backup is from a {header['model']}; this device is a "
                              f"{store.hardware.model_name}")
        if not apply:
            return {"model": header["model"], "created": header["created"],
                    "changes": restores.plan(store, content, sections)}
        restore_id = restores.new_restore_id()
        restores.write_journal(data.restore_journal, restore_id, content, sections, "cli")
        changes = restores.apply(store, content, sections,
                                 MachineKey.load_or_create(data.machine_key), "cli",
                                 restore_id)
        data.restore_journal.unlink()
        return {"changes": changes}


@config_app.command("backups")
def config_backups(data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """List the automatic daily snapshots on volume1 (newest first)."""
    from openstation.config.auto_backup import snapshots

    found = snapshots(DataDir(data_dir).volume)
    if not found:
        out.print("No automatic snapshot yet.")
    for path in found:
        out.print(f"{path}  {path.stat().st_size} bytes")
