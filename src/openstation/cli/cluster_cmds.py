"""`openstation ha …` and `openstation vmm …`: the High Availability pair and the VMM
cluster of a running device."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from openstation.cli.common import DataDirOption, JsonOption, app, out, panel_call
from openstation.datadir import DEFAULT_DATA_DIR
from openstation.errors import UserInputError

ha_app = typer.Typer(no_args_is_help=True,
                     help="High Availability: create a pair, status, switchover, remove.")
app.add_typer(ha_app, name="ha")
vmm_app = typer.Typer(no_args_is_help=True,
                      help="Virtual Machine Manager cluster: create, join, leave, status "
                           "(membership and inventory; no virtual machines are run).")
app.add_typer(vmm_app, name="vmm")

Peer = Annotated[str, typer.Option(help="The other device's Web API over HTTPS, e.g. "
                                        "https://10.0.0.2:5001.")]
PeerFingerprint = Annotated[str, typer.Option(
    help="The SHA-256 fingerprint of the other device's certificate, as `openstation status` "
         "there shows it: the password is sent only to that certificate.")]
PeerUser = Annotated[str, typer.Option(help="An administrator of the other device.")]
PeerPassword = Annotated[str, typer.Option(
    prompt=True, hide_input=True, help="That administrator's password (asked if left out).")]


def _cluster(data_dir: Path, kind: str, action: str, **args: Any) -> dict[str, Any]:
    answer = panel_call(data_dir, "POST", "/cluster",
                        {"kind": kind, "action": action, "args": args})
    if "error" in answer:
        problems = answer.get("problems")
        detail = "; ".join(f"{k}: {v}" for k, v in problems.items()) if problems else ""
        raise UserInputError(detail or str(answer["error"]))
    return answer


def _show(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        out.print(json.dumps(answer, indent=2))
        return
    from rich.table import Table

    table = Table(show_header=False, box=None)
    for key, value in answer.items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict | list) else str(value))
    out.print(table)


@ha_app.command("create")
def ha_create(
    peer: Peer, peer_fingerprint: PeerFingerprint, peer_user: PeerUser,
    peer_password: PeerPassword,
    name: Annotated[str, typer.Option(help="The cluster's server name.")],
    quorum: Annotated[str, typer.Option(
        help="host[:port] both servers must reach to take over (e.g. the gateway).")],
    address: Annotated[str, typer.Option(
        help="The cluster address the active server holds (IPv4 on the LAN).")] = "",
    heartbeat: Annotated[float, typer.Option(help="Seconds between heartbeats.")] = 1.0,
    failover: Annotated[float, typer.Option(
        help="Seconds of silence before the passive takes over.")] = 5.0,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """Make this device the active server of a new pair with the device at --peer."""
    _show(_cluster(data_dir, "ha", "create", peer=peer, peer_fingerprint=peer_fingerprint,
                   peer_user=peer_user,
                   peer_password=peer_password, cluster_name=name, cluster_address=address,
                   quorum=quorum, heartbeat_seconds=heartbeat, failover_seconds=failover),
          as_json)


@ha_app.command("status")
def ha_status(data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False) -> None:
    """Role, peer, heartbeat and replication of this server."""
    _show(_cluster(data_dir, "ha", "status"), as_json)


@ha_app.command("switchover")
def ha_switchover(data_dir: DataDirOption = DEFAULT_DATA_DIR,
                  as_json: JsonOption = False) -> None:
    """Make the passive server the active one (run on the active)."""
    _show(_cluster(data_dir, "ha", "switchover"), as_json)


@ha_app.command("remove")
def ha_remove(data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False) -> None:
    """Unbind the pair: both servers become standalone, each keeping its data."""
    _show(_cluster(data_dir, "ha", "remove"), as_json)


@vmm_app.command("create")
def vmm_create(name: str, data_dir: DataDirOption = DEFAULT_DATA_DIR,
               as_json: JsonOption = False) -> None:
    """Start a VMM cluster with this device as its first member."""
    _show(_cluster(data_dir, "vmm", "create", cluster_name=name), as_json)


@vmm_app.command("join")
def vmm_join(peer: Peer, peer_fingerprint: PeerFingerprint, peer_user: PeerUser,
             peer_password: PeerPassword, data_dir: DataDirOption = DEFAULT_DATA_DIR,
             as_json: JsonOption = False) -> None:
    """Join the VMM cluster of the member at --peer."""
    _show(_cluster(data_dir, "vmm", "join", peer=peer, peer_fingerprint=peer_fingerprint,
                   peer_user=peer_user, peer_password=peer_password), as_json)


@vmm_app.command("leave")
def vmm_leave(data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False) -> None:
    """Leave the VMM cluster; the other members drop this one."""
    _show(_cluster(data_dir, "vmm", "leave"), as_json)


@vmm_app.command("status")
def vmm_status(data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False) -> None:
    """Members with their CPU, memory, storage and health."""
    answer = _cluster(data_dir, "vmm", "status")
    if as_json or not answer.get("member"):
        _show(answer, as_json)
        return
    from rich.table import Table

    table = Table(title=f"VMM cluster {answer['cluster_name']}")
    for column in ("member", "name", "model", "health", "cores", "memory free", "volume free"):
        table.add_column(column)
    for host in answer["members"]:
        memory, storage = host.get("memory", {}), host.get("storage", {})
        table.add_row(host["url"] + (" (this)" if host["self"] else ""),
                      str(host.get("server_name", "?")), str(host.get("model", "?")),
                      host["health"], str(host.get("cpu", {}).get("cores", "?")),
                      _gib(memory.get("available")), _gib(storage.get("free")))
    out.print(table)


def _gib(value: Any) -> str:
    return f"{value / (1 << 30):.1f} GiB" if isinstance(value, int) else "?"
