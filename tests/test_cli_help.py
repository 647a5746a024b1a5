"""--help reads as people expect: value kinds, no value for a flag, and an option that is
asked for when left out is not marked [required]."""

from __future__ import annotations

from openstation.testing import openstation


def test_help_shows_value_kinds_and_no_required_for_asked_options() -> None:
    shown = openstation("ha", "create", "--help", check=True).stdout
    assert "<str>" not in shown and "<bool>" not in shown and "<float>" not in shown
    lines = {line.split()[1] if line.split()[0] == "*" else line.split()[0]: line
             for line in (raw.strip("│ ") for raw in shown.splitlines())
             if line.startswith(("--", "* "))}
    assert "TEXT" in lines["--peer"] and "[required]" in lines["--peer"]
    assert "[required]" not in lines["--peer-password"]
    assert "asked if left out" in lines["--peer-password"]
    assert "NUMBER" in lines["--heartbeat"]
    assert lines["--json"].split()[1] == "Print"  # a flag takes no value
    user = openstation("user", "create", "--help", check=True).stdout
    assert "NAME" in user and "<str>" not in user
