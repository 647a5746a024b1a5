"""`openstation service …`: Control Panel > File Services from the command line."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from openstation.cli.common import DataDirOption, JsonOption, app, operate, out
from openstation.datadir import DEFAULT_DATA_DIR

service_app = typer.Typer(no_args_is_help=True,
                          help="File services (SMB, SFTP, rsync, WebDAV): list, set.")
app.add_typer(service_app, name="service")


def _show(status: dict[str, Any], as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(status))
        return
    from rich.table import Table

    table = Table("service", "enabled", "port", "state", "why")
    for name, entry in status.items():
        table.add_row(name, "on" if entry["enabled"] else "off", str(entry.get("port") or ""),
                      str(entry.get("state", "")), str(entry.get("why", "")))
    out.print(table)


@service_app.command("list")
def service_list(data_dir: DataDirOption = DEFAULT_DATA_DIR,
                 as_json: JsonOption = False) -> None:
    """Each file service: on or off, its port, and whether it runs (or why not)."""
    _show(operate(data_dir, "service.list"), as_json)


@service_app.command("set")
def service_set(
    service: Annotated[str, typer.Argument(
        help="smb, sftp, rsync or webdav (SFTP and rsync share the SSH port).")],
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    on: Annotated[bool | None, typer.Option("--on/--off", help="Switch it on or off.")] = None,
    port: Annotated[int | None, typer.Option(help="Its port.")] = None,
    workgroup: Annotated[str | None, typer.Option(help="SMB's workgroup.")] = None,
    https_port: Annotated[int | None, typer.Option(help="WebDAV's HTTPS port.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Switch a file service on or off, or move it to another port."""
    _show(operate(data_dir, "service.set", service=service, enabled=on, port=port,
                  workgroup=workgroup, https_port=https_port), as_json)
