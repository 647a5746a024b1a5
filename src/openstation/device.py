"""One device: the store, lifecycle, panel and servers, wired together; boot, reset, stop.

The panel (LEDs, beeper, RESET button) is hardware: it outlives the in-process reboot a
Mode 2 reset does. Everything on the system partition (store, certificate, control socket)
is torn down and built again by that reboot.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import json
import logging
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from openstation import catalog, offload
from openstation.accounts.login import LoginService
from openstation.accounts.service import AccountService
from openstation.accounts.sessions import Sessions
from openstation.cluster import passive
from openstation.cluster.ha import HAService, Hooks
from openstation.cluster.vmm import VMMService
from openstation.config import auto_backup
from openstation.config import restore as restores
from openstation.config.backup import open_backup, seal
from openstation.config.sections import (
    Firewall,
    General,
    Lifecycle,
    LoginSettings,
    Network,
    Ports,
)
from openstation.config.store import ConfigStore
from openstation.datadir import DataDir
from openstation.device_control import control_routes
from openstation.device_facts import describe, initial_state
from openstation.discovery.facts import DeviceFacts, ssdp_description
from openstation.discovery.mdns import MdnsAdvertiser
from openstation.discovery.responder import FindhostResponder
from openstation.discovery.ssdp import DESCRIPTION_PATH, SsdpResponder
from openstation.errors import (
    BackupError,
    PassiveServerError,
    PortInUseError,
    ResetRefused,
    ValidationError,
)
from openstation.failpoints import failpoint
from openstation.files import write_atomic
from openstation.hardware import Hardware, load_or_create
from openstation.lifecycle import journal as journals
from openstation.lifecycle.install import Installer
from openstation.lifecycle.journal import MODE1_DONE, WIPED, Journal
from openstation.lifecycle.reset import apply_mode1, new_journal, record_mode2, refusal
from openstation.lifecycle.state import DeviceState
from openstation.lifecycle.status import Status
from openstation.network.addresses import primary, served
from openstation.network.service import NetworkService
from openstation.network.validate import ports_problems
from openstation.panel.control import ControlServer
from openstation.panel.driver import PanelDriver
from openstation.panel.indicators import Beep, Indicators
from openstation.security.firewall import FirewallPolicy, services
from openstation.security.machine_key import MachineKey
from openstation.security.service import SecurityService
from openstation.security.tls import ensure_certificate, server_context
from openstation.storage.service import StorageService
from openstation.ui.cluster_pages import add_cluster_routes
from openstation.ui.front import add_front_routes, load_or_create_token
from openstation.ui.pages import BackupHooks, Pages
from openstation.webapi import (
    assistant,
    auth,
    cluster_api,
    config_backup,
    filestation,
    info,
    logs,
    settings_api,
    shares,
    storage_info,
    system,
    users,
)
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import Dispatcher
from openstation.webapi.install import install_handler
from openstation.webapi.login_crypto import LoginCrypto
from openstation.webapi.registry import Registry

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    """What `openstation run` was asked for."""

    data_dir: Path
    model: str | None = None
    hosts: list[str] = field(default_factory=lambda: ["127.0.0.1"])
    http_port: int | None = None  # None: the configured UI management port
    https_port: int | None = None
    findhost_port: int = 9999
    ssdp_port: int = 1900
    mdns: bool = True
    cluster_port: int = 5100  # the High Availability link (mutual TLS); 0: any free port


class Device:
    """A running virtual NAS."""

    def __init__(self, options: RunOptions, clock: Callable[[], float] = time.time) -> None:
        self.options = options
        self.clock = clock
        self.data_dir = DataDir(options.data_dir)
        self.state = DeviceState(Status.BOOTING)
        self.indicators = Indicators()
        self.indicators.follow(Status.BOOTING)
        self.state.subscribe(lambda _old, new: self.indicators.follow(new))
        self.state.subscribe(lambda _old, _new: self._announce())
        self.panel = PanelDriver(self.indicators, self._button_decided)
        self.ports: dict[str, int] = {}
        self.resetting = False
        self.last_reset: dict[str, Any] | None = None
        self.reset_refused: dict[str, Any] | None = None
        self._runners: dict[str, web.AppRunner] = {}
        self._control: ControlServer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._findhost: FindhostResponder | None = None
        self._ssdp: SsdpResponder | None = None
        self._mdns: MdnsAdvertiser | None = None
        self._backup_timer: asyncio.TimerHandle | None = None
        self._cluster_sites: list[web.TCPSite] = []
        self.ha: HAService | None = None
        self.vmm: VMMService | None = None
        self.store: ConfigStore | None = None
        self.hardware: Hardware

    # --- boot ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Power on: prepare storage, finish any interrupted reset, start every service."""
        self.data_dir.prepare()
        self.hardware = load_or_create(self.data_dir.hardware_file, self.options.model)
        try:
            await self._boot()
        except BaseException:
            await self._shutdown_services()
            raise

    async def _boot(self) -> None:
        self.state.set(Status.BOOTING)
        pending = journals.read(self.data_dir.reset_journal)
        if pending is not None and pending.mode == 2 and pending.phase != WIPED:
            self._wipe(pending)  # power failed before the wipe was through: do it now
        store = self.store = ConfigStore.open(
            self.data_dir.config_db, self.hardware, clock=self.clock,
            initial_state=initial_state(self.data_dir))
        if pending is not None:
            self._finish_at_boot(store, pending)
        self._finish_restore_at_boot(store)
        await self._start_services(store)

    def _finish_at_boot(self, store: ConfigStore, pending: Journal) -> None:
        """Complete the reset the journal describes (each step is idempotent)."""
        if pending.mode == 1:
            report = apply_mode1(store, pending)
        else:
            record_mode2(store, pending)
            report = pending.report
        journals.clear(self.data_dir.reset_journal)
        self.last_reset = self._reset_summary(pending, report)

    def _finish_restore_at_boot(self, store: ConfigStore) -> None:
        """Replay a restore whose commit the power may have cut off (idempotent)."""
        pending = restores.read_journal(self.data_dir.restore_journal)
        if pending is None:
            return
        key = MachineKey.load_or_create(self.data_dir.machine_key)
        restores.apply(store, pending["content"], pending["sections"], key, pending["actor"],
                       pending["id"])
        self.data_dir.restore_journal.unlink()

    async def _start_services(self, store: ConfigStore) -> None:
        booted_at = self.clock()
        self.sessions = Sessions(
            self.clock, lambda: store.get(LoginSettings).session_timeout_minutes * 60.0)
        self.accounts = AccountService(store, on_signed_out=self.sessions.revoke_user)
        self.accounts.ensure_system_accounts()
        self.state.set(Status.STARTING_SERVICES)
        await offload.run(  # a new key pair on first boot and after Mode 2
            ensure_certificate, self.data_dir.tls_cert, self.data_dir.tls_key,
            store.get(General).server_name, self.options.hosts, dt.datetime.now(dt.UTC))
        self.installer = Installer(store, self.data_dir, self.state)
        self.machine_key = MachineKey.load_or_create(self.data_dir.machine_key)
        load_or_create_token(self.data_dir.panel_token)
        self.network = NetworkService(store, self.machine_key)
        self.security = SecurityService(store)
        self.firewall = FirewallPolicy(store.get(Firewall), [])  # until the ports are bound
        self.web = WebContext(
            store=store, hardware=self.hardware, data_dir=self.data_dir, state=self.state,
            clock=self.clock, sessions=self.sessions,
            login=LoginService(store, self.sessions, self.clock, self._local_networks),
            accounts=self.accounts,
            storage=StorageService(store, self.data_dir.volume, self.machine_key),
            crypto=LoginCrypto(self.clock), booted_at=booted_at)
        self.registry = Registry()
        info.register(self.registry)
        auth.register(self.registry, self.web)
        users.register(self.registry, self.web)
        system.register(self.registry, self.web, self.options.hosts)
        storage_info.register(self.registry, self.web)
        filestation.register(self.registry, self.web.storage)
        shares.register(self.registry, self.web, self.web.storage)
        logs.register(self.registry, self.web)
        config_backup.register(self.registry, self.web, self.backup, self.restore_preview,
                               self.restore)
        settings_api.register(self.registry, self.web, self.network, self.security,
                              self.change_ports, lambda: dict(self.ports),
                              self.settings_changed)
        self.ha = HAService(store, self.hardware, self.data_dir.system, self.data_dir.volume,
                            Hooks(status=lambda: self.state.status, serve=self._serve_cluster,
                                  config_applied=self._replicated_config,
                                  cluster_port=self.options.cluster_port,
                                  hosts=self.options.hosts), self.clock)
        store.write_guard = passive.guard(self.ha.passive_refusal)
        self.web.storage.changed = self.ha.changed
        self.web.storage.renamed = self.ha.renamed
        self.vmm = VMMService(store, self.hardware, self.data_dir.volume,
                              lambda: self.state.status, self.clock)
        cluster_api.register(self.registry, self.ha, self.vmm,
                             lambda: self.ports.get("http", 0))
        self._ssl = server_context(self.data_dir.tls_cert, self.data_dir.tls_key)
        http, https = self.wanted_ports(store)
        self.ports["http"] = await self._listen("http", http)
        self.ports["https"] = await self._listen("https", https)
        self.settings_changed()
        self._control = ControlServer(self.data_dir.control_socket, control_routes(self))
        await self._control.start()
        await self._start_discovery()
        self.settings_changed()
        self.state.set(Status.from_persisted(store.get(Lifecycle).state))
        if self.state.status is Status.READY:
            await self.web.storage.automount()  # "Mount automatically on startup", from Key Manager
        await self.ha.start()
        await self.vmm.start()
        self._write_runtime_file()
        self._daily_backup()
        self.indicators.beep(self.clock(), "boot complete")

    def wanted_ports(self, store: ConfigStore) -> tuple[int, int]:
        """The configured UI ports, unless `run` was given ports of its own."""
        configured = store.get(Ports)
        http = self.options.http_port if self.options.http_port is not None else configured.http
        https = (self.options.https_port if self.options.https_port is not None
                 else configured.https)
        return http, https

    def _web_app(self) -> web.Application:
        # 64 MiB: room for a configuration backup upload; forms stay under 1 MiB (dispatch).
        app = web.Application(client_max_size=64 << 20,
                              middlewares=[self._firewall_gate, self._replicated])
        dispatcher = Dispatcher(self.registry, auth.make_authenticator(self.web),
                                self.web.crypto.decrypt)
        for path in ("query.cgi", "auth.cgi", "entry.cgi", "encryption.cgi"):
            app.router.add_route("*", f"/webapi/{path}", dispatcher.handle)
        app.router.add_route("*", "/webapi/entry.cgi/{api}", dispatcher.handle)
        app.router.add_post("/webman/install.cgi",
                            install_handler(self.installer, self._restore_latest))
        pages = Pages(self.web, self.network, self.security, self.change_ports,
                      lambda: dict(self.ports), self.settings_changed, lambda: self.last_reset,
                      BackupHooks(self.backup, self.restore_preview, self.restore))
        pages.routes(app)
        if self.ha is not None and self.vmm is not None:
            add_cluster_routes(pages, app, self.ha, self.vmm, lambda: self.ports.get("http", 0))
        add_front_routes(app, self.data_dir.panel_token, self.panel, self.snapshot)
        app.router.add_get(DESCRIPTION_PATH, self._ssdp_description)
        assistant.add_search_routes(app, self.options.hosts)
        return app

    async def _listen(self, kind: str, port: int) -> int:
        """Serve `kind` (http/https) on `port`, replacing its previous listener."""
        runner, bound = await self._bind(kind, port)
        await self._swap(kind, runner, bound)
        return bound

    async def _bind(self, kind: str, port: int) -> tuple[web.AppRunner, int]:
        """A new listener for `kind` on `port` on every host (port 0: a free one)."""
        runner = web.AppRunner(self._web_app(), access_log=None, handle_signals=False)
        await runner.setup()
        bound = port
        try:
            for host in self.options.hosts:
                site = web.TCPSite(runner, host, bound, reuse_address=True,
                                   ssl_context=self._ssl if kind == "https" else None)
                try:
                    await site.start()
                except OSError as exc:
                    if exc.errno == errno.EADDRINUSE:
                        raise PortInUseError(
                            f"port {port} on {host} is already in use") from None
                    raise PortInUseError(
                        f"cannot listen on {host}:{port} ({exc.strerror})") from None
                if bound == 0:
                    server = site._server
                    assert server is not None
                    bound = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        except BaseException:
            await runner.cleanup()
            raise
        return runner, bound

    async def _swap(self, kind: str, runner: web.AppRunner, port: int) -> None:
        old = self._runners.pop(kind, None)
        self._runners[kind] = runner
        self.ports[kind] = port
        if self.ha is not None and self.ha.serving:
            await self._serve_cluster(True)  # the cluster address moves with the listener
        if old is not None:
            # In the background: the request that asked for the move is still being answered
            # on the old listener, and closing it waits for that very request.
            self._background(old.cleanup())

    async def change_ports(self, actor: str, http: int, https: int) -> dict[str, int]:
        """Control Panel > Network > DSM Settings: bind the new ports first, then store them;
        a busy or invalid port changes nothing."""
        problems = ports_problems(http, https)
        if problems:
            raise ValidationError(problems)
        assert self.store is not None
        overridden = self.options.http_port is not None or self.options.https_port is not None
        fresh: dict[str, tuple[web.AppRunner, int]] = {}
        if not overridden:
            try:
                for kind, port in (("http", http), ("https", https)):
                    if port != self.ports.get(kind):
                        fresh[kind] = await self._bind(kind, port)
            except PortInUseError as exc:
                for runner, _ in fresh.values():
                    await runner.cleanup()
                raise ValidationError({f"{kind}_port": str(exc)}) from None
        self.network.set_ports(actor, http, https)
        for kind, (runner, port) in fresh.items():
            await self._swap(kind, runner, port)
        self.settings_changed()
        self._write_runtime_file()
        return dict(self.ports)

    def settings_changed(self) -> None:
        """Apply changed settings to the running device: firewall, announcements."""
        if self.store is None:
            return
        ports = self.ports
        self.firewall = self.security.policy(services(
            ports.get("http", 0), ports.get("https", 0), ports.get("findhost", 0),
            ports.get("ssdp", 0)))
        self._announce()

    @web.middleware
    async def _firewall_gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """A source the firewall denies gets no answer: the connection is closed."""
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        port = sockname[1] if sockname else 0
        if not self.firewall.allowed(request.remote or "", port, "tcp"):
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPForbidden()
        response: web.StreamResponse = await handler(request)
        return response

    # --- clusters -------------------------------------------------------------------------

    @web.middleware
    async def _replicated(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """A request that changed something is answered once the HA passive has it too;
        a page that tried to change something on the passive says why it cannot."""
        try:
            response: web.StreamResponse = await handler(request)
        except PassiveServerError as refused:
            return web.Response(text=str(refused), status=409)
        if self.ha is not None:
            await self.ha.barrier()
        return response

    async def _serve_cluster(self, on: bool) -> None:
        """Listen on the cluster address too (unless already listening on every address),
        and announce the cluster name."""
        for site in self._cluster_sites:
            with contextlib.suppress(Exception):
                await site.stop()
        self._cluster_sites = []
        assert self.ha is not None
        address = self.ha.ha.cluster_address
        if on and address and "0.0.0.0" not in self.options.hosts:
            for kind in ("http", "https"):
                runner = self._runners.get(kind)
                if runner is None:
                    continue
                site = web.TCPSite(runner, address, self.ports[kind], reuse_address=True,
                                   ssl_context=self._ssl if kind == "https" else None)
                try:
                    await site.start()
                    self._cluster_sites.append(site)
                except OSError as exc:
                    log.error("cannot listen on cluster address %s: %s", address, exc)
        self._announce()

    async def _replicated_config(self) -> None:
        """Settings the HA active shipped: apply them as if changed here."""
        await self._follow_ports()
        self.settings_changed()

    async def _leave_clusters(self, trigger: str) -> None:
        """Reset: tell the HA peer and the VMM members first, so that they learn it; the
        reset plan itself stores the memberships' removal (items 7 and 8)."""
        if self.ha is not None and self.ha.ha.member:
            await self.ha.remove(trigger, persist=False)
        if self.vmm is not None and self.vmm.vmm.member:
            await self.vmm.leave(trigger, persist=False)

    # --- configuration backup -------------------------------------------------------------

    def _daily_backup(self) -> None:
        """Today's snapshot on volume1 (Ready devices only), and again in 24 hours."""
        if self._backup_timer is not None:
            self._backup_timer.cancel()
        if self.store is not None and self.state.status is Status.READY:
            try:
                auto_backup.write_daily(self.store, self.machine_key, self.data_dir.volume,
                                        self.clock())
            except OSError as exc:
                log.error("automatic configuration backup failed: %s", exc)
        self._backup_timer = asyncio.get_running_loop().call_later(86400, self._daily_backup)

    async def backup(self, passphrase: str | None) -> bytes:
        """A configuration backup file (secrets only inside a passphrase-encrypted one);
        sealing (scrypt, AES) runs off the loop."""
        assert self.store is not None
        content = restores.export(self.store, self.machine_key, with_secrets=bool(passphrase))
        return await offload.run(seal, content, self.hardware.model_name, self.clock(),
                                 passphrase)

    async def restore_preview(self, raw: bytes, passphrase: str | None,
                              sections: list[str] | None) -> dict[str, Any]:
        """What restoring would change; changes nothing."""
        assert self.store is not None
        header, content = await self._open_for_restore(raw, passphrase)
        return {"model": header["model"], "created": header["created"],
                "changes": restores.plan(self.store, content, sections)}

    async def restore(self, raw: bytes, passphrase: str | None, sections: list[str] | None,
                      actor: str) -> dict[str, Any]:
        """Restore a backup: journaled, one transaction, sessions ended, settings live."""
        _, content = await self._open_for_restore(raw, passphrase)
        assert self.store is not None
        restores.plan(self.store, content, sections)  # refuses a bad backup before any change
        restore_id = restores.new_restore_id()
        restores.write_journal(self.data_dir.restore_journal, restore_id, content, sections,
                               actor)
        failpoint("restore-journaled")
        report = restores.apply(self.store, content, sections, self.machine_key, actor,
                                restore_id)
        failpoint("restore-committed")
        self.data_dir.restore_journal.unlink()
        self.sessions.revoke_all()
        await self._follow_ports()
        self.settings_changed()
        return report

    async def _open_for_restore(self, raw: bytes, passphrase: str | None
                                ) -> tuple[dict[str, Any], dict[str, Any]]:
        if self.state.status is not Status.READY:
            raise BackupError(f"the device is {self.state.status.label}: install it first, "
                              "then restore")
        header, content = await offload.run(open_backup, raw, passphrase)
        if header["model"] != self.hardware.model_name:
            raise BackupError(f"the backup is from a {header['model']}; this device is a "
                              f"{self.hardware.model_name}")
        return header, content

    async def _restore_latest(self, actor: str) -> str:
        """The reinstall wizard's offer: restore the newest snapshot found on volume1."""
        found = auto_backup.snapshots(self.data_dir.volume)
        if not found:
            raise BackupError("no automatic configuration snapshot on volume1")
        await self.restore(found[0].read_bytes(), None, None, actor)
        return found[0].name

    # --- discovery ----------------------------------------------------------------------

    async def _start_discovery(self) -> None:
        self._findhost = FindhostResponder(
            self.options.hosts, self.options.findhost_port, self.discovery_facts,
            allowed=lambda ip: self.firewall.allowed(ip, self.ports.get("findhost", 0), "udp"))
        await self._findhost.start()
        self.ports["findhost"] = self._findhost.port
        self._ssdp = SsdpResponder(
            self.options.hosts, self.options.ssdp_port, self.discovery_facts,
            allowed=lambda ip: self.firewall.allowed(ip, self.ports.get("ssdp", 0), "udp"))
        await self._ssdp.start()
        self.ports["ssdp"] = self._ssdp.port
        if self.options.mdns and self._mdns is None:
            # Probing takes over a second: it runs in the background, and the device is
            # announced once it is through (with the facts of that moment).
            self._mdns = MdnsAdvertiser(self.options.hosts)
            self._background(self._start_mdns(self._mdns))

    async def _start_mdns(self, advertiser: MdnsAdvertiser) -> None:
        try:
            await advertiser.start(self.discovery_facts)
        except OSError as exc:
            log.warning("mDNS is off: %s", exc)
            if self._mdns is advertiser:
                self._mdns = None

    def discovery_facts(self) -> DeviceFacts:
        """What findhost, mDNS and SSDP say about this device now."""
        model = self.hardware.model
        version = catalog.DEFAULT_VERSION
        store = self.store
        network = store.get(Network) if store else Network.factory(self.hardware)
        eth0 = network.interfaces[0] if network.interfaces else None
        status = self.state.status
        name = store.get(General).server_name if store else model.line.default_server_name
        if self.ha is not None and self.ha.serving:
            name = self.ha.ha.cluster_name  # the active server answers as the cluster
        return DeviceFacts(
            server_name=name,
            model=model.name, product_line=model.line.value, unique_id=model.unique_id,
            serial=self.hardware.serial, short_serial=self.hardware.short_serial,
            macs=self.hardware.macs, version_short=version.short,
            version_major=version.major, version_minor=version.minor, build=version.build,
            update=version.update, http_port=self.ports.get("http", 0),
            https_port=self.ports.get("https", 0), status_code=status.code,
            status_label=status.label, installed=status is not Status.NOT_INSTALLED,
            dhcp=eth0.dhcp if eth0 else True,
            gateway=(eth0.gateway if eth0 and eth0.gateway else network.default_gateway),
            dns=tuple(network.dns))

    def _announce(self) -> None:
        """Re-announce on mDNS after a change (status, name, ports)."""
        if self._mdns is None or self.store is None:
            return
        with contextlib.suppress(RuntimeError):
            self._background(self._mdns.update(self.discovery_facts))

    async def _ssdp_description(self, _request: web.Request) -> web.Response:
        address = primary(self.options.hosts).address
        return web.Response(text=ssdp_description(self.discovery_facts(), address),
                            content_type="text/xml")

    # --- the RESET button and the reset engine -------------------------------------------

    def _button_decided(self, mode: int) -> None:
        self.start_reset(mode, "button")

    def start_reset(self, mode: int, trigger: str) -> None:
        """Run a reset in the background (its caller cannot wait: Mode 2 reboots)."""
        self._background(self._reset_logged(mode, trigger))

    def _background(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` as a task the device waits for when it stops."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reset_logged(self, mode: int, trigger: str) -> None:
        try:
            await self.reset(mode, trigger)
        except ResetRefused as refused:
            self.reset_refused = {"at": self.clock(), "mode": mode, "reason": str(refused)}
            log.warning("reset refused: %s", refused)

    async def reset(self, mode: int, trigger: str) -> dict[str, Any]:
        """Mode 1 or Mode 2, crash-safely: journal first, then each idempotent step."""
        if self.resetting:
            raise ResetRefused("a reset is already in progress")
        why = refusal(self.state.status, mode)
        if why is not None:
            raise ResetRefused(why)
        assert self.store is not None
        self.resetting = True
        try:
            pending = new_journal(mode, trigger, self.clock())
            journals.write(self.data_dir.reset_journal, pending)
            failpoint("journal-written")
            # Peers are told before the local reset; a power cut in between leaves them
            # to notice the silence (the journal still completes the reset at boot).
            await self._leave_clusters(trigger)
            report = apply_mode1(self.store, pending)
            failpoint("mode1-committed")
            self.sessions.revoke_all()
            self.web.storage.unmount_all()  # item 9: encrypted folders are unmounted
            if mode == 1:
                journals.clear(self.data_dir.reset_journal)
                self.last_reset = self._reset_summary(pending, report)
                await self._follow_ports()
                self.settings_changed()
                return self.last_reset
            pending.phase, pending.report = MODE1_DONE, report
            journals.write(self.data_dir.reset_journal, pending)
            failpoint("mode1-journaled")
            await self._shutdown_services()
            self._wipe(pending)
            await self._boot()
            assert self.last_reset is not None
            return self.last_reset
        finally:
            self.resetting = False

    def _wipe(self, pending: Journal) -> None:
        self.state.set(Status.BOOTING)
        self.data_dir.wipe_system()
        failpoint("wiped")
        pending.phase = WIPED
        journals.write(self.data_dir.reset_journal, pending)
        failpoint("wipe-journaled")

    def _reset_summary(self, pending: Journal, report: dict[str, Any]) -> dict[str, Any]:
        return {"id": pending.id, "mode": pending.mode, "trigger": pending.trigger,
                "at": pending.decided_at, "plan": pending.plan, "changes": report}

    async def _follow_ports(self) -> None:
        """Move the listeners to the configured UI ports (after Mode 1 reset them)."""
        assert self.store is not None
        http, https = self.wanted_ports(self.store)
        for kind, port in (("http", http), ("https", https)):
            if port != self.ports.get(kind) and port != 0:
                try:
                    self.ports[kind] = await self._listen(kind, port)
                except PortInUseError as exc:
                    log.error("keeping the %s listener on port %s: %s", kind,
                              self.ports.get(kind), exc)
        self._write_runtime_file()

    # --- stop ----------------------------------------------------------------------------

    async def _shutdown_services(self) -> None:
        """Close listeners, the control socket and the store (the panel stays)."""
        if self._backup_timer is not None:
            self._backup_timer.cancel()
            self._backup_timer = None
        if self._control is not None:
            await self._control.stop()
            self._control = None
        for cluster in (self.ha, self.vmm):
            if cluster is not None:
                await cluster.close()
        self.ha = self.vmm = None
        for responder in (self._findhost, self._ssdp):
            if responder is not None:
                responder.close()
        self._findhost = self._ssdp = None
        for runner in list(self._runners.values()):
            await runner.cleanup()
        self._runners.clear()
        self.ports.clear()
        with contextlib.suppress(FileNotFoundError):
            self.data_dir.runtime_file.unlink()
        if self.store is not None:
            self.store.close()
            self.store = None

    async def stop(self) -> None:
        """Power off: the long beep of a shutdown, every service closed, LEDs off."""
        self.indicators.beep(self.clock(), "shutdown", kind=Beep.LONG)
        self.panel.close()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._shutdown_services()
        if self._mdns is not None:
            await self._mdns.close()  # withdraw the service record
            self._mdns = None
        self.indicators.power_off()

    # --- views ---------------------------------------------------------------------------

    def _local_networks(self) -> list[str]:
        """The device's own subnets: where a blank admin password may be used from."""
        return [entry.network for entry in served(self.options.hosts)]

    def urls(self) -> list[str]:
        host = self.options.hosts[0]
        shown = "127.0.0.1" if host == "0.0.0.0" else host
        return [f"http://{shown}:{self.ports['http']}/", f"https://{shown}:{self.ports['https']}/"]

    def snapshot(self) -> dict[str, Any]:
        """Status, identity, LEDs, beeps and the button: what `panel status` shows."""
        facts = describe(self.hardware, self.store, self.state.status, dict(self.ports))
        facts["running"] = True
        facts["pid"] = os.getpid()
        facts["panel"] = self.indicators.to_json()
        facts["button"] = self.panel.view()
        facts["reset"] = {"in_progress": self.resetting, "last": self.last_reset,
                          "refused": self.reset_refused}
        facts["ha"] = self.ha.status() if self.ha else None
        facts["vmm"] = self.vmm.status() if self.vmm else None
        return facts

    def _write_runtime_file(self) -> None:
        body = {"pid": os.getpid(), "hosts": self.options.hosts, "ports": self.ports,
                "urls": self.urls(), "started": self.clock()}
        write_atomic(self.data_dir.runtime_file, json.dumps(body).encode(), mode=0o600)

