"""Commands for one device: run, install, status, log."""

from __future__ import annotations

import gc
import json
import logging
import signal
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from openstation.cli.common import (
    DataDirOption,
    JsonOption,
    app,
    err,
    operate,
    out,
)
from openstation.datadir import DEFAULT_DATA_DIR, DataDir
from openstation.errors import DeviceNotRunningError, UserInputError
from openstation.panel import control_client

if TYPE_CHECKING:
    from openstation.device import RunOptions


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
    cluster_port: Annotated[int, typer.Option(
        help="High Availability link port (mutual TLS; used only in a pair).")] = 5100,
    smb_port: Annotated[int | None, typer.Option(
        help="SMB port instead of the configured one (445; 0 picks a free one).")] = None,
    sftp_port: Annotated[int | None, typer.Option(
        help="SFTP port instead of the configured one (22; 0 picks a free one).")] = None,
    webdav_port: Annotated[int | None, typer.Option(
        help="WebDAV (HTTP) port instead of the configured one (5005; 0: a free one).")] = None,
    webdavs_port: Annotated[int | None, typer.Option(
        help="WebDAV (HTTPS) port instead of the configured one (5006).")] = None,
    no_file_services: Annotated[bool, typer.Option(
        "--no-file-services",
        help="Run no file service (SMB, SFTP, rsync, WebDAV), whatever the settings say.")
    ] = False,
) -> None:
    """Boot one device and serve it until Ctrl-C / SIGTERM."""
    from openstation.device import RunOptions  # the whole device: only `run` needs it

    for port in (http_port, https_port, findhost_port, ssdp_port, cluster_port, smb_port,
                 sftp_port, webdav_port, webdavs_port):
        if port is not None and not 0 <= port <= 65535:
            raise UserInputError(f"port {port} is out of range (0-65535)")
    options = RunOptions(data_dir=data_dir, model=model, hosts=host or ["127.0.0.1"],
                         http_port=http_port, https_port=https_port,
                         findhost_port=findhost_port, ssdp_port=ssdp_port,
                         mdns=not no_mdns, cluster_port=cluster_port,
                         file_services=not no_file_services, smb_port=smb_port,
                         sftp_port=sftp_port, webdav_port=webdav_port,
                         webdavs_port=webdavs_port)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import asyncio

    asyncio.run(_serve(options))


async def _serve(options: RunOptions) -> None:
    import asyncio

    from openstation import loopwatch, offload
    from openstation.device import Device

    loopwatch.from_environment()  # tests: report every callback that blocks the loop
    loop = asyncio.get_running_loop()
    offload.install_pool(loop)
    device = Device(options)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await device.start()
    # What boot made lives as long as the process: keep it out of every later full
    # garbage collection, which would otherwise pause the loop to walk it. (No collect()
    # first: that alone would hold the loop for tens of milliseconds.)
    gc.freeze()
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
    import asyncio

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

    from openstation.remote import install_stream

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
    for name, service in (facts.get("file_services") or {}).items():
        state = str(service.get("state", "")) if service.get("enabled") else "off"
        port = f", port {service['port']}" if service.get("port") else ""
        why = f": {service['why']}" if service.get("why") else ""
        table.add_row(name, f"{state}{port}{why}")
    if (encrypted := facts.get("encrypted_shares")) is not None:
        table.add_row("encrypted shares", (
            f"available, {len(encrypted['mounted'])} mounted" if encrypted["available"]
            else f"unavailable: {encrypted['why']}"))
    for task in facts.get("hyper_backup") or []:
        running = task["running"]
        table.add_row(f"backup {task['name']}", (
            f"{running['kind']} {running['progress']} %, {running['processed_files']}/"
            f"{running['total_files']} files, ETA {running['eta_seconds'] or '?'} s"
            if running else task["last_result"]))
    if facts.get("certificate_fingerprint"):  # what a peer pairing with this device pins
        table.add_row("certificate (SHA-256)", str(facts["certificate_fingerprint"]))
    out.print(table)


def _status_facts(data_dir: DataDir) -> dict[str, Any]:
    try:
        facts = control_client.call(data_dir.control_socket, "GET", "/status")
        facts.pop("panel", None)
        return facts
    except DeviceNotRunningError:
        from openstation.device_facts import stopped

        return stopped(data_dir)


# --- log ----------------------------------------------------------------------------------


@app.command("log")
def show_log(data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
             limit: int = 50, section: str | None = None,
             resets: Annotated[bool, typer.Option("--resets", help="Only resets.")] = False
             ) -> None:
    """The audit log (Log Center): who changed what, and every reset."""
    rows: list[dict[str, Any]] = operate(data_dir, "log", limit=limit, section=section,
                                         resets=resets)
    if as_json:
        out.print_json(json.dumps(rows))
        return
    from datetime import datetime

    for row in reversed(rows):
        when = datetime.fromtimestamp(row["at"]).strftime("%Y-%m-%d %H:%M:%S")
        target = row["section"] + (f"/{row['key']}" if row["key"] else "")
        out.print(f"{when}  {row['actor']:<10} {row['action']:<7} {target}  "
                  f"{json.dumps(row['detail'])}", highlight=False, soft_wrap=True)
