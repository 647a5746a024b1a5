"""The command line: run, install, status, panel, user, config, log, find, assistant, share,
ha, vmm."""

from __future__ import annotations

import sys

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

__all__ = ["app", "cluster_cmds", "config_cmds", "device_cmds", "find_cmds", "main",
           "panel_cmds", "share_cmds", "user_cmds"]


def main() -> None:
    """Entry point: every expected error is one line on stderr and exit code 1."""
    try:
        app()
    except OpenStationError as exc:
        err.print(f"error: {exc}")
        sys.exit(1)
