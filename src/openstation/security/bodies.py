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
from typing import Any, Protocol

from aiohttp import web

from openstation.accounts.sessions import Session
from openstation.backup import vault
from openstation.webapi import envelope


class Endpoints(Protocol):
    """What a request's head says about its Web API endpoint (the registry answers)."""

    def is_public(self, request: web.Request) -> bool: ...
    def admin_only(self, request: web.Request) -> bool: ...


PUBLIC_BODY = 64 << 10
FORM_BODY = 1 << 20
BACKUP_BODY = 64 << 20
UNBOUNDED = 1 << 62  # a streamed upload: its handler bounds it

# Uploads, by the `api` of a Web API request's query string (where clients put it).
UPLOAD_APIS = {"SYNO.FileStation.Upload": UNBOUNDED, "SYNO.Core.ConfigBackup": BACKUP_BODY,
               "SYNO.Core.Certificate": PUBLIC_BODY * 4}  # a PEM key, certificate, chain
UPLOAD_PAGES = {"/panel/restore/preview": BACKUP_BODY}


def limit_for(request: web.Request, session: Session | None, endpoints: Endpoints
              ) -> int | None:
    """The largest body `request` (of `session`, if any) may carry; None: its content
    type is refused here (an upload from a stranger, or to an administrators' endpoint
    from someone else)."""
    api = request.path.startswith("/webapi/")
    if request.path.startswith(vault.PREFIX):  # restic's objects; signed in first
        return vault.MAX_OBJECT
    if request.content_type == "multipart/form-data":
        if session is None:
            return None
        if not api:  # the upload pages are all administrators' pages
            return UPLOAD_PAGES.get(request.path) if session.administrator else None
        limit = UPLOAD_APIS.get(request.query.get("api", ""))
        if limit is not None and endpoints.admin_only(request) and not session.administrator:
            return None
        return limit
    if api:
        return PUBLIC_BODY if endpoints.is_public(request) else FORM_BODY
    return FORM_BODY if session is not None else PUBLIC_BODY


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

    def __init__(self, session: Callable[[web.Request], Session | None],
                 endpoints: Endpoints) -> None:
        self.session = session
        self.endpoints = endpoints

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse
        if not request.body_exists:
            response = await handler(request)
            return response
        limit = limit_for(request, self.session(request), self.endpoints)
        if limit is None:
            return refusal(request, "multipart bodies are accepted only by the upload "
                                    "endpoints, from a session allowed to use them")
        if (request.content_length or 0) > limit:
            return refusal(request, f"the request body is over {limit} bytes")
        response = await handler(request.clone(client_max_size=limit))
        return response
