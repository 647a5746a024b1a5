"""The functional core imports no I/O: no sockets, event loop, database or wall clock."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

PURE = [
    "openstation.catalog",
    "openstation.config.codec",
    "openstation.config.sections",
    "openstation.lifecycle.status",
    "openstation.lifecycle.state",
    "openstation.accounts.policy",
    "openstation.panel.indicators",
    "openstation.panel.button",
    "openstation.lifecycle.reset_plan",
    "openstation.storage.permissions",
    "openstation.accounts.sessions",
    "openstation.accounts.failures",
    "openstation.cluster.ha_policy",
    "openstation.backup.plan",
]
FORBIDDEN = {"asyncio", "socket", "sqlite3", "time", "aiohttp", "selectors", "subprocess"}


def imported(module: str) -> set[str]:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_no_io(module: str) -> None:
    assert not imported(module) & FORBIDDEN
