"""How large a request body may be, decided from its head before any of it is read.

The endpoints a stranger may call (sign-in, API discovery, the DSM 7 handshake, install,
the pages' sign-in) take at most 64 KiB; any other form at most 1 MiB (a Web API client may
send its `_sid` in the body, so the session is checked once that much is read). Multipart is
accepted only on the upload endpoints, and only from a session named in the query or the
cookie: File Station's upload (streamed to disk, bounded by free space) and a configuration
backup (64 MiB). A declared length over the limit is refused at once and the connection
closed, so the body is never read; a chunked body is cut off where it crosses the limit
(aiohttp's `client_max_size`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from openstation.webapi import envelope

PUBLIC_BODY = 64 << 10
FORM_BODY = 1 << 20
BACKUP_BODY = 64 << 20
UNBOUNDED = 1 << 62  # a streamed upload: its handler bounds it

# Uploads, by the `api` of a Web API request's query string (where clients put it).
UPLOAD_APIS = {"SYNO.FileStation.Upload": UNBOUNDED, "SYNO.Core.ConfigBackup": BACKUP_BODY}
UPLOAD_PAGES = {"/panel/restore/preview": BACKUP_BODY}


def limit_for(request: web.Request, signed_in: bool, public: Callable[[web.Request], bool]
              ) -> int | None:
    """The largest body `request` may carry (None: its content type is refused here);
    `public`: whether its Web API endpoint needs no session."""
    api = request.path.startswith("/webapi/")
    if request.content_type == "multipart/form-data":
        if not signed_in:
            return None
        return UPLOAD_APIS.get(request.query.get("api", "")) if api else \
            UPLOAD_PAGES.get(request.path)
    if api:
        return PUBLIC_BODY if public(request) else FORM_BODY
    return FORM_BODY if signed_in else PUBLIC_BODY


def refusal(request: web.Request, why: str) -> web.Response:
    """A refused body, as the Web API answers (its envelope) or as a page does; the
    connection is closed rather than drained."""
    if request.path.startswith("/webapi/"):
        response = envelope.failure(envelope.INVALID_PARAMETER, errors={"reason": why})
    else:
        response = web.Response(status=413, text=why)
    response.force_close()
    return response


class BodyLimits:
    """The middleware applying `limit_for` (`signed_in`: the request's session is live)."""

    def __init__(self, signed_in: Callable[[web.Request], bool],
                 public: Callable[[web.Request], bool]) -> None:
        self.signed_in = signed_in
        self.public = public

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse
        if not request.body_exists:
            response = await handler(request)
            return response
        limit = limit_for(request, self.signed_in(request), self.public)
        if limit is None:
            return refusal(request, "multipart bodies are accepted only by the upload "
                                    "endpoints, from a signed-in session")
        if (request.content_length or 0) > limit:
            return refusal(request, f"the request body is over {limit} bytes")
        response = await handler(request.clone(client_max_size=limit))
        return response
