"""`openstation share …`: Control Panel > Shared Folder from the command line."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from openstation.cli.common import (
    DataDirOption,
    JsonOption,
    app,
    operate,
    out,
    write_private,
)
from openstation.datadir import DEFAULT_DATA_DIR
from openstation.errors import UserInputError

share_app = typer.Typer(no_args_is_help=True,
                        help="Shared folders: list, create, delete, mount, unmount, export-key.")
app.add_typer(share_app, name="share")

Passphrase = Annotated[str | None, typer.Option(help="The shared folder's passphrase.")]


def _share(data_dir: Path, action: str, **fields: Any) -> list[dict[str, Any]]:
    return list(operate(data_dir, f"share.{action}", **fields))


@share_app.command("list")
def share_list(data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False) -> None:
    """Shared folders, encrypted or not, mounted or not."""
    shares = _share(data_dir, "list")
    if as_json:
        out.print_json(json.dumps(shares))
        return
    if not shares:
        out.print("No shared folder.")
    for s in shares:
        state = ("encrypted, " + ("mounted" if s["is_mounted"] else "unmounted")) \
            if s["encryption"] else "plain"
        out.print(f"{s['name']:<20} {state}  {s['desc']}")


@share_app.command("create")
def share_create(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR,
                 encrypted: Annotated[bool, typer.Option("--encrypted")] = False,
                 passphrase: Passphrase = None, description: str = "") -> None:
    """Create a shared folder on volume1 (--encrypted needs --passphrase)."""
    _share(data_dir, "create", name=name, encrypted=encrypted, passphrase=passphrase,
           description=description)
    out.print(f"created {name}")


@share_app.command("delete")
def share_delete(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR,
                 yes: Annotated[bool, typer.Option(
                     "--yes", help="Confirm: ALL FILES of the share are deleted.")] = False
                 ) -> None:
    """Delete a shared folder and all of its files (asks to confirm)."""
    if not yes and not typer.confirm(f"Delete {name!r} and ALL its files?", default=False):
        raise typer.Exit(1)
    _share(data_dir, "delete", name=name, confirm=True)
    out.print(f"deleted {name} and its files")


@share_app.command("mount")
def share_mount(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR,
                passphrase: Passphrase = None,
                key_file: Annotated[Path | None, typer.Option(help="An exported key file.")
                                    ] = None) -> None:
    """Mount an encrypted shared folder with its passphrase or key file."""
    fields: dict[str, Any] = {"name": name, "passphrase": passphrase}
    if key_file is not None:
        try:
            fields["key_file"] = base64.b64encode(key_file.read_bytes()).decode()
        except OSError as exc:
            raise UserInputError(f"cannot read {key_file}: {exc.strerror}") from None
    _share(data_dir, "mount", **fields)
    out.print(f"mounted {name}")


@share_app.command("unmount")
def share_unmount(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Unmount an encrypted shared folder: its content is unreadable until mounted again."""
    _share(data_dir, "unmount", name=name)
    out.print(f"unmounted {name}")


@share_app.command("export-key")
def share_export_key(name: str, output: Annotated[Path, typer.Option("-o", "--output")],
                     passphrase: Annotated[str, typer.Option(prompt=True, hide_input=True)],
                     data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Write the share's key file (it mounts the share without the passphrase)."""
    answer = operate(data_dir, "share.export_key", name=name, passphrase=passphrase)
    body = base64.b64decode(answer["file"])
    write_private(output, body)
    out.print(f"wrote {output}")
