"""`openstation config …`: settings by section, and Configuration Backup."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from openstation.cli.common import (
    DataDirOption,
    JsonOption,
    config_app,
    operate,
    out,
    write_private,
)
from openstation.datadir import DEFAULT_DATA_DIR, DataDir
from openstation.errors import UserInputError

# --- config -------------------------------------------------------------------------------


def _config(data_dir: Path, section: str, values: dict[str, str]) -> dict[str, Any]:
    """Read (no values) or change a section, on the running or the stopped device."""
    if values:
        return dict(operate(data_dir, "config.set", section=section, values=values))
    return dict(operate(data_dir, "config.get", section=section))


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


@config_app.command("backup")
def config_backup(output: Annotated[Path, typer.Option("-o", "--output", help="The file.")],
                  data_dir: DataDirOption = DEFAULT_DATA_DIR,
                  passphrase: Annotated[str | None, typer.Option(
                      help="Encrypt the file (AES-256-GCM, scrypt).")] = None) -> None:
    """Write a Configuration Backup file of every section."""
    body = base64.b64decode(operate(data_dir, "backup.export", passphrase=passphrase)["file"])
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
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise UserInputError(f"cannot read {file}: {exc.strerror}") from None
    chosen = [s.strip() for s in sections.split(",")] if sections else None
    fields = {"file": base64.b64encode(raw).decode(), "passphrase": passphrase,
              "sections": chosen}
    preview = operate(data_dir, "backup.preview", **fields)
    if not (as_json and yes):
        out.print(f"Backup of a {preview['model']} made "
                  f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(preview['created']))}")
        for section, changes in preview["changes"].items():
            out.print(f"  {section}: {json.dumps(changes) if changes else 'no change'}")
    if not yes and not typer.confirm("Restore these sections?", default=False):
        raise typer.Exit(1)
    result = operate(data_dir, "backup.restore", **fields)
    if as_json:
        out.print_json(json.dumps(result))
    else:
        out.print("Restored. Every session was signed out.")


@config_app.command("backups")
def config_backups(data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """List the automatic daily snapshots on volume1 (newest first)."""
    from openstation.config.auto_backup import snapshots

    found = snapshots(DataDir(data_dir).volume)
    if not found:
        out.print("No automatic snapshot yet.")
    for path in found:
        out.print(f"{path}  {path.stat().st_size} bytes")
