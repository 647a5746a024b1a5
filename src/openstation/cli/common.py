"""Shared pieces of the command line: the Typer apps, consoles, options and helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from openstation.datadir import LOCK_WAIT, DataDir
from openstation.errors import (
    DeviceBusyError,
    DeviceNotRunningError,
    UserInputError,
    ValidationError,
)
from openstation.panel import control_client

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="openstation: a virtual Synology-style NAS (DSM 6.2).")
panel_app = typer.Typer(no_args_is_help=True, help="The hardware panel: LEDs, beeper, RESET.")
app.add_typer(panel_app, name="panel")
config_app = typer.Typer(no_args_is_help=True,
                         help="Settings by section (general, network, eth0, pppoe, ports, "
                              "firewall, autoblock, password_policy, login, …).")
app.add_typer(config_app, name="config")
user_app = typer.Typer(no_args_is_help=True,
                       help="Control Panel > User: accounts (running or stopped device).")
app.add_typer(user_app, name="user")

out = Console(soft_wrap=True, markup=False, highlight=False)
err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)

DataDirOption = Annotated[Path, typer.Option("--data-dir", help="The device's data directory.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def operate(data_dir: Path, name: str, /, **args: Any) -> Any:
    """Run operation `name` (operations.py): through the running device's control socket,
    or, when none runs, on the stopped device opened locally under its lock."""
    import time

    data = DataDir(data_dir)
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            answer = control_client.call(data.control_socket, "POST", "/op",
                                         {"op": name, "args": args})
        except DeviceNotRunningError:
            try:
                return _operate_locally(data_dir, name, args)
            except DeviceBusyError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)  # a device is starting (or stopping): ask it again
                continue
        if "error" in answer:
            for key, why in (answer.get("problems") or {}).items():
                err.print(f"  {key}: {why}")
            raise UserInputError(str(answer["error"]))
        return answer["result"]


def _operate_locally(data_dir: Path, name: str, args: dict[str, Any]) -> Any:
    import asyncio

    from openstation import local, operations

    with local.opened(data_dir, wait=0) as node:
        try:
            return asyncio.run(operations.run(node, name, args))
        except ValidationError as exc:
            for key, why in exc.problems.items():
                err.print(f"  {key}: {why}")
            raise


def panel_call(data_dir: Path, method: str, path: str, payload: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    return control_client.call(DataDir(data_dir).control_socket, method, path, payload)


def write_private(output: Path, body: bytes) -> None:
    """Write a file only its owner can read (backups, key files), or say why not."""
    import os

    try:  # made 0600 from the start: never readable by others, even for a moment
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out_file:
            os.fchmod(out_file.fileno(), 0o600)  # an existing file keeps its mode else
            out_file.write(body)
    except OSError as exc:
        raise UserInputError(f"cannot write {output}: {exc.strerror}") from None
