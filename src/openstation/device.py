"""One device: the store, lifecycle, panel and servers, wired together; start and stop."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from aiohttp import web

from openstation import catalog
from openstation.accounts.login import LoginService
from openstation.accounts.service import AccountService
from openstation.accounts.sessions import Sessions
from openstation.config.sections import General, Lifecycle, LoginSettings, Ports
from openstation.config.store import ConfigStore
from openstation.datadir import DataDir
from openstation.errors import PortInUseError
from openstation.files import write_atomic
from openstation.hardware import Hardware, load_or_create
from openstation.lifecycle.install import Installer
from openstation.lifecycle.state import DeviceState
from openstation.lifecycle.status import Status
from openstation.network.addresses import served
from openstation.panel.control import ControlServer
from openstation.panel.indicators import Beep, Indicators
from openstation.security.tls import ensure_certificate, server_context
from openstation.storage.service import StorageService
from openstation.storage.volume import volume_initialised
from openstation.webapi import auth, info, storage_info, system, users
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
    mdns: bool = True


def describe(hardware: Hardware, store: ConfigStore | None, status: Status,
             ports: dict[str, int] | None = None) -> dict[str, Any]:
    """The facts `openstation status` shows, for a running or a stopped device."""
    model = hardware.model
    configured = store.get(Ports) if store else Ports()
    server_name = (store.get(General).server_name if store
                   else model.line.default_server_name)
    return {
        "status": status.label,
        "status_code": status.code,
        "model": model.name,
        "product_line": model.line.value,
        "serial": hardware.serial,
        "mac": hardware.mac,
        "macs": list(hardware.macs),
        "server_name": server_name,
        "version": catalog.DEFAULT_VERSION.display,
        "http_port": configured.http,
        "https_port": configured.https,
        "listening": ports or {},
    }


def boot_status(data_dir: DataDir, store: ConfigStore) -> Status:
    """The lasting status the device comes up in."""
    return Status.from_persisted(store.get(Lifecycle).state)


def initial_state(data_dir: DataDir) -> str:
    """For a new config.db: a volume with a prior install means Configuration lost."""
    if volume_initialised(data_dir.volume_marker):
        return Status.CONFIGURATION_LOST.persisted
    return Status.NOT_INSTALLED.persisted


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
        self.registry = Registry()
        self.ports: dict[str, int] = {}
        self._runners: list[web.AppRunner] = []
        self._control: ControlServer | None = None
        self.store: ConfigStore
        self.hardware: Hardware

    # --- boot ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Boot: prepare storage, open the store, bind every listener, report Ready."""
        self.data_dir.prepare()
        self.hardware = load_or_create(self.data_dir.hardware_file, self.options.model)
        self.store = ConfigStore.open(self.data_dir.config_db, self.hardware, clock=self.clock,
                                      initial_state=initial_state(self.data_dir))
        try:
            await self._start_services()
        except BaseException:
            await self.stop(beep=False)
            raise

    async def _start_services(self) -> None:
        booted_at = self.clock()
        self.sessions = Sessions(
            self.clock, lambda: self.store.get(LoginSettings).session_timeout_minutes * 60.0)
        self.accounts = AccountService(self.store, on_signed_out=self.sessions.revoke_user)
        self.accounts.ensure_system_accounts()
        self.state.set(Status.STARTING_SERVICES)
        ensure_certificate(
            self.data_dir.tls_cert, self.data_dir.tls_key, self.store.get(General).server_name,
            self.options.hosts, dt.datetime.now(dt.UTC),
        )
        self.installer = Installer(self.store, self.data_dir, self.state)
        self.web = WebContext(
            store=self.store, hardware=self.hardware, data_dir=self.data_dir, state=self.state,
            clock=self.clock, sessions=self.sessions,
            login=LoginService(self.store, self.sessions, self.clock, self._local_networks),
            accounts=self.accounts, storage=StorageService(self.store, self.data_dir.volume),
            crypto=LoginCrypto(self.clock), booted_at=booted_at)
        info.register(self.registry)
        auth.register(self.registry, self.web)
        users.register(self.registry, self.web)
        system.register(self.registry, self.web, self.options.hosts)
        storage_info.register(self.registry, self.web)
        app = self._web_app()
        configured = self.store.get(Ports)
        http = self.options.http_port if self.options.http_port is not None else configured.http
        https = (self.options.https_port if self.options.https_port is not None
                 else configured.https)
        self.ports["http"] = await self._listen(app, http, None)
        self.ports["https"] = await self._listen(
            app, https, server_context(self.data_dir.tls_cert, self.data_dir.tls_key))
        self._control = ControlServer(self.data_dir.control_socket, self._control_routes())
        await self._control.start()
        self.state.set(boot_status(self.data_dir, self.store))
        self._write_runtime_file()
        self.indicators.beep(self.clock(), "boot complete")

    def _web_app(self) -> web.Application:
        app = web.Application(client_max_size=1 << 20)
        dispatcher = Dispatcher(self.registry, auth.make_authenticator(self.web),
                                self.web.crypto.decrypt)
        for path in ("query.cgi", "auth.cgi", "entry.cgi", "encryption.cgi"):
            app.router.add_route("*", f"/webapi/{path}", dispatcher.handle)
        app.router.add_route("*", "/webapi/entry.cgi/{api}", dispatcher.handle)
        app.router.add_post("/webman/install.cgi", install_handler(self.installer))
        app.router.add_get("/", self._home)
        return app

    async def _listen(self, app: web.Application, port: int, ssl: Any) -> int:
        """Serve `app` on `port` on every host; returns the bound port (for port 0)."""
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        self._runners.append(runner)
        bound = port
        for host in self.options.hosts:
            site = web.TCPSite(runner, host, bound, ssl_context=ssl, reuse_address=True)
            try:
                await site.start()
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise PortInUseError(f"port {port} on {host} is already in use") from None
                raise PortInUseError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
            if bound == 0:
                server = site._server
                assert server is not None
                bound = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return bound

    def _local_networks(self) -> list[str]:
        """The device's own subnets: where a blank admin password may be used from."""
        return [entry.network for entry in served(self.options.hosts)]

    # --- stop ----------------------------------------------------------------------------

    async def stop(self, beep: bool = True) -> None:
        """Close every listener and the store; the long beep of a shutdown."""
        if beep:
            self.indicators.beep(self.clock(), "shutdown", kind=Beep.LONG)
        if self._control is not None:
            await self._control.stop()
            self._control = None
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        with contextlib.suppress(FileNotFoundError):
            self.data_dir.runtime_file.unlink()
        if hasattr(self, "store"):
            self.store.close()
        self.indicators.power_off()

    # --- views ---------------------------------------------------------------------------

    def urls(self) -> list[str]:
        host = self.options.hosts[0]
        shown = "127.0.0.1" if host == "0.0.0.0" else host
        return [f"http://{shown}:{self.ports['http']}/", f"https://{shown}:{self.ports['https']}/"]

    def snapshot(self) -> dict[str, Any]:
        """Status, identity, LEDs and beeps: what `panel status` and `status` show."""
        facts = describe(self.hardware, self.store, self.state.status, self.ports)
        facts["running"] = True
        facts["pid"] = os.getpid()
        facts["panel"] = self.indicators.to_json()
        return facts

    def _write_runtime_file(self) -> None:
        body = {"pid": os.getpid(), "hosts": self.options.hosts, "ports": self.ports,
                "urls": self.urls(), "started": self.clock()}
        write_atomic(self.data_dir.runtime_file, json.dumps(body).encode(), mode=0o600)

    def _control_routes(self) -> list[tuple[str, str, Any]]:
        async def status(_request: web.Request) -> web.Response:
            return web.json_response(self.snapshot())

        return [("GET", "/status", status)]

    async def _home(self, _request: web.Request) -> web.Response:
        status = self.state.status
        name = self.store.get(General).server_name
        hint = ("Install it with: openstation install --url URL --server-name NAME "
                "--admin-user USER --password PW" if status.needs_install else "")
        body = (f"<!doctype html><title>{escape(name)}</title>"
                f"<h1>{escape(name)} ({escape(self.hardware.model.name)})</h1>"
                f"<p>Status: {escape(status.label)}</p><p>{escape(hint)}</p>")
        return web.Response(text=body, content_type="text/html")
