"""`openstation find` and `openstation assistant`."""

from __future__ import annotations

import json
import signal
import sys
from typing import Annotated

import typer

from openstation.cli.common import (
    JsonOption,
    app,
    out,
)
from openstation.errors import UserInputError

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
    import asyncio

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
    import asyncio

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
