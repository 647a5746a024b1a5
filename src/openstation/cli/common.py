"""Shared pieces of the command line: the Typer apps, consoles, options and helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from openstation.datadir import DataDir
from openstation.errors import UserInputError
from openstation.panel import control_client

if TYPE_CHECKING:
    from openstation.config.store import ConfigStore

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


@contextmanager
def open_store(data_dir: Path, writing: bool = False) -> Iterator[ConfigStore]:
    """The device's configuration store, whether the device runs or not. `writing`: refused
    on the passive server of a High Availability pair (its next resync would undo it)."""
    from openstation.cluster import passive
    from openstation.config.sections import HACluster
    from openstation.config.store import ConfigStore
    from openstation.hardware import load_or_create

    data = DataDir(data_dir)
    if not data.hardware_file.exists() or not data.config_db.exists():
        raise UserInputError(f"{data_dir} holds no device (run `openstation run` first)")
    store = ConfigStore.open(data.config_db, load_or_create(data.hardware_file, None),
                             create=False)
    try:
        store.write_guard = passive.guard(lambda: passive.refusal(store.get(HACluster)))
        yield store
    finally:
        store.close()


def panel_call(data_dir: Path, method: str, path: str, payload: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    return control_client.call(DataDir(data_dir).control_socket, method, path, payload)


def write_private(output: Path, body: bytes) -> None:
    """Write a file only its owner can read (backups, key files), or say why not."""
    try:
        output.write_bytes(body)
        output.chmod(0o600)
    except OSError as exc:
        raise UserInputError(f"cannot write {output}: {exc.strerror}") from None
