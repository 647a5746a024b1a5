"""The virtual NAS's front panel page: LEDs, beeps (Web Audio) and a RESET button held with
the mouse or keyboard. It drives the same panel as `openstation panel`, and only from
loopback with the token `openstation panel open` prints (kept in system/, mode 0600; passed
in the URL's #fragment, which browsers never send, and then in a header)."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from openstation.errors import IllegalTransition
from openstation.files import write_atomic
from openstation.panel.driver import PanelDriver
from openstation.security.tokens import same_token
from openstation.ui.kit import page_headers

TOKEN_HEADER = "X-Panel-Token"


def load_or_create_token(path: Path) -> str:
    if not path.exists():
        write_atomic(path, secrets.token_urlsafe(24).encode(), mode=0o600)
    return path.read_text().strip()


async def press_or_release(panel: PanelDriver, request: web.Request) -> web.Response:
    """Press or release the RESET button as `{"action": "press"|"release"}` asks."""
    try:
        action = (await request.json()).get("action")
    except (ValueError, AttributeError):
        action = None
    try:
        if action == "press":
            panel.press()
        elif action == "release":
            panel.release()
        else:
            return web.json_response({"error": "action must be press or release"}, status=400)
    except IllegalTransition as exc:
        return web.json_response({"error": str(exc)}, status=409)
    return web.json_response(panel.view())


def add_front_routes(app: web.Application, token_file: Path, panel: PanelDriver,
                     snapshot: Callable[[], dict[str, Any]]) -> None:
    page = (Path(__file__).parent / "templates" / "front.html").read_text()

    def loopback(request: web.Request) -> bool:
        try:
            return ipaddress.ip_address(request.remote or "").is_loopback
        except ValueError:
            return False

    def authorised(request: web.Request) -> bool:
        token = token_file.read_text().strip() if token_file.exists() else ""
        given = request.headers.get(TOKEN_HEADER, "")
        return loopback(request) and same_token(given, token)

    async def front(request: web.Request) -> web.Response:
        if not loopback(request):
            raise web.HTTPNotFound()
        nonce = secrets.token_urlsafe(16)
        return web.Response(text=page.replace("{{ nonce }}", nonce), content_type="text/html",
                            headers=page_headers(nonce))

    async def state(request: web.Request) -> web.Response:
        if not authorised(request):
            return web.json_response({"error": "forbidden"}, status=403)
        return web.json_response(snapshot())

    async def button(request: web.Request) -> web.Response:
        if not authorised(request):
            return web.json_response({"error": "forbidden"}, status=403)
        return await press_or_release(panel, request)

    app.router.add_get("/front", front)
    app.router.add_get("/front/state", state)
    app.router.add_post("/front/button", button)
