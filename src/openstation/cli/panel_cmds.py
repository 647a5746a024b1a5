"""`openstation panel …`: the front panel's LEDs, beeper and RESET button."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from openstation.cli.common import (
    DataDirOption,
    JsonOption,
    err,
    out,
    panel_app,
    panel_call,
)
from openstation.datadir import DEFAULT_DATA_DIR, DataDir
from openstation.errors import DeviceNotRunningError, UserInputError
from openstation.panel import control_client


def _button(data_dir: Path, action: str) -> None:
    answer = panel_call(data_dir, "POST", "/button", {"action": action})
    if "error" in answer:
        raise UserInputError(f"the button cannot be {action}ed: {answer['error']}")


@panel_app.command("press")
def panel_press(hold: Annotated[float, typer.Option(help="Seconds to hold RESET down.")],
                data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Press and hold the RESET button in real time (4 s: one beep; again: three)."""
    if not 0 < hold <= 120:
        raise UserInputError("--hold must be between 0 and 120 seconds")
    _button(data_dir, "press")
    try:
        time.sleep(hold)
    finally:
        _button(data_dir, "release")
    view = panel_call(data_dir, "GET", "/status")["button"]
    out.print(f"held {hold:g} s; button {view['state']}"
              + (f", reset window open {view['window_left']:.1f} s" if view["window_open"]
                 else ""), highlight=False)


@panel_app.command("reset")
def panel_reset(mode: Annotated[int, typer.Option(help="1: credentials and network; "
                                                  "2: reinstall.")],
                data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False
                ) -> None:
    """Do DSM's whole physical RESET sequence for Mode 1 or 2; print what it changed."""
    if mode not in (1, 2):
        raise UserInputError("--mode must be 1 or 2")
    before = panel_call(data_dir, "GET", "/status")["reset"]
    hold = 4.3  # the ~4 s hold, with margin
    err.print(f"holding RESET {hold} s … (one beep)")
    _button(data_dir, "press")
    time.sleep(hold)
    _button(data_dir, "release")
    if mode == 2:
        time.sleep(0.5)
        err.print(f"holding RESET again {hold} s … (three beeps)")
        _button(data_dir, "press")
        time.sleep(hold)
        _button(data_dir, "release")
    else:
        err.print("waiting for the 10 s window to pass …")
    last = _await_reset(DataDir(data_dir), before)
    if as_json:
        out.print_json(json.dumps(last))
        return
    out.print(f"Mode {last['mode']} reset done.", highlight=False)
    for item_id, text in zip(last["changes"], last["plan"], strict=False):
        changed = [f"{where} {_describe_changes(what)}"
                   for where, what in last["changes"][item_id].items()]
        out.print(f"  {text}: {'; '.join(changed) or 'already so'}", highlight=False)


def _describe_changes(changes: dict[str, Any]) -> str:
    """{"enabled": [true, false]} -> "enabled True -> False"."""
    return ", ".join(f"{key} {value[0]!r} -> {value[1]!r}" if isinstance(value, list) else key
                     for key, value in changes.items())


def _await_reset(data_dir: DataDir, before: dict[str, Any], timeout: float = 60
                 ) -> dict[str, Any]:
    """Poll the panel until a new reset is done (riding out a Mode 2 reboot)."""
    deadline = time.monotonic() + timeout
    old_id = (before.get("last") or {}).get("id")
    old_refusal = before.get("refused")
    while time.monotonic() < deadline:
        try:
            reset = control_client.call(data_dir.control_socket, "GET", "/status",
                                             timeout=5)["reset"]
        except DeviceNotRunningError:
            time.sleep(0.1)  # the control socket is rebuilt by a Mode 2 reboot
            continue
        if reset.get("refused") and reset["refused"] != old_refusal:
            raise UserInputError(f"reset refused: {reset['refused']['reason']}")
        last = reset.get("last")
        if last and last.get("id") != old_id and not reset.get("in_progress"):
            return dict(last)
        time.sleep(0.1)
    raise UserInputError("the reset did not complete within 60 s")


@panel_app.command("open")
def panel_open(data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Print the address of the front panel page (loopback only, with its token)."""
    data = DataDir(data_dir)
    facts = panel_call(data_dir, "GET", "/status")
    try:
        token = data.panel_token.read_text().strip()
    except OSError:
        raise UserInputError("the device has no front panel token yet") from None
    out.print(f"http://127.0.0.1:{facts['listening']['http']}/front#token={token}")


@panel_app.command("status")
def panel_status(data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False) -> None:
    """Show the STATUS and POWER LEDs and the beeps of the running device."""
    facts = control_client.call(DataDir(data_dir).control_socket, "GET", "/status")
    panel = facts.get("panel", {})
    if as_json:
        out.print_json(json.dumps({"status": facts.get("status"),
                                   "status_code": facts.get("status_code"), **panel}))
        return
    status_led, power_led = panel.get("status_led", {}), panel.get("power_led", {})
    out.print(f"status       {facts.get('status')}", highlight=False)
    out.print(f"STATUS LED   {status_led.get('color')} {status_led.get('mode')}", highlight=False)
    out.print(f"POWER LED    {power_led.get('color')} {power_led.get('mode')}", highlight=False)
    out.print(f"beeps        {panel.get('beep_total', 0)}", highlight=False)
    for beep in panel.get("beeps", [])[-5:]:
        out.print(f"  {beep['count']} x {beep['kind']}: {beep['reason']}", highlight=False)
