"""The log-sending applier: every audit entry, as an RFC 5424 message, to the syslog server
Log Center names — over UDP (one datagram each), TCP, or TLS (octet-counted frames, RFC
6587/5425). A TLS server is checked against the system's CAs, or pinned by the SHA-256 of
its certificate. A server that cannot be reached is retried with a growing pause (at most
30 s); what waits meanwhile is bounded (audit_follower.py), and the state is reported."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openstation import system_cas
from openstation.audit_follower import AuditFollower
from openstation.config.sections import General, LogSending, SyslogTransport
from openstation.config.store import AuditEntry, ConfigStore
from openstation.syslog import rfc5424

CONNECT_TIMEOUT = 10.0
MAX_PAUSE = 30.0


@dataclass
class Link:
    """One open way to the server, for the settings it was opened with."""

    key: tuple[str, int, str, str]
    datagrams: asyncio.DatagramTransport | None = None
    writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.datagrams is not None:
            self.datagrams.close()
        if self.writer is not None:
            self.writer.close()


class Forwarder(AuditFollower):
    name = "log sending"

    def __init__(self, store: ConfigStore, level_of: Callable[[AuditEntry], str],
                 describe: Callable[[AuditEntry], str]) -> None:
        super().__init__(store)
        self.level_of = level_of
        self.describe = describe
        self.sent = 0
        self.last_error = ""
        self._link: Link | None = None

    def wants(self, entry: AuditEntry) -> bool:
        # (The settings as just committed: the entry that switches sending off is not sent.)
        return bool(self.store.get(LogSending).enabled)

    def status(self) -> dict[str, Any]:
        return {"connected": self._link is not None, "sent": self.sent,
                "dropped": self.dropped, "last_error": self.last_error}

    async def close(self) -> None:
        await super().close()
        self._drop_link()

    async def handle(self, entry: AuditEntry) -> None:
        hostname = self.store.get(General).server_name or "openstation"
        msg = rfc5424.message(entry, hostname, self.level_of(entry), self.describe(entry))
        pause = 1.0
        while True:
            settings = self.store.get(LogSending)
            if not settings.enabled or not settings.server:
                self._drop_link()
                return
            try:
                await self._send(settings, msg)
            except (OSError, ssl.SSLError, TimeoutError, ConnectionError, ValueError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"[:300]
                self._drop_link()
                await asyncio.sleep(pause)
                pause = min(MAX_PAUSE, pause * 2)
                continue
            self.sent += 1
            self.last_error = ""
            return

    async def _send(self, settings: LogSending, msg: bytes) -> None:
        key = (settings.server, settings.port, settings.transport.value,
               settings.tls_fingerprint)
        if self._link is None or self._link.key != key:
            self._drop_link()
            self._link = await self._open(settings, key)
        link = self._link
        if link.datagrams is not None:
            link.datagrams.sendto(msg)
            return
        assert link.writer is not None
        if link.writer.is_closing():
            raise ConnectionError("the server closed the connection")
        link.writer.write(rfc5424.framed(msg))
        await asyncio.wait_for(link.writer.drain(), CONNECT_TIMEOUT)

    async def _open(self, settings: LogSending, key: tuple[str, int, str, str]) -> Link:
        host = settings.server.strip("[]")
        if settings.transport is SyslogTransport.UDP:
            transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                asyncio.DatagramProtocol, remote_addr=(host, settings.port))
            return Link(key, datagrams=transport)
        context = None
        if settings.transport is SyslogTransport.TLS and settings.tls_fingerprint:
            # pinned: the fingerprint is the trust (no CA store to load)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif settings.transport is SyslogTransport.TLS:
            context = await system_cas.tls_context()  # the system's CAs: loaded off the loop
        _, writer = await asyncio.wait_for(asyncio.open_connection(
            host, settings.port, ssl=context,
            server_hostname=host if context is not None else None), CONNECT_TIMEOUT)
        if context is not None and settings.tls_fingerprint:
            tls = writer.get_extra_info("ssl_object")
            der = tls.getpeercert(binary_form=True) if tls is not None else None
            if der is None or hashlib.sha256(der).hexdigest() != settings.tls_fingerprint:
                writer.close()
                raise ssl.SSLError("the server's certificate is not the pinned one")
        return Link(key, writer=writer)

    def _drop_link(self) -> None:
        if self._link is not None:
            with contextlib.suppress(Exception):
                self._link.close()
            self._link = None
