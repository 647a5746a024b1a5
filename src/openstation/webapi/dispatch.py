"""Routes a Web API request to its handler and shapes every outcome as DSM's envelope.

No exception leaves this module as an HTTP 500: known errors become their DSM codes,
anything else is logged and answered with code 100.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

from openstation.errors import (
    ApiError,
    ConflictError,
    NotFoundError,
    OpenStationError,
    PassiveServerError,
    UserInputError,
    ValidationError,
)
from openstation.webapi import envelope
from openstation.webapi.registry import Api, Registry

log = logging.getLogger(__name__)
N = TypeVar("N", int, float)

STREAMED_APIS = frozenset({"SYNO.FileStation.Upload"})


@dataclass
class ApiCall:
    """One parsed Web API call."""

    api: Api
    method: str
    version: int
    params: dict[str, str]
    request: web.Request
    session: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def param(self, name: str, default: str | None = None) -> str:
        """A required (or defaulted) parameter; missing → 114."""
        value = self.params.get(name, default)
        if value is None:
            raise ApiError(envelope.MISSING_PARAMETER)
        return value

    def json_param(self, name: str, default: Any = None) -> Any:
        """A parameter DSM sends as JSON (e.g. additional=["email"]); broken JSON → 120."""
        raw = self.params.get(name)
        if raw is None:
            return default
        try:
            return json.loads(raw)
        except ValueError:
            # DSM also accepts a bare word where a JSON string is expected.
            if raw and raw[0] not in "[{\"":
                return raw
            raise ApiError(envelope.INVALID_PARAMETER) from None

    def bool_param(self, name: str) -> bool | None:
        """A true/false parameter (true/false, 1/0, yes/no); absent → None, other → 120."""
        raw = self.params.get(name)
        if raw is None:
            return None
        lowered = raw.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ApiError(envelope.INVALID_PARAMETER, errors={name: "is not a boolean"})

    def optional_int(self, name: str) -> int | None:
        """An integer parameter, None when absent (its range is the service's to check);
        not an integer → 120."""
        return self._number(name, int)

    def float_param(self, name: str, default: float) -> float:
        """A number parameter (`default` when absent or empty); not a number → 120."""
        value = self._number(name, float)
        return default if value is None else value

    def _number(self, name: str, kind: Callable[[str], N]) -> N | None:
        raw = self.params.get(name)
        if raw is None or raw == "":
            return None
        try:
            return kind(raw)
        except ValueError:
            raise ApiError(envelope.INVALID_PARAMETER, errors={name: "is not a number"}
                           ) from None

    def int_param(self, name: str, default: int | None = None, *, low: int = 0,
                  high: int = 2**31 - 1) -> int:
        raw = self.params.get(name)
        if raw is None:
            if default is None:
                raise ApiError(envelope.MISSING_PARAMETER)
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(envelope.INVALID_PARAMETER) from None
        if not low <= value <= high:
            raise ApiError(envelope.INVALID_PARAMETER)
        return value


Authenticator = Callable[[ApiCall], Awaitable[None]]


def error_code(exc: OpenStationError) -> tuple[int, dict[str, Any]]:
    """The DSM code (and extra fields) for a domain error: the one place this mapping lives."""
    if isinstance(exc, PassiveServerError):
        return envelope.NO_PERMISSION, {"errors": {"reason": str(exc)}}
    if isinstance(exc, ValidationError):
        return envelope.INVALID_PARAMETER, {"errors": exc.problems}
    if isinstance(exc, NotFoundError | ConflictError | UserInputError):
        return envelope.INVALID_PARAMETER, {"errors": {"reason": str(exc)}}
    return envelope.UNKNOWN, {"errors": {"reason": str(exc)}}  # e.g. busy: try again


# APIs whose clients upload small text files (a PEM certificate and key), read as text;
# the certificate service refuses what is over its own limit.
TEXT_FILE_APIS = frozenset({"SYNO.Core.Certificate"})
TEXT_FILE_LIMIT = 64 << 10


async def read_params(request: web.Request) -> dict[str, str]:
    """Parameters from the query string and a form body (the body wins on a clash)."""
    params = _joined(request.query.items())
    if params.get("api") in STREAMED_APIS:
        return params  # their handlers stream the body themselves
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded", "multipart/form-data"
    ):
        try:  # its size was bounded by the body limits (security/bodies.py)
            form = await request.post()
        except (ValueError, UnicodeDecodeError, AssertionError, RuntimeError,
                web.HTTPBadRequest, BadHttpMessage):  # a malformed multipart body
            raise ApiError(envelope.INVALID_PARAMETER) from None
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(envelope.INVALID_PARAMETER,
                           errors={"reason": "the request body is too large"}) from None
        params.update(_joined((k, v) for k, v in form.items() if isinstance(v, str)))
        if params.get("api") in TEXT_FILE_APIS:  # small uploaded files given as text
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    try:
                        params[key] = value.file.read(TEXT_FILE_LIMIT + 1).decode()
                    except UnicodeDecodeError:
                        raise ApiError(envelope.INVALID_PARAMETER,
                                       errors={key: "not text"}) from None
    return params


def _joined(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Parameters by name; a repeated one (`additional=size&additional=owner`, as some
    clients send lists) becomes DSM's comma list."""
    params: dict[str, str] = {}
    for key, value in items:
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


class Dispatcher:
    """The aiohttp handler behind query.cgi, auth.cgi, entry.cgi and friends."""

    def __init__(self, registry: Registry, authenticate: Authenticator | None = None,
                 decrypt: Callable[[dict[str, str]], Awaitable[dict[str, str]]] | None = None
                 ) -> None:
        self.registry = registry
        self.authenticate = authenticate
        self.decrypt = decrypt  # DSM 7's encrypted login fields

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            call = await self._parse(request)
            if call.api.needs_session and call.method not in call.api.public:
                if self.authenticate is None:
                    raise ApiError(envelope.SID_NOT_FOUND)
                await self.authenticate(call)
            result = await call.api.methods[call.method](call)
        except ApiError as exc:
            return envelope.failure(exc.code, **exc.extra)
        except OpenStationError as exc:
            code, extra = error_code(exc)
            return envelope.failure(code, **extra)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("Web API call failed")
            return envelope.failure(envelope.UNKNOWN)
        if isinstance(result, web.StreamResponse):
            return result
        return envelope.success(result)

    async def _parse(self, request: web.Request) -> ApiCall:
        params = await read_params(request)
        if self.decrypt is not None:
            params = await self.decrypt(params)
        name = request.match_info.get("api") or params.get("api")
        method, version_text = params.get("method"), params.get("version")
        if not name or not method or not version_text:
            raise ApiError(envelope.NO_API_METHOD_VERSION)
        api = self.registry.get(name)
        if api is None:
            raise ApiError(envelope.API_NOT_FOUND)
        if method not in api.methods:
            raise ApiError(envelope.METHOD_NOT_FOUND)
        try:
            version = int(version_text)
        except ValueError:
            raise ApiError(envelope.VERSION_NOT_SUPPORTED) from None
        if not api.min_version <= version <= api.max_version:
            raise ApiError(envelope.VERSION_NOT_SUPPORTED)
        return ApiCall(api, method, version, params, request)


def dsm_time(epoch: float) -> str:
    """A time as DSM writes it in its answers: "2026/12/05 03:00:00", local ("" for never)."""
    import time

    return time.strftime("%Y/%m/%d %H:%M:%S", time.localtime(epoch)) if epoch else ""
