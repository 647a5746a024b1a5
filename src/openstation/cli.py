"""The command line: run, install, status, panel."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from openstation.accounts.service import AccountService, UserChanges
from openstation.config.sections import Lifecycle, User
from openstation.config.store import ConfigStore
from openstation.datadir import DEFAULT_DATA_DIR, DataDir
from openstation.device import Device, RunOptions, describe, initial_state
from openstation.errors import DeviceNotRunningError, OpenStationError, UserInputError
from openstation.hardware import load_or_create
from openstation.lifecycle.status import Status
from openstation.panel import control
from openstation.remote import install_stream

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


def main() -> None:
    """Entry point: every expected error is one line on stderr and exit code 1."""
    try:
        app()
    except OpenStationError as exc:
        err.print(f"error: {exc}")
        sys.exit(1)


@app.command()
def run(
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    model: Annotated[str | None, typer.Option(help="Model at first boot, e.g. DS918+.")] = None,
    host: Annotated[list[str] | None, typer.Option(
        help="Address to serve (repeatable). Default 127.0.0.1: not exposed to the LAN.")] = None,
    http_port: Annotated[int | None, typer.Option(
        help="HTTP port (default: the configured UI port, 5000; 0 picks a free one).")] = None,
    https_port: Annotated[int | None, typer.Option(
        help="HTTPS port (default: the configured UI port, 5001).")] = None,
    findhost_port: Annotated[int, typer.Option(help="Synology Assistant UDP port.")] = 9999,
    ssdp_port: Annotated[int, typer.Option(help="SSDP UDP port.")] = 1900,
    no_mdns: Annotated[bool, typer.Option("--no-mdns", help="Do not announce on mDNS.")] = False,
) -> None:
    """Boot one device and serve it until Ctrl-C / SIGTERM."""
    for port in (http_port, https_port, findhost_port, ssdp_port):
        if port is not None and not 0 <= port <= 65535:
            raise UserInputError(f"port {port} is out of range (0-65535)")
    options = RunOptions(data_dir=data_dir, model=model, hosts=host or ["127.0.0.1"],
                         http_port=http_port, https_port=https_port,
                         findhost_port=findhost_port, ssdp_port=ssdp_port,
                         mdns=not no_mdns)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(options))


async def _serve(options: RunOptions) -> None:
    device = Device(options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await device.start()
    facts = device.snapshot()
    out.print(f"openstation {facts['model']} '{facts['server_name']}' is "
              f"{facts['status']} (serial {facts['serial']}, MAC {facts['mac']})",
              highlight=False)
    for url in device.urls():
        out.print(f"  {url}", highlight=False)
    out.print(f"  data directory: {options.data_dir}", highlight=False)
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await device.stop()
    out.print("stopped")


@app.command()
def install(
    url: Annotated[str, typer.Option(help="The device, e.g. http://127.0.0.1:5000")],
    server_name: Annotated[str, typer.Option(help="Server name, e.g. DiskStation.")],
    admin_user: Annotated[str, typer.Option(help="The administrator to create.")],
    password: Annotated[str, typer.Option(
        prompt=True, hide_input=True, confirmation_prompt=True,
        help="The administrator's password (prompted when omitted).")],
    restore_latest: Annotated[bool, typer.Option(
        "--restore-latest", help="Then restore the newest automatic configuration snapshot "
        "found on volume1.")] = False,
) -> None:
    """Install (or reinstall) DSM on a device that is Not installed or Configuration lost."""
    fields = {"server_name": server_name, "admin_user": admin_user, "password": password}
    if restore_latest:
        fields["restore"] = "latest"
    final = asyncio.run(_install(url, fields))
    if not final.get("success"):
        error = final.get("error", {})
        problems = error.get("problems") or {}
        for key, why in problems.items():
            err.print(f"  {key}: {why}", highlight=False)
        raise UserInputError(f"install refused: {error.get('message', 'unknown reason')}")
    out.print(f"Installed. Sign in at {url} as {admin_user}.", highlight=False)


async def _install(url: str, fields: dict[str, str]) -> dict[str, Any]:
    from rich.progress import BarColumn, Progress, TextColumn  # kept out of `run`'s memory

    final: dict[str, Any] = {}
    with Progress(TextColumn("{task.description:<36}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), console=out,
                  transient=False) as progress:
        task = progress.add_task("Installing", total=1.0)
        async for line in install_stream(url, fields):
            if line.get("done"):
                final = line
                break
            progress.update(task, completed=float(line.get("progress", 0)),
                            description=str(line.get("step", "")))
    return final


@app.command()
def status(data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False) -> None:
    """Show status, model, serial, MAC, server name, version and ports."""
    facts = _status_facts(DataDir(data_dir))
    if as_json:
        out.print_json(json.dumps(facts))
        return
    from rich.table import Table

    table = Table(show_header=False, box=None)
    for key in ("status", "status_code", "running", "model", "serial", "mac", "server_name",
                "version", "http_port", "https_port"):
        table.add_row(key.replace("_", " "), str(facts[key]))
    if facts.get("listening"):
        table.add_row("listening", ", ".join(f"{k} {v}" for k, v in facts["listening"].items()))
    out.print(table)


def _status_facts(data_dir: DataDir) -> dict[str, Any]:
    try:
        facts = asyncio.run(control.call(data_dir.control_socket, "GET", "/status"))
        facts.pop("panel", None)
        return facts
    except DeviceNotRunningError:
        pass
    if not data_dir.hardware_file.exists():
        raise UserInputError(f"{data_dir.root} holds no device (run `openstation run` first)")
    hardware = load_or_create(data_dir.hardware_file, None)
    if data_dir.config_db.exists():
        store = ConfigStore.open_readonly(data_dir.config_db, hardware)
        try:
            facts = describe(hardware, store, Status.from_persisted(_lifecycle_state(store)))
        finally:
            store.close()
    else:
        facts = describe(hardware, None, Status.from_persisted(initial_state(data_dir)))
    facts["running"] = False
    return facts


def _lifecycle_state(store: ConfigStore) -> str:
    return store.get(Lifecycle).state


def _panel(data_dir: Path, method: str, path: str, payload: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    return asyncio.run(control.call(DataDir(data_dir).control_socket, method, path, payload))


def _button(data_dir: Path, action: str) -> None:
    answer = _panel(data_dir, "POST", "/button", {"action": action})
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
    view = _panel(data_dir, "GET", "/status")["button"]
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
    before = _panel(data_dir, "GET", "/status")["reset"]
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
            reset = asyncio.run(control.call(data_dir.control_socket, "GET", "/status",
                                             timeout=5))["reset"]
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
    facts = _panel(data_dir, "GET", "/status")
    try:
        token = data.panel_token.read_text().strip()
    except OSError:
        raise UserInputError("the device has no front panel token yet") from None
    out.print(f"http://127.0.0.1:{facts['listening']['http']}/front#token={token}")


@panel_app.command("status")
def panel_status(data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False) -> None:
    """Show the STATUS and POWER LEDs and the beeps of the running device."""
    facts = asyncio.run(control.call(DataDir(data_dir).control_socket, "GET", "/status"))
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


# --- user ---------------------------------------------------------------------------------


@contextmanager
def _store(data_dir: Path) -> Iterator[ConfigStore]:
    """The device's configuration store, whether the device runs or not."""
    data = DataDir(data_dir)
    if not data.hardware_file.exists() or not data.config_db.exists():
        raise UserInputError(f"{data_dir} holds no device (run `openstation run` first)")
    store = ConfigStore.open(data.config_db, load_or_create(data.hardware_file, None),
                             create=False)
    try:
        yield store
    finally:
        store.close()


PasswordOption = Annotated[str, typer.Option(prompt=True, hide_input=True,
                                             confirmation_prompt=True, help="The password.")]


@user_app.command("list")
def user_list(data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False) -> None:
    """List accounts with their status (Disabled / Normal) and administrators."""
    with _store(data_dir) as store:
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
    with _store(data_dir) as store:
        AccountService(store).create_user(name, password, actor="cli", administrator=admin,
                                          description=description, email=email)
    out.print(f"created {name}", highlight=False)


@user_app.command("set")
def user_set(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR,
             password: Annotated[str | None, typer.Option(help="A new password.")] = None,
             new_name: str | None = None, description: str | None = None,
             email: str | None = None) -> None:
    """Change an account: password, name, description, e-mail."""
    changes = UserChanges(new_name=new_name, password=password, description=description,
                          email=email)
    with _store(data_dir) as store:
        AccountService(store).set_user(name, changes, actor="cli")
    out.print(f"changed {name}", highlight=False)


@user_app.command("disable")
def user_disable(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Disable an account ("Disable this account"); its sessions end."""
    with _store(data_dir) as store:
        AccountService(store).set_user(name, UserChanges(disabled=True), actor="cli")
    out.print(f"disabled {name}", highlight=False)


@user_app.command("enable")
def user_enable(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Enable a disabled account."""
    with _store(data_dir) as store:
        AccountService(store).set_user(name, UserChanges(disabled=False), actor="cli")
    out.print(f"enabled {name}", highlight=False)


@user_app.command("delete")
def user_delete(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Delete an account (never a system account or the last enabled administrator)."""
    with _store(data_dir) as store:
        AccountService(store).delete_user(name, actor="cli")
    out.print(f"deleted {name}", highlight=False)


# --- log ----------------------------------------------------------------------------------


@app.command("log")
def show_log(data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
             limit: int = 50, section: str | None = None,
             resets: Annotated[bool, typer.Option("--resets", help="Only resets.")] = False
             ) -> None:
    """The audit log (Log Center): who changed what, and every reset."""
    data = DataDir(data_dir)
    if not data.config_db.exists():
        raise UserInputError(f"{data_dir} holds no configuration database")
    store = ConfigStore.open_readonly(data.config_db, load_or_create(data.hardware_file, None))
    try:
        entries = store.audit_log(limit=limit, section="system" if resets else section)
    finally:
        store.close()
    if resets:
        entries = [e for e in entries if e.action == "reset"]
    rows: list[dict[str, Any]] = [{"id": e.id, "at": e.at, "actor": e.actor, "source": e.source,
             "action": e.action, "section": e.section, "key": e.key, "detail": e.detail}
            for e in entries]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    from datetime import datetime

    for row in reversed(rows):
        when = datetime.fromtimestamp(row["at"]).strftime("%Y-%m-%d %H:%M:%S")
        target = row["section"] + (f"/{row['key']}" if row["key"] else "")
        out.print(f"{when}  {row['actor']:<10} {row['action']:<7} {target}  "
                  f"{json.dumps(row['detail'])}", highlight=False, soft_wrap=True)


# --- find and assistant ---------------------------------------------------------------


@app.command("find")
def find_devices(
    timeout: Annotated[float, typer.Option(help="Seconds to listen for answers.")] = 3.0,
    as_json: JsonOption = False,
    interface: Annotated[str | None, typer.Option(help="Search on this interface only.")
                         ] = None,
    target: Annotated[str | None, typer.Option(
        help="HOST[:PORT]: ask one device by unicast instead of broadcasting.")] = None,
    no_mdns: Annotated[bool, typer.Option("--no-mdns", help="Do not browse mDNS.")] = False,
) -> None:
    """Find Synology and openstation devices (Synology Assistant's findhost, and mDNS)."""
    from openstation.discovery.finder import find

    if not 0 < timeout <= 60:
        raise UserInputError("--timeout must be between 0 and 60 seconds")
    found = asyncio.run(find(timeout, interface=interface, target=target, mdns=not no_mdns))
    if as_json:
        out.print_json(json.dumps([f.to_json() for f in found]))
        return
    if not found:
        out.print("No device found.")
        return
    from rich.table import Table

    table = Table("Server name", "IP address", "MAC address", "Model", "DSM version", "Status")
    for f in found:
        table.add_row(f.name, f.ip, f.mac, f.model, f.version, f.status)
    out.print(table)


@app.command("assistant")
def web_assistant(
    port: Annotated[int, typer.Option(help="Local port of the Web Assistant page.")] = 8080,
    target: Annotated[list[str] | None, typer.Option(
        help="HOST[:PORT] to ask by unicast (repeatable) instead of broadcasting.")] = None,
    interface: Annotated[str | None, typer.Option(help="Search on this interface only.")
                         ] = None,
    no_mdns: Annotated[bool, typer.Option("--no-mdns", help="Do not browse mDNS.")] = False,
) -> None:
    """Serve the Web Assistant page (on 127.0.0.1) listing the devices found."""
    from openstation.webapi.assistant import serve_assistant

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        out.print(f"Web Assistant: http://127.0.0.1:{port}/")
        sys.stdout.flush()
        await serve_assistant(port, target or [], interface, not no_mdns, stop)

    asyncio.run(main())


# --- config -------------------------------------------------------------------------------


def _config(data_dir: Path, section: str, values: dict[str, str]) -> dict[str, Any]:
    """Read or change a section: through the running device, or the store when stopped."""
    data = DataDir(data_dir)
    try:
        answer = asyncio.run(control.call(data.control_socket, "POST", "/config",
                                          {"section": section, "values": values}))
    except DeviceNotRunningError:
        return _config_stopped(data, section, values)
    if "error" in answer:
        for key, why in (answer.get("problems") or {}).items():
            err.print(f"  {key}: {why}")
        raise UserInputError(str(answer["error"]))
    return dict(answer["values"])


def _config_stopped(data: DataDir, section: str, values: dict[str, str]) -> dict[str, Any]:
    from openstation import settings
    from openstation.errors import ValidationError
    from openstation.network.service import NetworkService
    from openstation.security.machine_key import MachineKey
    from openstation.security.service import SecurityService

    with _store(data.root) as store:
        if not values:
            return settings.read(store, section)
        network = NetworkService(store, MachineKey.load_or_create(data.machine_key))
        try:
            return settings.apply(store, network, SecurityService(store), section, values,
                                  "cli")
        except ValidationError as exc:
            for key, why in exc.problems.items():
                err.print(f"  {key}: {why}")
            raise


def _print_section(section: str, values: dict[str, Any], as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(values))
        return
    for key, value in values.items():
        out.print(f"{section}.{key} = {json.dumps(value)}")


@config_app.command("get")
def config_get(section: str, data_dir: DataDirOption = DEFAULT_DATA_DIR,
               as_json: JsonOption = False) -> None:
    """Show a section's settings."""
    _print_section(section, _config(data_dir, section, {}), as_json)


@config_app.command("set")
def config_set(section: str, assignments: Annotated[list[str], typer.Argument(
                   help="KEY=VALUE … (lists: comma-separated)")],
               data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False
               ) -> None:
    """Change a section's settings (validated like the Control Panel; all or nothing)."""
    values: dict[str, str] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key:
            raise UserInputError(f"not KEY=VALUE: {assignment!r}")
        values[key.strip()] = value
    _print_section(section, _config(data_dir, section, values), as_json)


# --- configuration backup ---------------------------------------------------------------


def _backup_call(data: DataDir, action: str, **fields: Any) -> dict[str, Any] | None:
    """Ask the running device; None when no device runs on this data directory."""
    try:
        answer = asyncio.run(control.call(data.control_socket, "POST", "/backup",
                                          {"action": action, **fields}))
    except DeviceNotRunningError:
        return None
    if "error" in answer:
        raise UserInputError(str(answer["error"]))
    return answer


@config_app.command("backup")
def config_backup(output: Annotated[Path, typer.Option("-o", "--output", help="The file.")],
                  data_dir: DataDirOption = DEFAULT_DATA_DIR,
                  passphrase: Annotated[str | None, typer.Option(
                      help="Encrypt the file (AES-256-GCM, scrypt).")] = None) -> None:
    """Write a Configuration Backup file of every section."""
    import base64

    data = DataDir(data_dir)
    answer = _backup_call(data, "backup", passphrase=passphrase)
    if answer is not None:
        body = base64.b64decode(answer["file"])
    else:
        from openstation.config.backup import seal
        from openstation.config.restore import export
        from openstation.security.machine_key import MachineKey

        with _store(data.root) as store:
            content = export(store, MachineKey.load_or_create(data.machine_key),
                             with_secrets=bool(passphrase))
            body = seal(content, store.hardware.model_name, time.time(), passphrase)
    try:
        output.write_bytes(body)
        output.chmod(0o600)
    except OSError as exc:
        raise UserInputError(f"cannot write {output}: {exc.strerror}") from None
    out.print(f"wrote {output} ({len(body)} bytes{', encrypted' if passphrase else ''})")


@config_app.command("restore")
def config_restore(file: Path, data_dir: DataDirOption = DEFAULT_DATA_DIR,
                   passphrase: Annotated[str | None, typer.Option(help="The file's.")] = None,
                   sections: Annotated[str | None, typer.Option(
                       help="Only these sections, comma-separated (default: all).")] = None,
                   yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
                   as_json: JsonOption = False) -> None:
    """Show what a backup would change, then restore it (all or chosen sections)."""
    import base64

    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise UserInputError(f"cannot read {file}: {exc.strerror}") from None
    chosen = [s.strip() for s in sections.split(",")] if sections else None
    data = DataDir(data_dir)
    fields = {"file": base64.b64encode(raw).decode(), "passphrase": passphrase,
              "sections": chosen}
    running = _backup_call(data, "preview", **fields)
    preview = running if running is not None else _restore_stopped(data, raw, passphrase,
                                                                    chosen, apply=False)
    if not (as_json and yes):
        out.print(f"Backup of a {preview['model']} made "
                  f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(preview['created']))}")
        for section, changes in preview["changes"].items():
            out.print(f"  {section}: {json.dumps(changes) if changes else 'no change'}")
    if not yes and not typer.confirm("Restore these sections?", default=False):
        raise typer.Exit(1)
    if running is not None:
        result = _backup_call(data, "restore", **fields)
        assert result is not None
    else:
        result = _restore_stopped(data, raw, passphrase, chosen, apply=True)
    if as_json:
        out.print_json(json.dumps(result))
    else:
        out.print("Restored. Every session was signed out.")


def _restore_stopped(data: DataDir, raw: bytes, passphrase: str | None,
                     sections: list[str] | None, apply: bool) -> dict[str, Any]:
    """Preview or restore on a stopped device (journaled like the device does it)."""
    from openstation.config import restore as restores
    from openstation.config.backup import BackupError, open_backup
    from openstation.security.machine_key import MachineKey

    with _store(data.root) as store:
        if store.get(Lifecycle).state != "ready":
            raise BackupError("the device is not installed: install it first, then restore")
        header, content = open_backup(raw, passphrase)
        if header["model"] != store.hardware.model_name:
            raise BackupError(f"the backup is from a {header['model']}; this device is a "
                              f"{store.hardware.model_name}")
        if not apply:
            return {"model": header["model"], "created": header["created"],
                    "changes": restores.plan(store, content, sections)}
        restore_id = restores.new_restore_id()
        restores.write_journal(data.restore_journal, restore_id, content, sections, "cli")
        changes = restores.apply(store, content, sections,
                                 MachineKey.load_or_create(data.machine_key), "cli",
                                 restore_id)
        data.restore_journal.unlink()
        return {"changes": changes}


@config_app.command("backups")
def config_backups(data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """List the automatic daily snapshots on volume1 (newest first)."""
    from openstation.config.auto_backup import snapshots

    found = snapshots(DataDir(data_dir).volume)
    if not found:
        out.print("No automatic snapshot yet.")
    for path in found:
        out.print(f"{path}  {path.stat().st_size} bytes")
