"""The command line: run, install, status, panel, user, config, log, find, assistant, share,
files, ha, vmm, service, backup."""

from __future__ import annotations

import importlib
import sys
from typing import Any

from openstation.cli.common import app, err
from openstation.errors import OpenStationError

# The module that defines each top-level command. Typer introspects every command it
# builds (~1.5 ms each), so a call loads and builds only its own module's commands;
# --help, or anything unknown, loads them all.
MODULES = {"run": "device_cmds", "install": "device_cmds", "status": "device_cmds",
           "log": "device_cmds", "find": "find_cmds", "assistant": "find_cmds",
           "panel": "panel_cmds", "config": "config_cmds", "user": "user_cmds",
           "share": "share_cmds", "ha": "cluster_cmds", "vmm": "cluster_cmds",
           "files": "files_cmds", "service": "service_cmds", "backup": "backup_cmds"}

# What --help shows for a value of each kind (typer prints <str>, <float> …).
_KINDS = {"text": "TEXT", "str": "TEXT", "string": "TEXT", "integer": "INTEGER",
          "int": "INTEGER", "float": "NUMBER", "path": "PATH", "choice": "CHOICE"}


def _kind(param: Any) -> str:
    name = str(getattr(param.type, "name", "text")).lower()
    return _KINDS.get(name, name.upper())


def tidy_help(command: Any) -> None:
    """Help as people read it: a value shows its kind (TEXT, INTEGER …) where typer would
    print <str>, an argument its name in capitals, and an option that is asked for when
    left out is not "[required]"."""
    for param in getattr(command, "params", []):
        if param.param_type_name == "option" and not param.is_flag and param.metavar is None:
            param.metavar = _kind(param)
        elif param.param_type_name == "argument" and param.metavar is None:
            param.metavar = param.name.upper() + ("..." if param.nargs != 1 else "")
            kind, base = _kind(param), type(param.type)
            # The type column of an argument asks its type: answer with the kind.
            param.type.__class__ = type(f"Shown{base.__name__}", (base,), {
                "get_metavar": lambda _self, *_args, _kind=kind, **_kw: _kind})
        if getattr(param, "prompt", None):
            param.required = False
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)


__all__ = ["app", "load", "main"]


def load(argv: list[str]) -> None:
    """Import the command modules `argv` needs (all of them when in doubt)."""
    wanted = MODULES.get(argv[0]) if argv else None
    for module in [wanted] if wanted else sorted(set(MODULES.values())):
        importlib.import_module(f"openstation.cli.{module}")


def main() -> None:
    """Entry point: every expected error is one line on stderr and exit code 1."""
    import typer.main

    load(sys.argv[1:])
    command = typer.main.get_command(app)
    tidy_help(command)
    try:
        command(prog_name="openstation")
    except OpenStationError as exc:
        err.print(f"error: {exc}")
        sys.exit(1)
