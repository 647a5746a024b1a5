"""Web Assistant: DSM's `/webman/search.cgi` + `search_result.cgi` on every device, and the
local assistant page of `openstation assistant` that lists the devices found."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from aiohttp import web

from openstation.discovery.finder import Found, find, merge
from openstation.errors import UserInputError
from openstation.network.addresses import served

MAX_SEARCHES = 16
SEARCH_SECONDS = 2.0


async def search_interfaces(interfaces: list[str], targets: list[str],
                            timeout: float = SEARCH_SECONDS) -> list[Found]:
    """findhost on each interface (broadcast) and each target (unicast), merged."""
    jobs = [find(timeout, interface=name, mdns=False) for name in interfaces]
    jobs += [find(timeout, target=target, mdns=False) for target in targets]
    found: list[Found] = []
    for result in await asyncio.gather(*jobs, return_exceptions=True):
        if isinstance(result, list):
            found += result
    return merge(found)


def add_search_routes(app: web.Application, hosts: list[str]) -> None:
    """The two endpoints find.synology.com asks a NAS on the LAN to serve."""
    searches: dict[str, asyncio.Task[list[Found]]] = {}

    async def search(_request: web.Request) -> web.Response:
        while len(searches) >= MAX_SEARCHES:
            searches.pop(next(iter(searches))).cancel()
        search_id = secrets.token_hex(8)
        interfaces = sorted({e.interface for e in served(hosts) if e.broadcast})
        searches[search_id] = asyncio.get_running_loop().create_task(
            search_interfaces(interfaces, []))
        return web.json_response({"success": True, "data": {"search_id": search_id}})

    async def result(request: web.Request) -> web.Response:
        task = searches.get(request.query.get("search_id", ""))
        if task is None:
            return web.json_response({"success": False, "error": {"code": 120}})
        devices = [f.to_json() for f in task.result()] if task.done() and \
            not task.cancelled() and task.exception() is None else []
        return web.json_response({"success": True,
                                  "data": {"done": task.done(), "devices": devices}})

    app.router.add_get("/webman/search.cgi", search)
    app.router.add_get("/webman/search_result.cgi", result)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>openstation Web Assistant</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#223}
table{border-collapse:collapse;min-width:40rem}td,th{padding:.4rem .8rem;text-align:left;
border-bottom:1px solid #ddd}.badge{padding:.15rem .5rem;border-radius:.6rem;color:#fff;
font-size:.85rem}.Ready{background:#2a8a3a}.lost,.Not{background:#d9822b}
.other{background:#667}#state{color:#667}
</style></head><body>
<h1>Web Assistant</h1>
<p id="state">Searching for Synology NAS and openstation devices on your network…</p>
<table><thead><tr><th>Server name</th><th>IP address</th><th>MAC address</th><th>Model</th>
<th>DSM version</th><th>Status</th><th></th></tr></thead><tbody id="devices"></tbody></table>
<script>
function cell(row, text) { const td = document.createElement("td"); td.textContent = text;
  row.appendChild(td); return td; }
async function refresh() {
  let devices = [];
  try { devices = await (await fetch("devices.json", {cache: "no-store"})).json(); }
  catch (e) { document.getElementById("state").textContent = "Search failed: " + e; return; }
  const body = document.getElementById("devices"); body.replaceChildren();
  for (const d of devices) {
    const row = document.createElement("tr");
    for (const text of [d.name, d.ip, d.mac, d.model, d.version]) cell(row, text);
    const badge = document.createElement("span"); badge.textContent = d.status;
    badge.className = "badge " + (d.status === "Ready" ? "Ready" :
      d.status === "Configuration lost" ? "lost" : d.status === "Not installed" ? "Not" : "other");
    cell(row, "").appendChild(badge);
    const link = document.createElement("a");
    link.href = "http://" + d.ip + ":" + (d.http_port || 5000) + "/";
    link.textContent = d.status === "Ready" ? "Sign in" :
      d.status === "Configuration lost" ? "Reinstall" :
      d.status === "Not installed" ? "Install" : "Open";
    cell(row, "").appendChild(link);
    body.appendChild(row);
  }
  document.getElementById("state").textContent = devices.length ?
    devices.length + " device(s) found; refreshing every 5 seconds." :
    "No device found yet; still looking.";
}
refresh(); setInterval(refresh, 5000);
</script></body></html>
"""


def assistant_app(targets: list[str], interfaces: list[str] | None, mdns: bool) -> web.Application:
    """The page and its JSON feed."""
    app = web.Application()

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def devices(_request: web.Request) -> web.Response:
        found: list[Found] = []
        if targets:
            found = await search_interfaces([], targets)
        else:
            try:
                found = await find(SEARCH_SECONDS,
                                   interface=interfaces[0] if interfaces else None, mdns=mdns)
            except UserInputError:
                found = []
        return web.json_response([f.to_json() for f in found])

    app.router.add_get("/", page)
    app.router.add_get("/devices.json", devices)
    return app


async def serve_assistant(port: int, targets: list[str], interface: str | None,
                          mdns: bool, stop: asyncio.Event) -> Any:
    """Serve the Web Assistant on loopback until `stop` is set."""
    runner = web.AppRunner(assistant_app(targets, [interface] if interface else None, mdns),
                           access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        from openstation.errors import PortInUseError

        raise PortInUseError(f"port {port} on 127.0.0.1: {exc.strerror}") from None
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
