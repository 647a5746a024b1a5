"""The command line: run, install, status, panel, user, config, log, find, assistant, share,
ha, vmm."""

from __future__ import annotations

import sys
from typing import Any

from openstation.cli import (
    cluster_cmds,
    config_cmds,
    device_cmds,
    find_cmds,
    panel_cmds,
    share_cmds,
    user_cmds,
)
from openstation.cli.common import app, err
from openstation.errors import OpenStationError

# What --help shows for a value of each type: typer 0.29 prints <str>, <bool> …, and a
# value even for flags.
_METAVARS = {"<str>": "TEXT", "<int>": "INTEGER", "<float>": "NUMBER", "<path>": "PATH",
             "<list[str]>": "TEXT...", "<list[path]>": "PATH..."}


def _value_kind(param: Any, ctx: Any) -> str | None:
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    if param.metavar is not None and param.param_type_name != "argument":
        return str(param.metavar)
    shown = str(param.display_type(ctx))
    return _METAVARS.get(shown, shown.strip("<>").upper())


def tidy_help(command: Any) -> None:
    """Help as people read it: a flag shows no value, a value shows its kind (TEXT,
    INTEGER …), an argument its name, and an option that is asked for when left out is not
    "[required]"."""
    import typer.core

    for cls in (typer.core.TyperOption, typer.core.TyperArgument):
        cls.display_type_rich = _value_kind  # type: ignore[method-assign,assignment]
    _not_required_when_asked(command)


def _not_required_when_asked(command: Any) -> None:
    for param in getattr(command, "params", []):
        if param.param_type_name == "argument" and param.metavar is None:
            param.metavar = param.name.upper()
        if getattr(param, "prompt", None):
            param.required = False
    for sub in getattr(command, "commands", {}).values():
        _not_required_when_asked(sub)


__all__ = ["app", "cluster_cmds", "config_cmds", "device_cmds", "find_cmds", "main",
           "panel_cmds", "share_cmds", "user_cmds"]


def main() -> None:
    """Entry point: every expected error is one line on stderr and exit code 1."""
    import typer.main

    command = typer.main.get_command(app)
    tidy_help(command)
    try:
        command(prog_name="openstation")
    except OpenStationError as exc:
        err.print(f"error: {exc}")
        sys.exit(1)
