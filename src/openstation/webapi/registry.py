"""The API registry: name -> path, versions, request format and a handler per method.

`SYNO.API.Info query` answers from this table, so what a client is told exists and what
the dispatcher serves can never disagree.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from openstation.webapi.dispatch import ApiCall

PUBLIC_PATHS = frozenset({"/webapi/auth.cgi", "/webapi/query.cgi", "/webapi/encryption.cgi"})

# A handler returns the `data` of a success, or a whole response (cookies, files).
Handler = Callable[["ApiCall"], Awaitable[Any]]


@dataclass
class Api:
    """One API: where it is served, which versions, and its methods."""

    name: str
    path: str
    min_version: int
    max_version: int
    methods: dict[str, Handler] = field(default_factory=dict)
    request_format: str | None = None
    # Whether methods need a session; a method can be listed in `public` to opt out.
    needs_session: bool = True
    public: frozenset[str] = frozenset()
    # Methods that change state: they need the SynoToken when the login asked for one.
    changes: frozenset[str] = frozenset()
    # Methods only administrators may call (105 otherwise).
    admin: frozenset[str] = frozenset()
    # Methods a session that must first set a new password may still call.
    while_restricted: frozenset[str] = frozenset()

    def info(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"path": self.path, "minVersion": self.min_version,
                                 "maxVersion": self.max_version}
        if self.request_format:
            entry["requestFormat"] = self.request_format
        return entry


class Registry:
    """Every API the device serves."""

    def __init__(self) -> None:
        self._apis: dict[str, Api] = {}
        self.version = 0  # changes whenever the set of APIs does

    def add(self, api: Api) -> Api:
        self._apis[api.name] = api
        self.version += 1
        return api

    def get(self, name: str) -> Api | None:
        return self._apis.get(name)

    def query(self, query: str | None) -> dict[str, Any]:
        """SYNO.API.Info's answer for `query`: absent/all/ALL, a comma list, or prefixes."""
        if query is None or query.strip() in ("", "all", "ALL"):
            return {name: api.info() for name, api in sorted(self._apis.items())}
        wanted: dict[str, Any] = {}
        for term in (part.strip() for part in query.split(",")):
            if not term:
                continue
            if term in self._apis:
                wanted[term] = self._apis[term].info()
            elif term.endswith("."):
                for name, api in sorted(self._apis.items()):
                    if name.startswith(term):
                        wanted[name] = api.info()
        return wanted

    def is_public(self, request: web.Request) -> bool:
        """Whether a Web API request goes to an endpoint a stranger may call, by what its
        head says (auth.cgi, query.cgi, encryption.cgi, or the `api` and `method` of the
        query); unknown: not public."""
        if request.path in PUBLIC_PATHS:
            return True
        api = self._apis.get(request.match_info.get("api") or request.query.get("api", ""))
        if api is None:
            return False
        method = request.query.get("method")
        return not api.needs_session or (method is not None and method in api.public)

    def admin_only(self, request: web.Request) -> bool:
        """Whether a Web API request's method (from its head) is for administrators."""
        api = self._apis.get(request.match_info.get("api") or request.query.get("api", ""))
        return api is not None and request.query.get("method") in api.admin

    def names(self) -> Mapping[str, Api]:
        return self._apis
