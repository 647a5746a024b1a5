"""How cluster nodes talk: the peer's public Web API (to bind or join, with an
administrator's credentials) and, between the two servers of a pair, mutual TLS pinned to
the certificates they exchanged when the pair was made."""

from __future__ import annotations

import contextlib
import json
import ssl
from pathlib import Path
from typing import Any

import aiohttp

from openstation.errors import PeerError, ValidationError
from openstation.security.tls import fingerprint_bytes


def server_context(cert: Path, key: Path, peer_pem: str) -> ssl.SSLContext:
    """Serve our certificate; accept only a client presenting the peer's (none while
    `peer_pem` is empty: the peer's certificate is added when the binding answers)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.verify_mode = ssl.CERT_REQUIRED
    if peer_pem:
        context.load_verify_locations(cadata=peer_pem)
    return context


def client_context(cert: Path, key: Path, peer_pem: str) -> ssl.SSLContext:
    """Present our certificate; accept only a server presenting the peer's (pinned, so the
    name in it does not matter)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.load_cert_chain(cert, key)
    context.load_verify_locations(cadata=peer_pem)
    return context


class PeerLink:
    """Requests to the peer's cluster port over mutual TLS."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext) -> None:
        self.base = f"https://{host}:{port}"
        self._context = context
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._context, limit=4))
        return self._session

    async def post(self, path: str, body: dict[str, Any], timeout: float = 5) -> Any:
        return await self._request("POST", path, aiohttp.ClientTimeout(
            total=timeout, sock_connect=min(timeout, 2)), json=body)

    async def put_file(self, path: str, source: Path, headers: dict[str, str],
                       timeout: float = 600) -> Any:
        async def body() -> Any:
            with open(source, "rb") as handle:
                while block := handle.read(1 << 20):
                    yield block

        return await self._request("PUT", path, aiohttp.ClientTimeout(
            total=timeout, sock_connect=2, sock_read=30), data=body(), headers=headers)

    async def _request(self, method: str, path: str, timeout: aiohttp.ClientTimeout,
                       **options: Any) -> Any:
        """The peer's JSON answer; any failure, or a refusal, is a PeerError."""
        try:
            async with self._client().request(method, f"{self.base}{path}", timeout=timeout,
                                               **options) as response:
                answer = await response.json(content_type=None)
                if response.status != 200:
                    raise PeerError(str(answer.get("error", response.status)))
                return answer
        except (aiohttp.ClientError, TimeoutError, ssl.SSLError, OSError) as exc:
            # Drop the pooled connections: after a partition they may be half open, and a
            # long request (a resync) would wait on one until its timeout. Requests still
            # in flight on them fail now, as they would have anyway.
            await self.close()
            raise PeerError(f"peer unreachable ({type(exc).__name__}: {exc})") from None
        except ValueError as exc:
            raise PeerError(f"peer unreachable ({type(exc).__name__}: {exc})") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class WebApiClient:
    """A peer's DSM Web API, as any client would call it. Its certificate is self-signed, so
    it is pinned to the SHA-256 fingerprint the administrator gives (`openstation status` and
    the peer's High Availability page show it); an administrator's credentials are sent only
    over HTTPS to a certificate with that fingerprint, never to whoever answers."""

    def __init__(self, base_url: str, timeout: float = 10, fingerprint: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.sid: str | None = None
        self.pinned = fingerprint_bytes(fingerprint) if fingerprint else None
        if fingerprint and self.pinned is None:
            raise PeerError("the peer's certificate fingerprint is 64 hex digits (SHA-256)")

    def _tls(self) -> aiohttp.Fingerprint | bool:
        return aiohttp.Fingerprint(self.pinned) if self.pinned is not None else False

    async def call(self, api: str, method: str, version: int = 1, **params: str) -> Any:
        query = {"api": api, "method": method, "version": str(version), **params}
        if self.sid:
            query["_sid"] = self.sid
        try:
            async with aiohttp.ClientSession() as session, session.post(
                    f"{self.base_url}/webapi/entry.cgi", data=query, ssl=self._tls(),
                    timeout=aiohttp.ClientTimeout(total=self.timeout)) as response:
                answer = json.loads(await response.read())
        except aiohttp.ServerFingerprintMismatch:
            raise PeerError(f"{self.base_url} presented a certificate with another "
                            "fingerprint than the one given: not sending anything to it "
                            "(someone in the middle, or the wrong fingerprint)") from None
        except (TimeoutError, aiohttp.ClientError, ValueError, OSError) as exc:
            raise PeerError(f"no DSM Web API answers at {self.base_url} "
                            f"({type(exc).__name__})") from None
        if not isinstance(answer, dict):
            raise PeerError(f"{self.base_url} answered something that is not DSM")
        if not answer.get("success"):
            error = answer.get("error") or {}
            raise PeerError(_reason(api, error))
        return answer.get("data")

    async def login(self, user: str, password: str) -> None:
        if self.pinned is None or not self.base_url.startswith("https://"):
            raise PeerError("an administrator's password is sent only over HTTPS to the "
                            "peer's certificate: give its https:// address and its SHA-256 "
                            "fingerprint (shown by `openstation status` on the peer)")
        data = await self.call("SYNO.API.Auth", "login", 6, account=user, passwd=password,
                               session="cluster", format="sid")
        if not isinstance(data, dict) or "sid" not in data:
            raise PeerError(f"{self.base_url} signed in without a session id")
        self.sid = str(data["sid"])

    async def logout(self) -> None:
        if self.sid:
            with contextlib.suppress(PeerError):
                await self.call("SYNO.API.Auth", "logout", 6, session="cluster")
            self.sid = None


def pinned_client(url: str, fingerprint: str) -> WebApiClient:
    """A client for pairing with the device at `url`; a malformed fingerprint is refused."""
    try:
        return WebApiClient(url, fingerprint=fingerprint)
    except PeerError as exc:
        raise ValidationError({"peer_fingerprint": str(exc)}) from None


def _reason(api: str, error: dict[str, Any]) -> str:
    code = error.get("code")
    detail = (error.get("errors") or {}).get("reason") if isinstance(
        error.get("errors"), dict) else None
    if api == "SYNO.API.Auth" and detail:
        return f"the peer refused the login: {detail}"
    if detail:
        return str(detail)
    if api == "SYNO.API.Auth" and code in (400, 401, 402, 407, 408, 409, 410):
        names = {400: "wrong account or password", 401: "the account is disabled",
                 402: "permission denied", 407: "the address is blocked",
                 408: "the password has expired", 409: "the password must be changed",
                 410: "the password must be changed"}
        return f"the peer refused the credentials: {names[code]}"
    if api == "SYNO.API.Auth" and code in (403, 404, 406):
        return "the peer asks for a 2-step verification code; use an account without it"
    if code == 105:
        return "the peer's account is not an administrator"
    if code in (102, 103):
        return f"the peer does not offer {api} (is it an openstation device?)"
    return f"the peer answered DSM error {code}"
