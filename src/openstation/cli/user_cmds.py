"""`openstation user …`: Control Panel > User from the command line."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from openstation.accounts.service import AccountService, UserChanges
from openstation.cli.common import (
    DataDirOption,
    JsonOption,
    open_store,
    out,
    user_app,
)
from openstation.config.sections import User
from openstation.datadir import DEFAULT_DATA_DIR

# --- user ---------------------------------------------------------------------------------


PasswordOption = Annotated[str, typer.Option(prompt=True, hide_input=True,
                                             confirmation_prompt=True, help="The password.")]


@user_app.command("list")
def user_list(data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False) -> None:
    """List accounts with their status (Disabled / Normal) and administrators."""
    with open_store(data_dir) as store:
        users = store.records(User)
        admins = AccountService(store).administrators()
    rows: list[dict[str, Any]] = [
        {"name": u.name, "uid": u.uid, "status": "Disabled" if u.disabled else "Normal",
         "administrator": u.name in admins, "description": u.description,
         "email": u.email, "two_step": bool(u.otp_secret)} for u in users]
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
    with open_store(data_dir, writing=True) as store:
        asyncio.run(AccountService(store).create_user(
            name, password, actor="cli", administrator=admin, description=description,
            email=email))
    out.print(f"created {name}", highlight=False)


@user_app.command("set")
def user_set(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR,
             password: Annotated[str | None, typer.Option(help="A new password.")] = None,
             new_name: str | None = None, description: str | None = None,
             email: str | None = None) -> None:
    """Change an account: password, name, description, e-mail."""
    changes = UserChanges(new_name=new_name, password=password, description=description,
                          email=email)
    with open_store(data_dir, writing=True) as store:
        asyncio.run(AccountService(store).set_user(name, changes, actor="cli"))
    out.print(f"changed {name}", highlight=False)


@user_app.command("disable")
def user_disable(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Disable an account ("Disable this account"); its sessions end."""
    with open_store(data_dir, writing=True) as store:
        asyncio.run(AccountService(store).set_user(name, UserChanges(disabled=True), actor="cli"))
    out.print(f"disabled {name}", highlight=False)


@user_app.command("enable")
def user_enable(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Enable a disabled account."""
    with open_store(data_dir, writing=True) as store:
        asyncio.run(AccountService(store).set_user(name, UserChanges(disabled=False), actor="cli"))
    out.print(f"enabled {name}", highlight=False)


@user_app.command("delete")
def user_delete(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Delete an account (never a system account or the last enabled administrator)."""
    with open_store(data_dir, writing=True) as store:
        AccountService(store).delete_user(name, actor="cli")
    out.print(f"deleted {name}", highlight=False)
