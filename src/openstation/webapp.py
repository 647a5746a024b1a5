"""The device's one aiohttp application: the Web API, the pages, install, the front panel,
Web Assistant search and SSDP's description, behind the firewall gate; served on both the
HTTP and the HTTPS listener (`listeners.py`).

Shared state lives on the application under typed keys; what a boot subscribed to the
event bus is unsubscribed by the application's cleanup context.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from openstation.accounts.sessions import Session
from openstation.backup import vault
from openstation.cluster.replication import REPLICATED
from openstation.config.sections import Lifecycle
from openstation.discovery import announcer
from openstation.discovery.ssdp import DESCRIPTION_PATH
from openstation.errors import PassiveServerError, SessionRefused
from openstation.events import EventBus
from openstation.filestation.station import Station
from openstation.panel.hardware_settings import HardwareSettingsService
from openstation.security import firewall, gate
from openstation.security.bodies import PUBLIC_BODY, BodyLimits
from openstation.ui.file_services import FileServicesPages
from openstation.ui.front import add_front_routes
from openstation.ui.hyper_backup import HyperBackupPages
from openstation.ui.kit import PageKit
from openstation.ui.monitor import MonitorPages
from openstation.ui.notifications import NotificationPages
from openstation.ui.pages import add_page_routes
from openstation.ui.sharing import SharingPages
from openstation.upgrade import UpgradeService
from openstation.webapi import (
    absent,
    advisor_api,
    assistant,
    auth,
    backup_api,
    certificates,
    cluster_api,
    config_backup,
    connections_api,
    desktop,
    fileserv_api,
    filestation,
    filestation_links,
    filestation_tasks,
    hardware_api,
    info,
    logs,
    monitor_api,
    network_info,
    notify_api,
    packages,
    permissions,
    scheduler_api,
    security_settings,
    settings_api,
    shares,
    storage_cgi,
    storage_info,
    system,
    upgrade_api,
    users,
)
from openstation.webapi.context import WebContext
from openstation.webapi.dispatch import Dispatcher
from openstation.webapi.install import install_handler
from openstation.webapi.registry import Registry

if TYPE_CHECKING:
    from openstation.device import Device

WEB = web.AppKey("web", WebContext)
REGISTRY = web.AppKey("registry", Registry)
BUS = web.AppKey("bus", EventBus)


def build(device: Device) -> web.Application:
    """The application of one boot of `device` (its services are up)."""
    kit = PageKit(device.web)
    station = Station.build(device.web.storage, device.web.clock)
    # Each request's body limit is set from its head by `BodyLimits` (security/bodies.py).
    registry = apis(device, station)
    app = web.Application(client_max_size=PUBLIC_BODY, middlewares=[
        device.connections.middleware, device.gate.middleware,
        BodyLimits(session_of(device.web), registry).middleware, kit.csrf,
        replicated(device)])
    app[WEB] = device.web
    app[REGISTRY] = registry
    app[BUS] = device.bus
    app.cleanup_ctx.append(appliers(device))
    app.on_cleanup.append(lambda _app: station.tasks.close())
    dispatcher = Dispatcher(registry, auth.make_authenticator(device.web),
                            device.web.crypto.decrypt)
    for path in ("query.cgi", "auth.cgi", "entry.cgi", "encryption.cgi"):
        app.router.add_route("*", f"/webapi/{path}", dispatcher.handle)
    app.router.add_route("*", "/webapi/entry.cgi/{api}", dispatcher.handle)
    app.router.add_post("/webman/install.cgi",
                        install_handler(device.installer, device.backups.restore_latest))
    add_page_routes(app, kit, device.network, device.security, device.backups, device.ha,
                    device.vmm, device.change_ports, lambda: dict(device.ports),
                    lambda: device.resets.last, lambda: device.fingerprint,
                    FileServicesPages(kit, device.file_servers.settings,
                                      device.file_service_status, device.settle),
                    device.desktop_widgets)
    SharingPages(kit, station).routes(app)
    HyperBackupPages(kit, device.hyper_backup).routes(app)
    add_front_routes(app, device.data_dir.panel_token, device.panel, device.snapshot)
    app.router.add_get(DESCRIPTION_PATH, device.discovery.ssdp_description)
    MonitorPages(kit, device.sampler).routes(app)
    NotificationPages(kit, device.centre).routes(app)
    app.router.add_route("*", vault.PREFIX + "{tail:.*}", device.vault.handle)
    assistant.add_search_routes(app, device.options.hosts)
    return app


def apis(device: Device, station: Station) -> Registry:
    """Every Web API of the device, as `SYNO.API.Info` lists them."""
    web_ctx, registry = device.web, Registry()
    info.register(registry)
    absent.register(registry)
    auth.register(registry, web_ctx)
    users.register(registry, web_ctx)
    system.register(registry, web_ctx, device.options.hosts)
    storage_info.register(registry, web_ctx)
    network_info.register(registry, web_ctx, device.options.hosts)
    storage_cgi.register(registry, web_ctx)
    upgrades = UpgradeService(web_ctx.store)
    upgrade_api.register(registry, upgrades)
    desktop.register(registry, web_ctx, web_ctx.accounts, device.notifier, upgrades)
    advisor_api.register(registry, web_ctx, web_ctx.accounts, upgrades,
                         lambda: dict(device.ports), lambda: device.data_dir.tls_cert)
    filestation.register(registry, station)
    filestation_tasks.register(registry, station)
    filestation_links.register(registry, station)
    shares.register(registry, web_ctx, web_ctx.storage, device.settle)
    permissions.register(registry, web_ctx.accounts, web_ctx.storage)
    logs.register(registry, web_ctx, device.log_sending, device.forwarder,
                  device.log_receiving, device.receiver, web_ctx.clock)
    config_backup.register(registry, web_ctx, device.backups.backup, device.backups.preview,
                           device.backups.restore)
    settings_api.register(registry, web_ctx, device.network, device.security,
                          device.change_ports, lambda: dict(device.ports))
    cluster_api.register(registry, device.ha, device.vmm, lambda: device.ports.get("http", 0))
    fileserv_api.register(registry, device.file_servers.settings,
                          device.file_service_status, device.settle)
    backup_api.register(registry, device.hyper_backup, device.vault)
    monitor_api.register(registry, web_ctx.store, device.resource_monitor, device.sampler)
    scheduler_api.register(registry, web_ctx, device.tasks, device.task_runner,
                           device.hyper_backup, device.backups.next_daily)
    notify_api.register(registry, device.notifications, device.notifier)
    hardware_api.register(registry, HardwareSettingsService(web_ctx.store),
                          lambda: web_ctx.hardware.model,
                          lambda why, count: device.indicators.beep(device.clock(), why, count))
    security_settings.register(registry, web_ctx, web_ctx.accounts,
                               lambda: firewall.services_at(device.ports),
                               device.options.limits)
    certificates.register(registry, device.certificates)
    connections_api.register(registry, device.sessions, device.file_servers.connections,
                             device.file_servers.kick, device.file_servers.open_files,
                             device.clock)
    packages.register(registry, device.file_servers.settings, device.hyper_backup.service,
                      device.file_service_status, device.settle,
                      lambda: web_ctx.store.get(Lifecycle).installed_at or 0.0,
                      lambda: device.state.status,
                      lambda section: web_ctx.store.audit_log(limit=100, section=section))
    return registry


def appliers(device: Device) -> Callable[[web.Application], AsyncIterator[None]]:
    """Subscribe this boot's appliers to the configuration's events, and unsubscribe them
    when the application is cleaned up (shutdown, Mode 2's reboot)."""

    async def subscribed(_app: web.Application) -> AsyncIterator[None]:
        bus = device.bus
        unsubscribe = [
            bus.subscribe(device.gate.reload, gate.SECTIONS, "firewall"),
            bus.subscribe(device.discovery.announce, announcer.SECTIONS, "announce"),
            bus.subscribe(device.listeners.follow, ("ports",), "listeners"),
            bus.subscribe(device.receiver.apply, ("log_receiving",), "log receiving"),
            bus.subscribe(device.volume_watch.check, ("notifications",), "volume watch"),
            bus.subscribe(device.ha.committed, REPLICATED, "high-availability"),
            bus.subscribe(device.web.storage.quotas.rescan, ("shares",), "quotas"),
        ]
        if device.options.file_services:
            unsubscribe += device.file_servers.subscribe(bus)
        yield
        for stop in unsubscribe:
            stop()

    return subscribed


def session_of(ctx: WebContext) -> Callable[[web.Request], Session | None]:
    """The live session a request's head names (`_sid` in its query, or the cookie)."""

    def session(request: web.Request) -> Session | None:
        sid = auth.request_sid(request)
        if not sid:
            return None
        try:
            return ctx.login.resume(sid, request.remote or "")
        except SessionRefused:
            return None

    return session


def replicated(device: Device) -> Any:
    """A request that changed something is answered once the HA passive has it too; a page
    that tried to change something on the passive says why it cannot."""

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
        except PassiveServerError as refused:
            return web.Response(text=str(refused), status=409)
        await device.ha.barrier()
        return response

    return middleware
