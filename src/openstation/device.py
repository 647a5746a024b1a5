"""One device: the composition root. It builds the parts, wires them, boots and stops them.

Who calls whom: faces (Web API, pages, CLI through the control socket) call the services;
the services validate and commit to the store; every commit is published on the event bus,
and the appliers (listeners, firewall gate, discovery announcements, HA shipping) make it
real. The panel (LEDs, beeper, RESET button) and the bus are hardware of a kind: they
outlive the in-process reboot of a Mode 2 reset, which rebuilds everything on the system
partition (store, certificate, control socket, services, the web application).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import shutil
import sqlite3
import ssl
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openstation import logcenter, offload, webapp
from openstation.accounts.login import LoginService
from openstation.accounts.service import AccountService
from openstation.accounts.sessions import Sessions
from openstation.backup.engine import BackupEngine, Parts
from openstation.backup.service import BackupService
from openstation.backup.vault import Vault
from openstation.cluster import passive
from openstation.cluster.ha import HAService, Hooks
from openstation.cluster.vmm import VMMService
from openstation.config.sections import (
    General,
    HardwareSettings,
    Lifecycle,
    LoginSettings,
    Ports,
)
from openstation.config.store import ConfigStore
from openstation.datadir import LOCK_WAIT, DataDir
from openstation.device_control import control_routes
from openstation.device_facts import describe
from openstation.discovery.announcer import Discovery
from openstation.errors import OpenStationError
from openstation.events import EventBus
from openstation.files import write_atomic
from openstation.fileserv.servers import FileServers, Wiring
from openstation.fileserv.service import FileServicesService
from openstation.fileserv.webdav import Signins
from openstation.hardware import Hardware, load_or_create
from openstation.lifecycle.install import Installer
from openstation.lifecycle.reset_engine import ResetEngine, open_system
from openstation.lifecycle.restore_engine import ConfigBackups
from openstation.lifecycle.state import DeviceState
from openstation.lifecycle.status import Status
from openstation.listeners import Listeners
from openstation.monitor.sampler import Sampler
from openstation.monitor.service import ResourceMonitorService
from openstation.network.addresses import served
from openstation.network.service import NetworkService
from openstation.notify.centre import Centre
from openstation.notify.notifier import Notifier
from openstation.notify.service import NotificationService
from openstation.notify.volume_watch import VolumeWatch
from openstation.packages import PACKAGES, switch
from openstation.panel.control import ControlServer
from openstation.panel.driver import PanelDriver
from openstation.panel.indicators import Beep, Indicators
from openstation.scheduler.runner import Parts as TaskParts
from openstation.scheduler.runner import TaskRunner
from openstation.scheduler.service import TaskService
from openstation.security.certificates import Certificates, CertificateService
from openstation.security.connections import ConnectionGuard, ConnectionLimits
from openstation.security.gate import FirewallGate
from openstation.security.machine_key import MachineKey
from openstation.security.service import SecurityService
from openstation.security.tls import (
    ensure_certificate,
    fingerprint,
    make_in_child,
    server_context,
)
from openstation.storage.permissions import READ_WRITE
from openstation.storage.service import StorageService
from openstation.syslog.forwarder import Forwarder
from openstation.syslog.received import ReceivedLogs
from openstation.syslog.receiver import LogReceiver
from openstation.syslog.service import LogReceivingService, LogSendingService
from openstation.ui.front import load_or_create_token
from openstation.webapi.context import WebContext
from openstation.webapi.login_crypto import LoginCrypto
from openstation.webapi.system import temperature as host_temperature

FOLLOWERS_DRAIN = 5.0  # seconds a stop waits for notifications and log sending to finish


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
    file_services: bool = True  # False: no SMB or SFTP whatever the settings (tests)
    smb_port: int | None = None  # None: the configured port; 0: any free port
    sftp_port: int | None = None
    webdav_port: int | None = None
    webdavs_port: int | None = None
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)


class Device:
    """A running virtual NAS."""

    running = True  # (operations.Node) mounts and listeners exist
    fingerprint = ""  # the HTTPS certificate's SHA-256, once it exists

    def __init__(self, options: RunOptions, clock: Callable[[], float] = time.time) -> None:
        self.options = options
        self.clock = clock
        self.data_dir = DataDir(options.data_dir)
        self.state = DeviceState(Status.BOOTING)
        self.indicators = Indicators()
        self.indicators.follow(Status.BOOTING)
        self.bus = EventBus()
        self.ports: dict[str, int] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.resets = ResetEngine(self, self.spawn)
        self.panel = PanelDriver(self.indicators, lambda mode: self.resets.start(mode, "button"))
        self.store: ConfigStore | None = None
        self._control: ControlServer | None = None
        self.hardware: Hardware

    # --- boot ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Power on: take the data directory's lock (a CLI command on the stopped device
        may hold it a moment), prepare storage, boot."""
        self.bus.bind(asyncio.get_running_loop())
        await offload.run(self.data_dir.prepare)
        self._lock = await offload.run(self.data_dir.lock, LOCK_WAIT)
        try:
            self.hardware = await offload.run(load_or_create, self.data_dir.hardware_file,
                                              self.options.model)
            self.discovery = Discovery(self.hardware, self.state, self.options.hosts,
                                       self.ports, self.spawn, self.options.mdns)
            self.state.subscribe(lambda _old, new: self.indicators.follow(new))
            self.state.subscribe(lambda _old, _new: self.discovery.announce())
            await self.boot()
        except BaseException:
            await self.shutdown_services()
            self._lock.release()
            raise

    async def boot(self) -> None:
        """Open the system partition (finishing what a power cut interrupted) and start
        every service on it."""
        self.state.set(Status.BOOTING)
        # A new system partition (first boot, or after Mode 2's wipe) gets the product's
        # default server name: its certificate is made meanwhile, in a child process.
        self._certificate = None if self.data_dir.config_db.exists() else make_in_child(
            self.data_dir.tls_cert, self.data_dir.tls_key,
            self.hardware.model.line.default_server_name, self.options.hosts)
        opened = await offload.run(open_system, self.data_dir, self.hardware, self.clock)
        if opened.finished_reset is not None:
            self.resets.last = opened.finished_reset
        self.store = opened.store
        await self._start_services(opened.store)

    async def _start_services(self, store: ConfigStore) -> None:
        self._serving = False  # running.json is written once every service is up
        store.events = self.bus
        self.sessions = Sessions(
            self.clock, lambda: store.get(LoginSettings).session_timeout_minutes * 60.0)
        self.state.set(Status.STARTING_SERVICES)
        await offload.run(self._system_files)
        self.accounts = AccountService(store, on_signed_out=self.sessions.revoke_user,
                                       machine_key=self.machine_key)
        self.accounts.ensure_system_accounts()
        self.accounts.seal_otp_secrets()  # stored in clear before they were sealed
        self.installer = Installer(store, self.data_dir, self.state, self.accounts)
        self.network = NetworkService(store, self.machine_key)
        self.security = SecurityService(store)
        self.gate = FirewallGate(self.security, lambda: self.ports, self.clock)
        self.connections = ConnectionGuard(self.options.limits, self.gate.admits)
        self.web = WebContext(
            store=store, hardware=self.hardware, data_dir=self.data_dir, state=self.state,
            clock=self.clock, sessions=self.sessions,
            login=LoginService(store, self.sessions, self.clock, self._local_networks,
                               self.machine_key),
            accounts=self.accounts,
            storage=StorageService(store, self.data_dir.volume, self.machine_key),
            crypto=LoginCrypto(self.clock), booted_at=self.clock())
        self.web.storage.upgrade_permissions()  # rights stored by name before ids
        self.certificates = CertificateService(
            Certificates(self.data_dir.system / "certificates", self.data_dir.tls_cert,
                         self.data_dir.tls_key), store, self._certificate_changed)
        self.notifications = NotificationService(store, self.machine_key)
        self.notifier = Notifier(store, self.notifications, self.clock)
        self.notifier.start()  # before anything else commits: a reset's entry is mailed
        self.log_sending = LogSendingService(store)
        self.forwarder = Forwarder(store, logcenter.level_of, logcenter.describe)
        self.forwarder.start()
        self.volume_watch = VolumeWatch(store, self.data_dir.volume)
        self.log_receiving = LogReceivingService(store)
        self.receiver = LogReceiver(
            store, ReceivedLogs(self.data_dir.system / "received-logs.db"),
            self.options.hosts,
            lambda ip, port, protocol: self.gate.allowed(ip, port, protocol)
            and not self.gate.blocked(ip), self.clock)
        self.backups = ConfigBackups(store, self.hardware, self.data_dir, self.machine_key,
                                     self.state, self.clock, self.end_sessions, self.settle)
        self.hyper_backup = BackupEngine(Parts(
            BackupService(store, self.machine_key, self.data_dir.volume, self.data_dir.system,
                          self.clock),
            is_reachable=self.web.storage.is_mounted, config_file=self.backups.backup,
            restore_config=self.backups.restore,
            preview_config=self.backups.preview, spawn=self.spawn, clock=self.clock,
            writes_refused=lambda: store.writes_refused("hyperbackup"),
            cache_dir=self.data_dir.system / "restic-cache",
            changed=lambda path: self.ha.changed(path),  # restored files reach the passive
            snapshot_config=self.backups.refresh_daily))
        self.centre = Centre(store, self.data_dir.system / "notifications-read.json")
        await offload.run(self.centre.load)
        self.sampler = Sampler(store, self.data_dir.volume,
                               self.data_dir.system / "monitor-history.json", self.clock)
        self.resource_monitor = ResourceMonitorService(store)
        self.tasks = TaskService(store, self.clock)
        self.task_runner = TaskRunner(store, self.tasks, TaskParts(
            volume=self.data_dir.volume, runs_dir=self.data_dir.system / "task-runs",
            clock=self.clock, switch=self._switch_package,
            beep=lambda why, seconds: self.indicators.beep(
                self.clock(), f"{why} ({seconds} s)", kind=Beep.LONG),
            mail=self.notifier.mail_to, settle=self.settle, power=self._power,
            shares_of=lambda user: [(share.name, right == READ_WRITE) for share, right
                                    in self.web.storage.readable(user)]))
        self.vault = Vault(store, self.data_dir.volume, Signins(
            store, self.web.login, asyncio.get_running_loop()).verify,
            self.hyper_backup.service.vault_received, self.web.storage.claim,
            self.web.storage.release)
        self.ha = HAService(store, self.hardware, self.data_dir.system, self.data_dir.volume,
                            Hooks(status=lambda: self.state.status, serve=self._serve_cluster,
                                  cluster_port=self.options.cluster_port,
                                  hosts=self.options.hosts), self.clock)
        store.write_guard = passive.guard(self.ha.passive_refusal)
        self.web.storage.changed = self.ha.changed
        self.web.storage.renamed = self.ha.renamed
        self.ha.on_volume = self.web.storage.on_volume
        self.ha.demoted = lambda: self.spawn(self.web.storage.unmount_all())
        self.vmm = VMMService(store, self.hardware, self.data_dir.volume,
                              lambda: self.state.status, self.clock)
        self.file_servers = FileServers(Wiring(
            store, self.web.storage, self.web.login, self.machine_key, self.data_dir.system,
            self.options.hosts, self.gate.admits, self.ha.changed, self.ha.renamed,
            self.clock, self._rewrite_runtime,
            (self.data_dir.tls_cert, self.data_dir.tls_key), self.options.smb_port,
            self.options.sftp_port, (self.options.webdav_port, self.options.webdavs_port)))
        self.listeners = Listeners(webapp.build(self), self.connections, self.options.hosts,
                                   self.ports, lambda: self.wanted_ports(store), self.spawn,
                                   self._listeners_moved)
        await self.listeners.start()  # HTTP now; HTTPS once the certificate is there
        self._control = ControlServer(self.data_dir.control_socket, control_routes(self))
        await self._control.start()
        await self.discovery.start(store, self.options.findhost_port, self.options.ssdp_port,
                                   self.gate.udp)
        self.gate.reload()
        self.state.set(Status.from_persisted(store.get(Lifecycle).state))
        await self.web.storage.clear_stale_mounts()  # left by a device that was killed
        if self.state.status is Status.READY:
            await self.web.storage.automount()  # "Mount automatically on startup"
        await self.ha.start()
        await self.vmm.start()
        await self.listeners.serve_https(await offload.run(
            self._certificate_ready, store.get(General).server_name))
        if self.options.file_services:  # after the certificate: WebDAV serves HTTPS too
            await self.file_servers.start()
        await offload.run(write_atomic, self.data_dir.runtime_file, self._runtime(), 0o600)
        self._serving = True
        await self.receiver.apply()  # after the firewall: a stranger is not heard
        self.volume_watch.start()
        self.web.storage.quotas.start()
        self.backups.start_daily(self.spawn)
        self.hyper_backup.start()
        self.task_runner.start()
        await self.sampler.start()
        if store.get(HardwareSettings).beep_on_power_on:
            self.indicators.beep(self.clock(), "boot complete")

    async def desktop_widgets(self) -> dict[str, Any]:
        """What an administrator's desktop shows: System Health (status, uptime, the
        host's temperature, the HA pair), Storage (volume1's use) and Backup (each Hyper
        Backup task's last result). Files and sensors are read off the loop."""
        usage, temperature = await offload.run(
            lambda: (shutil.disk_usage(self.data_dir.volume), host_temperature()))
        seconds = int(self.clock() - self.web.booted_at)
        ha = self.ha.status()
        return {"status": self.state.status.label, "good": self.state.status is Status.READY,
                "uptime": f"{seconds // 86400} d {seconds // 3600 % 24} h "
                          f"{seconds // 60 % 60} min",
                "temperature": temperature,
                "ha": f"{ha['role']} of {ha['cluster_name']}" if ha.get("member") else "",
                "volume": {"percent": round(100 * (usage.total - usage.free) / usage.total, 1)
                           if usage.total else 0.0,
                           "free_gb": round(usage.free / 1e9, 1),
                           "total_gb": round(usage.total / 1e9, 1)},
                "backups": self.hyper_backup.summary()}

    async def _power(self, on: bool) -> None:
        """The power schedule on a virtual device: off stops the file services and the
        scheduled backups (settings kept; the web pages stay up), on starts them again.
        Each switch beeps as a real one would, and is in Log Center."""
        assert self.store is not None
        settings = self.store.get(HardwareSettings)
        if on and settings.beep_on_power_on:
            self.indicators.beep(self.clock(), "power on (schedule)")
        if not on and settings.beep_on_power_off:
            self.indicators.beep(self.clock(), "power off (schedule)", kind=Beep.LONG)
        self.hyper_backup.paused = not on
        if self.options.file_services:
            await self.file_servers.power(on)
        with contextlib.suppress(OpenStationError, sqlite3.Error), \
                self.store.transaction("power schedule", "power_schedule") as tx:
            tx.audit("power-on" if on else "power-off", "power_schedule", "", {})

    def _switch_package(self, package_id: str, on: bool, actor: str) -> None:
        """A service task starts or stops a feature, as Package Center does."""
        package = next(p for p in PACKAGES if p.id == package_id)
        switch(package, on, actor, self.file_servers.settings, self.hyper_backup.service)

    def _system_files(self) -> None:
        """The machine key and panel token (made on first boot and after a Mode 2 reset,
        with fsyncs: in a worker thread)."""
        self.machine_key = MachineKey.load_or_create(self.data_dir.machine_key)
        load_or_create_token(self.data_dir.panel_token)

    def _certificate_ready(self, server_name: str) -> ssl.SSLContext:
        """The HTTPS context, once the certificate exists (a worker thread waits for the
        child that makes it; if the child failed, it is made here instead)."""
        if self._certificate is not None:
            self._certificate.wait()
        ensure_certificate(self.data_dir.tls_cert, self.data_dir.tls_key, server_name,
                           self.options.hosts, dt.datetime.now(dt.UTC))
        self.certificates.certificates.repair()  # a change a power cut interrupted
        self.fingerprint = fingerprint(self.data_dir.tls_cert)  # peers pin it to pair
        return server_context(self.data_dir.tls_cert, self.data_dir.tls_key)

    def wanted_ports(self, store: ConfigStore) -> tuple[int, int]:
        """The configured UI ports, unless `run` was given ports of its own."""
        configured = store.get(Ports)
        http = self.options.http_port if self.options.http_port is not None else configured.http
        https = (self.options.https_port if self.options.https_port is not None
                 else configured.https)
        return http, https

    async def change_ports(self, actor: str, http: int, https: int) -> dict[str, int]:
        """Control Panel > Network > DSM Settings: bind the new ports first, then store them;
        a busy or invalid port changes nothing."""
        def commit() -> None:
            self.network.set_ports(actor, http, https)

        if self.options.http_port is not None or self.options.https_port is not None:
            commit()  # `run` pinned the ports: the setting is kept for later boots
        else:
            await self.listeners.change(http, https, commit)
        return dict(self.ports)

    @property
    def storage(self) -> StorageService:
        return self.web.storage

    @property
    def file_services(self) -> FileServicesService:
        return self.file_servers.settings

    def file_service_status(self) -> dict[str, Any]:
        status = self.file_servers.status()
        if not self.options.file_services:
            for entry in status.values():
                entry.update(state="stopped", why="the device runs with --no-file-services")
        return status

    # --- what the parts ask of the device -------------------------------------------------

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` as a task the device waits for when it stops."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait until the appliers have made every committed change real."""
        await self.bus.drain()

    def end_sessions(self) -> None:
        """Every session ends, on the web and every file service, and every encrypted
        share is unmounted (a reset)."""
        self.sessions.revoke_all()
        self.spawn(self.file_servers.end_sessions())
        self.spawn(self.web.storage.unmount_all())  # refused at once, unmounted soon after

    async def leave_clusters(self, trigger: str) -> None:
        """Reset: tell the HA peer and the VMM members first, so that they learn it; the
        reset plan itself stores the memberships' removal (items 7 and 8)."""
        if self.ha.ha.member:
            await self.ha.remove(trigger, persist=False)
        if self.vmm.vmm.member:
            await self.vmm.leave(trigger, persist=False)

    async def _listeners_moved(self) -> None:
        self.gate.reload()
        if self.ha.serving:
            await self._serve_cluster(True)  # the cluster address moves with the listener
        self.discovery.announce()
        await self._rewrite_runtime()

    async def _certificate_changed(self) -> None:
        """A new default certificate: new HTTPS handshakes (the UI, the Vault, WebDAV) use
        it at once; connections already open keep the old."""
        cert, key = self.data_dir.tls_cert, self.data_dir.tls_key
        self.fingerprint = await offload.run(fingerprint, cert)
        if self.listeners.tls is not None:  # a fresh context, made off the loop
            self.listeners.replace_tls(await offload.run(server_context, cert, key))
        await self.file_servers.webdav.reload_tls()
        await self._rewrite_runtime()

    async def _rewrite_runtime(self) -> None:
        """running.json follows where the device listens (once it is first written)."""
        if self._serving:
            await offload.run(write_atomic, self.data_dir.runtime_file, self._runtime(), 0o600)

    async def _serve_cluster(self, on: bool) -> None:
        """Listen on the cluster address too, and answer discovery as the cluster."""
        address = self.ha.ha.cluster_address
        await self.listeners.also_serve(address if on and address else None)
        self.discovery.cluster_name = (lambda: self.ha.ha.cluster_name) if on else (
            lambda: None)
        self.discovery.announce()

    def _local_networks(self) -> list[str]:
        """The device's own subnets: where a blank admin password may be used from."""
        return [entry.network for entry in served(self.options.hosts)]

    # --- stop ----------------------------------------------------------------------------

    async def shutdown_services(self) -> None:
        """Close listeners, the control socket and the store (the panel stays)."""
        if hasattr(self, "backups"):
            self.backups.stop_daily()
        if hasattr(self, "hyper_backup"):
            await self.hyper_backup.close()  # runs end, their results stored
        if hasattr(self, "task_runner"):
            await self.task_runner.close()  # scripts stopped, their results stored
        if hasattr(self, "sampler"):
            await self.sampler.close()  # the history kept for the next boot
        for follower in (getattr(self, "notifier", None), getattr(self, "forwarder", None)):
            if follower is not None:  # the results just stored are sent, for a while
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(follower.drain(), FOLLOWERS_DRAIN)
                await follower.close()
        if self._control is not None:
            await self._control.stop()
            self._control = None
        if hasattr(self, "file_servers"):
            await self.file_servers.close()
        if hasattr(self, "web"):
            await self.web.storage.close()  # every encrypted share unmounted
        for cluster in (getattr(self, "ha", None), getattr(self, "vmm", None)):
            if cluster is not None:
                await cluster.close()
        if hasattr(self, "volume_watch"):
            await self.volume_watch.close()
        if hasattr(self, "web"):
            await self.web.storage.quotas.close()
        if hasattr(self, "receiver"):
            await self.receiver.close()
            await offload.run(self.receiver.received.close)
        if hasattr(self, "discovery"):
            self.discovery.stop_responders()
        if hasattr(self, "listeners"):
            await self.listeners.close()
        self.ports.clear()
        with contextlib.suppress(FileNotFoundError):
            self.data_dir.runtime_file.unlink()
        if self.store is not None:
            self.store.close()
            self.store = None

    async def stop(self) -> None:
        """Power off: the long beep of a shutdown, every service closed, LEDs off."""
        if self.store is None or self.store.get(HardwareSettings).beep_on_power_off:
            self.indicators.beep(self.clock(), "shutdown", kind=Beep.LONG)
        self.panel.close()
        if hasattr(self, "hyper_backup"):
            await self.hyper_backup.close()  # before waiting for the runs' tasks
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.shutdown_services()
        await self.bus.close()
        if hasattr(self, "discovery"):
            await self.discovery.close()  # withdraw the mDNS record
        self._lock.release()
        self.indicators.power_off()

    # --- views ---------------------------------------------------------------------------

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
        facts["reset"] = {"in_progress": self.resets.resetting, "last": self.resets.last,
                          "refused": self.resets.refused}
        serving = self.store is not None
        facts["ha"] = self.ha.status() if serving else None
        facts["vmm"] = self.vmm.status() if serving else None
        facts["file_services"] = self.file_service_status() if serving else None
        facts["encrypted_shares"] = self.web.storage.encryption_status() if serving else None
        facts["hyper_backup"] = self.hyper_backup.summary() if serving else None
        facts["certificate_fingerprint"] = self.fingerprint
        return facts

    def _runtime(self) -> bytes:
        """system/running.json: where this process listens (tests and tools read it)."""
        return json.dumps({"pid": os.getpid(), "hosts": self.options.hosts,
                           "ports": dict(self.ports), "urls": self.urls(),
                           "file_services": self.file_servers.ports(),
                           "certificate_fingerprint": self.fingerprint,
                           "started": self.clock()}).encode()
