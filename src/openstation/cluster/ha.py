"""The High Availability service of one server of a pair (SYNO.SHA-style).

The active ships every committed configuration change and every write made through the
device to the passive over mutual TLS, in order, each with a sequence number; a Web API
call that wrote something is answered only once the passive has it (or the pair is
degraded: then the passive is resynchronised in full when it is back). A heartbeat watches
the peer; `ha_policy.decide` says when to take over, step down or serve the cluster address.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from aiohttp import web

from openstation import catalog
from openstation.cluster import address as cluster_address
from openstation.cluster import passive, quorum
from openstation.cluster import replication as rep
from openstation.cluster.ha_passive import passive_routes
from openstation.cluster.ha_policy import Action, View, decide, incompatibility, peer_lost
from openstation.cluster.ha_shipping import shipper
from openstation.cluster.link import PeerLink, client_context, pinned_client, server_context
from openstation.cluster.replog import ReplicationLog
from openstation.config.sections import General, HACluster, Role
from openstation.config.store import ConfigStore
from openstation.errors import ClusterError, PeerError, ValidationError
from openstation.events import ConfigChanged
from openstation.files import write_atomic
from openstation.hardware import Hardware
from openstation.lifecycle.status import Status
from openstation.security.tls import make_certificate

log = logging.getLogger(__name__)


@dataclass
class Hooks:
    """What the HA service asks of its device."""

    status: Callable[[], Status]
    serve: Callable[[bool], Awaitable[None]]  # take or give up the cluster address listeners
    cluster_port: int  # 0: any free port
    hosts: list[str]  # where the cluster port listens


def _validate(name: str, address: str, quorum_ref: str, heartbeat: float, failover: float
              ) -> None:
    problems: dict[str, str] = {}
    if not name or len(name) > 15 or not all(c.isalnum() or c == "-" for c in name):
        problems["cluster_name"] = "1 to 15 letters, digits or hyphens"
    if (why := cluster_address.address_problem(address)) is not None:
        problems["cluster_address"] = why
    if not quorum_ref:
        problems["quorum"] = "name a quorum reference (e.g. the gateway) the servers can reach"
    if not 0.1 <= heartbeat <= 10:
        problems["heartbeat_seconds"] = "between 0.1 and 10 seconds"
    if not heartbeat * 2 <= failover <= 300:
        problems["failover_seconds"] = "at least two heartbeats and at most 300 seconds"
    if problems:
        raise ValidationError(problems)


class HAService:
    """One server's side of a High Availability pair."""

    def __init__(self, store: ConfigStore, hardware: Hardware, system_dir: Path,
                 volume: Path, hooks: Hooks, clock: Callable[[], float]) -> None:
        self.store = store
        self.hardware = hardware
        self.folder = system_dir / "cluster"
        self.volume = volume
        self.hooks = hooks
        self.clock = clock
        self.ha = store.get(HACluster)
        self.serving = False
        self.in_sync = False  # (passive) holds everything the active acknowledged
        self.since = clock()
        self.peer_seen_at: float | None = None
        # Since when the quorum reference has answered without a break, while the peer was
        # silent (None: it did not, or the peer answers).
        self.quorum_since: float | None = None
        self.peer: dict[str, Any] = {}
        self.peer_state = "unknown"  # (active) the passive: unknown, syncing, in sync
        self.reason = ""
        self.last_error = ""
        self.switching = False  # a switchover is under way: no new writes
        self.boot_id = secrets.token_hex(4)  # tells the active that this server restarted
        self.synced_boot = ""  # (active) the passive's boot that the last full sync filled
        self._background: set[asyncio.Task[Any]] = set()
        self.manifest = rep.Manifest(volume)
        # Where a changed path's bytes are on the volume (StorageService: the ciphertext of
        # a path in an encrypted share; None if it cannot tell).
        self.on_volume: Callable[[str], Awaitable[str | None]] = _same_path
        # Told when this server becomes the passive one (its encrypted shares unmount).
        self.demoted: Callable[[], None] = lambda: None
        self.log = ReplicationLog()
        self.applied = 0  # (passive) the last sequence number applied
        self._tasks: list[asyncio.Task[Any]] = []
        self._runner: web.AppRunner | None = None
        self._server_context: Any = None
        self.link: PeerLink | None = None
        self.port = 0

    # --- start and stop --------------------------------------------------------------------

    async def start(self) -> None:
        self.log.attach()
        if not self.ha.member:
            return  # nothing to clean up: a standalone device never writes @ha-incoming
        rep.clear_incoming(self.volume)
        if self.ha.cluster_address:
            # Held since before a power cut: give it up until this server knows its role.
            await asyncio.to_thread(cluster_address.remove, self.ha.cluster_address)
        try:
            await self._open_server(self.ha.peer_certificate)
            self._connect()
        except (OSError, ValueError, ClusterError) as exc:
            # The device still boots; the pair waits for an administrator (remove, re-create).
            self.last_error = f"the cluster link cannot start: {exc}"
            log.error("%s", self.last_error)
            await self._close_server()
            return
        self._start_tasks()

    async def close(self) -> None:
        """Stop taking part (device shutdown): the address is given up, membership kept."""
        await self._stop_tasks()
        if self.serving:
            await self.serve(False)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.link is not None:
            await self.link.close()
            self.link = None

    def _start_tasks(self) -> None:
        self.since = self.clock()
        self._tasks = [asyncio.get_running_loop().create_task(self._heartbeats()),
                       asyncio.get_running_loop().create_task(shipper(self))]

    async def _stop_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    async def _open_server(self, peer_pem: str) -> None:
        """The cluster port: mutual TLS, only the pinned peer certificate gets in."""
        self._server_context = server_context(self.folder / "ha.crt", self.folder / "ha.key",
                                              peer_pem)
        app = web.Application(client_max_size=1 << 24)
        for method, path, handler in passive_routes(self):
            app.router.add_route(method, path, handler)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        port = self.hooks.cluster_port
        for host in self.hooks.hosts:
            site = web.TCPSite(self._runner, host, port, ssl_context=self._server_context,
                               reuse_address=True)
            try:
                await site.start()
            except OSError as exc:
                await self._runner.cleanup()
                self._runner = None
                raise ClusterError(f"cannot listen on the cluster port {host}:{port}: "
                                   f"{exc.strerror}") from None
            server = site._server
            assert server is not None
            port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.port = port

    def _connect(self) -> None:
        context = client_context(self.folder / "ha.crt", self.folder / "ha.key",
                                 self.ha.peer_certificate)
        self.link = PeerLink(self.ha.peer, self.ha.peer_port, context)

    def save(self) -> None:
        with self.store.transaction("system", "high-availability") as tx:
            tx.put(self.ha)

    # --- what the Web API and the pages ask ----------------------------------------------

    def passive_refusal(self) -> str | None:
        """Why this server refuses changes (it is the passive one), or None."""
        return passive.refusal(self.ha, self.switching)

    def status(self) -> dict[str, Any]:
        ha = self.ha
        now = self.clock()
        if not ha.member:
            return {"member": False, "server_name": self.store.get(General).server_name,
                    "serial": self.hardware.serial}
        return {
            "member": True, "role": ha.role, "cluster_name": ha.cluster_name,
            "cluster_address": ha.cluster_address, "serving": self.serving,
            "epoch": ha.epoch, "in_sync": self.in_sync if ha.role == "passive" else True,
            "server_name": self.store.get(General).server_name, "serial": self.hardware.serial,
            "cluster_port": self.port, "quorum": ha.quorum,
            "heartbeat_seconds": ha.heartbeat_seconds, "failover_seconds": ha.failover_seconds,
            "peer": {"address": ha.peer, "name": ha.peer_name, "serial": ha.peer_serial,
                     "role": self.peer.get("role"), "in_sync": self.peer.get("in_sync"),
                     "seen_seconds_ago": (round(now - self.peer_seen_at, 2)
                                          if self.peer_seen_at is not None else None),
                     "replication": self.peer_state if ha.role == "active" else None},
            "replication": {"acknowledged": self.log.acked, "pending": self.log.pending,
                            "applied": self.applied},
            "reason": self.reason, "last_error": self.last_error,
        }

    def probe(self) -> dict[str, Any]:
        """What a future partner checks before binding (no session needed)."""
        return {"status": self.hooks.status().label, "model": self.hardware.model_name,
                "version": catalog.DEFAULT_VERSION.display, "serial": self.hardware.serial,
                "clustered": self.ha.member,
                "server_name": self.store.get(General).server_name}

    # --- making the pair -------------------------------------------------------------------

    def _own_certificate(self) -> str:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        cert, key = make_certificate(f"ha-{self.hardware.serial}", [],
                                     dt.datetime.now(dt.UTC))
        write_atomic(self.folder / "ha.key", key, mode=0o600)
        write_atomic(self.folder / "ha.crt", cert, mode=0o644)
        return cert.decode()

    def _bindable(self) -> None:
        if self.hooks.status() is not Status.READY:
            raise ClusterError(f"this device is {self.hooks.status().label}, not Ready")
        if self.ha.member:
            raise ClusterError(f"this device is already in high-availability cluster "
                               f"{self.ha.cluster_name!r}")

    async def create(self, actor: str, peer_url: str, user: str, password: str,
                     cluster_name: str, address: str, quorum_ref: str,
                     heartbeat: float = 1.0, failover: float = 5.0,
                     wait: float = 60.0, peer_fingerprint: str = "") -> dict[str, Any]:
        """Make this Ready device the active server of a new pair with the one at
        `peer_url`; returns once the passive holds a full copy (or `wait` ran out)."""
        _validate(cluster_name, address, quorum_ref, heartbeat, failover)
        self._bindable()
        if address:
            await asyncio.to_thread(cluster_address.placement, address)
        peer_host = urlparse(peer_url).hostname
        if not peer_host or urlparse(peer_url).scheme not in ("http", "https"):
            raise ValidationError({"peer": "the peer's address, as http(s)://host:port"})
        client = pinned_client(peer_url, peer_fingerprint)
        try:
            facts = await client.call("SYNO.SHA.Cluster", "probe")
        except PeerError as exc:
            raise ClusterError(f"the peer: {exc}") from None
        if not isinstance(facts, dict):
            raise ClusterError("the peer does not offer high availability")
        self._compatible(facts)
        try:
            await client.login(user, password)
        except PeerError as exc:
            raise ClusterError(str(exc)) from None
        own_pem = await asyncio.to_thread(self._own_certificate)
        await self._open_server("")
        try:
            answer = await client.call(
                "SYNO.SHA.Cluster", "bind", certificate=own_pem,
                serial=self.hardware.serial, server_name=self.store.get(General).server_name,
                cluster_name=cluster_name, cluster_address=address, quorum=quorum_ref,
                heartbeat_seconds=str(heartbeat), failover_seconds=str(failover),
                port=str(self.port))
        except PeerError as exc:
            await self._close_server()
            raise ClusterError(f"the peer refused to bind: {exc}") from None
        finally:
            await client.logout()
        try:
            pair = HACluster(
                member=True, role=Role.ACTIVE, cluster_name=cluster_name,
                cluster_address=address, peer=peer_host, peer_port=int(answer["port"]),
                peer_serial=str(answer["serial"]), peer_name=str(answer["server_name"]),
                peer_certificate=str(answer["certificate"]), quorum=quorum_ref,
                heartbeat_seconds=heartbeat, failover_seconds=failover, epoch=1)
            self._server_context.load_verify_locations(cadata=pair.peer_certificate)
        except (KeyError, TypeError, ValueError, OSError) as exc:
            await self._close_server()
            raise ClusterError(f"the peer's answer to bind is unusable ({exc})") from None
        self.ha = pair
        with self.store.transaction(actor, "high-availability") as tx:
            tx.put(self.ha)
            tx.audit("create", "ha_cluster", cluster_name, {"peer": peer_host})
        self._connect()
        self.peer_state = "unknown"
        self._start_tasks()
        await self.serve(True)
        self.log.kick()
        deadline = self.clock() + wait
        while self.peer_state != "in sync" and self.clock() < deadline:
            await asyncio.sleep(0.05)
        return self.status()

    def _compatible(self, facts: dict[str, Any]) -> None:
        why = incompatibility(facts, self.hardware.serial, self.hardware.model_name,
                              catalog.DEFAULT_VERSION.display)
        if why is not None:
            raise ClusterError(why)

    async def bind(self, actor: str, remote: str, params: dict[str, str]) -> dict[str, Any]:
        """The passive's side of `create` (called by the future active with an
        administrator's session)."""
        self._bindable()
        try:
            heartbeat = float(params["heartbeat_seconds"])
            failover = float(params["failover_seconds"])
            peer_port = int(params["port"])
            pem, serial = params["certificate"], params["serial"]
        except (KeyError, ValueError):
            raise ValidationError({"bind": "certificate, serial, port, heartbeat_seconds and "
                                           "failover_seconds are needed"}) from None
        if not 0 < peer_port < 65536:
            raise ValidationError({"port": "a TCP port"})
        name, address = params.get("cluster_name", ""), params.get("cluster_address", "")
        _validate(name, address, params.get("quorum", ""), heartbeat, failover)
        if address:
            await asyncio.to_thread(cluster_address.placement, address)
        own_pem = await asyncio.to_thread(self._own_certificate)
        self.ha = HACluster(
            member=True, role=Role.PASSIVE, cluster_name=name, cluster_address=address,
            peer=remote, peer_port=peer_port, peer_serial=serial,
            peer_name=params.get("server_name", ""), peer_certificate=pem,
            quorum=params.get("quorum", ""), heartbeat_seconds=heartbeat,
            failover_seconds=failover, epoch=1)
        try:
            await self._open_server(pem)
        except (ClusterError, OSError, ValueError) as exc:
            self.ha = HACluster()
            await self._close_server()
            raise ClusterError(f"cannot bind: {exc}") from None
        with self.store.transaction(actor, "high-availability") as tx:
            tx.put(self.ha)
            tx.audit("bind", "ha_cluster", name, {"peer": remote})
        self.in_sync = False
        self._connect()
        self._start_tasks()
        return {"certificate": own_pem, "port": self.port, "serial": self.hardware.serial,
                "server_name": self.store.get(General).server_name}

    # --- leaving -----------------------------------------------------------------------------

    async def remove(self, actor: str, notify: bool = True, persist: bool = True
                     ) -> dict[str, Any]:
        """Unbind: both servers become standalone, each keeping its data and name.
        `persist=False`: a reset's plan writes the membership away in its own transaction."""
        if not self.ha.member:
            raise ClusterError("this device is in no high-availability cluster")
        told = False
        if notify and self.link is not None:
            try:
                await self.link.post("/ha/leave", {"serial": self.hardware.serial},
                                      timeout=3)
                told = True
            except PeerError as exc:
                log.warning("the peer was not told it left the cluster: %s", exc)
        name = self.ha.cluster_name
        await self.dissolve(actor, persist)
        return {"removed": name, "peer_told": told}

    async def dissolve(self, actor: str, persist: bool = True) -> None:
        await self._stop_tasks()
        if self.serving:
            await self.serve(False)
        await self._close_server()
        if self.link is not None:
            await self.link.close()
            self.link = None
        name = self.ha.cluster_name
        self.ha = HACluster()
        if persist:
            with self.store.transaction(actor, "high-availability") as tx:
                tx.put(self.ha)
                tx.audit("remove", "ha_cluster", name, {})
        for path in (self.folder / "ha.crt", self.folder / "ha.key"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self.log.clear()
        self.peer, self.peer_seen_at, self.peer_state = {}, None, "unknown"
        await self.log.release()

    async def _close_server(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- switchover --------------------------------------------------------------------------

    async def switchover(self, actor: str) -> dict[str, Any]:
        """Swap roles without losing a committed write: writes stop, everything queued is
        shipped, then the passive is promoted."""
        if not self.ha.member or self.ha.role != "active":
            raise ClusterError("switch over on the active server of a cluster")
        if self.peer_state != "in sync" or peer_lost(self._view(None), self.clock()):
            raise ClusterError("the passive server is not in sync (or not answering): "
                               "switchover is not possible now")
        self.switching = True  # refuses new writes from here on
        try:
            await self.barrier()
            assert self.link is not None
            if self.log.pending or self.peer_state != "in sync":
                raise PeerError("replication did not finish")
            await self.link.post("/ha/promote", {"epoch": self.ha.epoch + 1}, timeout=10)
        except PeerError as exc:
            raise ClusterError(f"switchover failed, nothing changed: {exc}") from None
        finally:
            self.switching = False
        self.ha.role = Role.PASSIVE
        self.ha.epoch += 1
        self.demoted()
        with self.store.transaction(actor, "high-availability") as tx:
            tx.put(self.ha)
            tx.audit("switchover", "ha_cluster", self.ha.cluster_name, {"to": self.ha.peer})
        await self.serve(False)
        self.in_sync, self.applied, self.since = True, 0, self.clock()
        self.peer = {**self.peer, "role": "active", "epoch": self.ha.epoch}
        return self.status()

    # --- the replication log (active) --------------------------------------------------------

    def _recording(self) -> bool:
        return (self.ha.member and self.ha.role == "active"
                and self.peer_state in ("syncing", "in sync"))

    def committed(self, event: ConfigChanged) -> None:
        """An applier: ship every committed row of the replicated sections, in order (the
        CLI's changes too: they are made through the running device)."""
        if not self._recording():
            return
        wanted = [row.to_json() for row in event.rows if row.section in rep.REPLICATED]
        if wanted:
            self.log.append({"kind": "rows", "rows": wanted})

    def changed(self, path: Path) -> None:
        """StorageService: a path on volume1 was written, created or deleted."""
        if not self._recording():  # first: cheap, and most writes are in no pair
            return
        rel = rep.relative(self.volume, path)
        if rel is not None:
            self.log.append({"kind": "path", "path": rel.as_posix()})

    def renamed(self, src: Path, dst: Path) -> None:
        old, new = rep.relative(self.volume, src), rep.relative(self.volume, dst)
        if old is not None and new is not None and self._recording():
            self.log.append({"kind": "rename", "src": old.as_posix(), "dst": new.as_posix()})

    async def barrier(self) -> None:
        """Wait until the passive holds every change committed so far (unless the pair is
        degraded: then the full resync at reconnection carries them)."""
        if self.ha.member:
            await self.log.acknowledged(self._recording)

    def degrade(self) -> None:
        """The passive missed something: it gets a full resync when it is back."""
        self.peer_state = "unknown"
        self.log.clear()

    # --- the passive's side of replication ---------------------------------------------------

    # --- the heartbeat -----------------------------------------------------------------------

    def mine(self) -> dict[str, Any]:
        return {"role": self.ha.role, "epoch": self.ha.epoch, "serving": self.serving,
                "in_sync": self.in_sync if self.ha.role == "passive" else True,
                "serial": self.hardware.serial, "port": self.port, "boot": self.boot_id}

    def heard(self, facts: dict[str, Any]) -> None:
        self.peer_seen_at = self.clock()
        self.peer = {key: facts.get(key) for key in ("role", "epoch", "serving", "in_sync")}
        port = facts.get("port")
        if (isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536
                and port != self.ha.peer_port):
            # The peer came back on another port: follow it (cluster port 0 in tests).
            self.ha.peer_port = port
            self.save()
            if self.link is not None:
                self.spawn(self.link.close())
            self._connect()
        if self.ha.role == "active" and self.peer_state == "in sync" \
                and facts.get("boot") != self.synced_boot:
            self.degrade()  # the passive restarted: it needs everything again
        if self.peer_state == "unknown":
            self.log.kick()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _view(self, quorum_ok: bool | None) -> View:
        peer_epoch = self.peer.get("epoch")
        return View(
            role=self.ha.role, epoch=self.ha.epoch, in_sync=self.in_sync,
            serving=self.serving, since=self.since, peer_seen_at=self.peer_seen_at,
            peer_role=self.peer.get("role"),
            peer_epoch=peer_epoch if isinstance(peer_epoch, int) else 0,
            peer_wins_tie=self.ha.peer_serial < self.hardware.serial,
            quorum=quorum_ok, failover_timeout=self.ha.failover_seconds)

    async def _heartbeats(self) -> None:
        while True:
            try:
                await self._beat()
            except Exception:  # the heartbeat must outlive any failure
                log.exception("heartbeat failed")
            await asyncio.sleep(self.ha.heartbeat_seconds)

    async def _beat(self) -> None:
        """One heartbeat: tell the peer, hear it (or not), decide, act."""
        if self.link is not None:
            try:
                answer = await self.link.post("/ha/heartbeat", self.mine(),
                                               timeout=max(1.0, self.ha.heartbeat_seconds))
                self.heard(answer)
            except PeerError:
                pass
        now = self.clock()
        quorum_ok = None
        silent = now - (self.peer_seen_at if self.peer_seen_at is not None else self.since)
        if silent > 2 * self.ha.heartbeat_seconds:
            # Probed from the second missed beat on: a server that was cut off itself
            # reaches the quorum reference again only when its cable is back, and must not
            # take over in the moment before it hears its peer again.
            reachable = await asyncio.to_thread(quorum.reachable, self.ha.quorum)
            self.quorum_since = (self.quorum_since or now) if reachable else None
        else:
            self.quorum_since = None
        if peer_lost(self._view(None), now):
            if self.ha.role == "active" and self.peer_state != "unknown":
                self.last_error = "the passive server is silent: degraded"
                self.degrade()  # writes go on here; the passive is resynced later
                await self.log.release()
            quorum_ok = (self.quorum_since is not None
                         and now - self.quorum_since >= self.ha.failover_seconds / 2)
        action, why = decide(self._view(quorum_ok), now)
        self.reason = why
        await self._act(action)

    async def _act(self, action: Action) -> None:
        if action is Action.TAKE_OVER:
            log.warning("taking over cluster %s: %s", self.ha.cluster_name, self.reason)
            self.ha.role, self.ha.epoch = Role.ACTIVE, self.ha.epoch + 1
            self.save()
            self.peer_state = "unknown"
            self.log.restart()
            self.peer = {}
            await self.serve(True)
        elif action is Action.DEMOTE:
            log.warning("stepping down in cluster %s: %s", self.ha.cluster_name, self.reason)
            self.ha.role = Role.PASSIVE
            self.ha.epoch = max(self.ha.epoch, int(self.peer.get("epoch") or 0))
            self.demoted()
            self.save()
            self.degrade()
            self.in_sync, self.applied, self.since = False, 0, self.clock()
            await self.serve(False)
            await self.log.release()
        elif action is Action.SERVE:
            await self.serve(True)
        elif action is Action.STOP_SERVING:
            await self.serve(False)

    async def serve(self, on: bool) -> None:
        """Take or give up the cluster address (and the cluster name in announcements)."""
        if on == self.serving:
            return
        address = self.ha.cluster_address
        if on:
            if address:
                why = await asyncio.to_thread(cluster_address.add, address)
                if why:
                    self.last_error = f"cluster address {address} not taken: {why}"
                    log.error("%s", self.last_error)
            self.serving = True
            await self.hooks.serve(True)
        else:
            self.serving = False
            await self.hooks.serve(False)
            if address:
                await asyncio.to_thread(cluster_address.remove, address)



async def _same_path(rel: str) -> str | None:
    return rel
