"""`openstation user …`: Control Panel > User from the command line (running or stopped)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from openstation.cli.common import DataDirOption, JsonOption, operate, out, user_app
from openstation.datadir import DEFAULT_DATA_DIR

PasswordOption = Annotated[str, typer.Option(prompt=True, hide_input=True,
                                             confirmation_prompt=True, help="The password.")]


@user_app.command("list")
def user_list(data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False) -> None:
    """List accounts with their status (Disabled / Normal) and administrators."""
    rows: list[dict[str, Any]] = operate(data_dir, "user.list")
    if as_json:
        out.print_json(json.dumps(rows))
        return
    from rich.table import Table

    table = Table("name", "uid", "status", "administrator", "description", "email")
    for row in rows:
        table.add_row(str(row["name"]), str(row["uid"]), str(row["status"]),
                      "yes" if row["administrator"] else "", str(row["description"]),
                      str(row["email"]))
    out.print(table)


@user_app.command("create")
def user_create(name: str, password: PasswordOption,
                data_dir: DataDirOption = DEFAULT_DATA_DIR,
                admin: Annotated[bool, typer.Option("--admin", help="Add to administrators.")
                                 ] = False,
                description: str = "", email: str = "") -> None:
    """Create an account (its password must pass the strong-password policy)."""
    operate(data_dir, "user.create", name=name, password=password, admin=admin,
            description=description, email=email)
    out.print(f"created {name}", highlight=False)


@user_app.command("set")
def user_set(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR,
             password: Annotated[str | None, typer.Option(help="A new password.")] = None,
             new_name: str | None = None, description: str | None = None,
             email: str | None = None) -> None:
    """Change an account: password, name, description, e-mail."""
    operate(data_dir, "user.set", name=name, password=password, new_name=new_name,
            description=description, email=email)
    out.print(f"changed {name}", highlight=False)


@user_app.command("disable")
def user_disable(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Disable an account ("Disable this account"); its sessions end."""
    operate(data_dir, "user.set", name=name, disabled=True)
    out.print(f"disabled {name}", highlight=False)


@user_app.command("enable")
def user_enable(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Enable a disabled account."""
    operate(data_dir, "user.set", name=name, disabled=False)
    out.print(f"enabled {name}", highlight=False)


@user_app.command("delete")
def user_delete(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Delete an account (never a system account or the last enabled administrator)."""
    operate(data_dir, "user.delete", name=name)
    out.print(f"deleted {name}", highlight=False)
