"""Control Panel > High Availability and Virtual Machine Manager: the pair's status,
create, switchover and remove; the VMM cluster's members with create, join and leave."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from openstation.accounts.sessions import Session
from openstation.cluster.ha import HAService
from openstation.cluster.vmm import VMMService
from openstation.errors import OpenStationError
from openstation.ui.kit import PageKit, problems


def add_cluster_routes(pages: PageKit, app: web.Application, ha: HAService, vmm: VMMService,
                       http_port: Callable[[], int], fingerprint: Callable[[], str]) -> None:
    async def page(request: web.Request, session: Session,
                   messages: list[tuple[str, str]] | None = None) -> web.Response:
        return pages.render("clusters.html", request, session, messages,
                            title="High Availability", ha=ha.status(), vmm=vmm.status(),
                            fingerprint=fingerprint())

    def action(change: Callable[[Any], Awaitable[Any]], done: str
               ) -> Callable[[web.Request, Session], Awaitable[web.Response]]:
        async def handler(request: web.Request, session: Session) -> web.Response:
            form = await request.post()
            try:
                await change({**form, "actor": session.user})
            except OpenStationError as exc:
                return await page(request, session, problems(exc))
            except ValueError:
                return await page(request, session, [("error", "A number is expected.")])
            return await page(request, session, [("ok", done)])
        return handler

    def text(form: Any, name: str) -> str:
        return str(form.get(name, "")).strip()

    async def create(f: Any) -> Any:
        return await ha.create(
            f["actor"], text(f, "peer"), text(f, "peer_user"), str(f.get("peer_password", "")),
            text(f, "cluster_name"), text(f, "cluster_address"), text(f, "quorum"),
            float(text(f, "heartbeat") or 1), float(text(f, "failover") or 5),
            peer_fingerprint=text(f, "peer_fingerprint"))

    get, post = app.router.add_get, app.router.add_post
    get("/panel/ha", pages.admin(page))
    post("/panel/ha/create", pages.admin(action(create, "The cluster is created.")))
    post("/panel/ha/switchover", pages.admin(action(
        lambda f: ha.switchover(f["actor"]), "Switched over: this server is passive now.")))
    post("/panel/ha/remove", pages.admin(action(
        lambda f: ha.remove(f["actor"]), "The cluster is removed; both servers keep their data.")))
    post("/panel/vmm/create", pages.admin(action(
        lambda f: vmm.create(f["actor"], text(f, "cluster_name")), "The VMM cluster is created.")))
    post("/panel/vmm/join", pages.admin(action(
        lambda f: vmm.join(f["actor"], text(f, "peer"), text(f, "peer_user"),
                           str(f.get("peer_password", "")), http_port(),
                           peer_fingerprint=text(f, "peer_fingerprint")),
        "Joined the VMM cluster.")))
    post("/panel/vmm/leave", pages.admin(action(
        lambda f: vmm.leave(f["actor"]), "Left the VMM cluster.")))
