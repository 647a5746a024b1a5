"""The device's web pages (server-rendered, Jinja2 with autoescape), one module per area of
DSM's Control Panel, each calling the same services as the Web API:

    signin.py    install wizard / sign in / sign out / the first strong password
    desktop.py   the desktop, Options > Personal, Log Center
    users.py     User, Group            network.py   Network
    security.py  Security               shares.py    Shared Folder
    file_services.py  File Services
    restore.py   Update & Restore       cluster_pages.py  High Availability (and VMM)

`kit.py` holds what they share, the CSRF middleware among it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from openstation.cluster.ha import HAService
from openstation.cluster.vmm import VMMService
from openstation.lifecycle.restore_engine import ConfigBackups
from openstation.network.service import NetworkService
from openstation.security.service import SecurityService
from openstation.ui.cluster_pages import add_cluster_routes
from openstation.ui.desktop import Desktop
from openstation.ui.file_services import FileServicesPages
from openstation.ui.files import FileStationPages
from openstation.ui.kit import PageKit, PortsChanger, pages_script
from openstation.ui.network import NetworkPages
from openstation.ui.restore import RestorePages
from openstation.ui.security import SecurityPages
from openstation.ui.shares import SharePages
from openstation.ui.signin import SignIn
from openstation.ui.storage_manager import StorageManagerPages
from openstation.ui.users import UserPages


def add_page_routes(app: web.Application, kit: PageKit, network: NetworkService,
                    security: SecurityService, backups: ConfigBackups, ha: HAService,
                    vmm: VMMService, change_ports: PortsChanger,
                    ports: Callable[[], dict[str, int]],
                    last_reset: Callable[[], dict[str, Any] | None],
                    fingerprint: Callable[[], str], file_services: FileServicesPages,
                    widgets: Callable[[], Awaitable[dict[str, Any]]]) -> None:
    """Every page of the device on `app` (whose middlewares include `kit.csrf`)."""
    for area in (SignIn(kit), Desktop(kit, last_reset, widgets), UserPages(kit),
                 NetworkPages(kit, network, change_ports), SecurityPages(kit, security, ports),
                 SharePages(kit, kit.ctx.storage), RestorePages(kit, backups),
                 FileStationPages(kit), StorageManagerPages(kit), file_services):
        area.routes(app)
    add_cluster_routes(kit, app, ha, vmm, lambda: ports().get("http", 0), fingerprint)
    app.router.add_get("/static/pages.js", pages_script)
