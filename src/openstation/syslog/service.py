"""Log Center > Log Sending: the syslog server the audit log goes to (checked, committed
with its audit entry, published)."""

from __future__ import annotations

import re
from typing import Any

from openstation.config.changes import SectionService
from openstation.config.sections import LogReceiving, LogSending, SyslogTransport

HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                  r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
                  r"|^\[?[0-9A-Fa-f:.]+\]?$")  # DNS labels of 1-63, or an address
FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


def fingerprint_of(text: str) -> str:
    """A SHA-256 fingerprint as given (hex, colons or spaces allowed), normalised."""
    return re.sub(r"[\s:]", "", text).lower()


def problems_of(settings: LogSending) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not isinstance(settings.enabled, bool):
        problems["enabled"] = "true or false"
    if not isinstance(settings.server, str) or \
            (settings.server and not HOST.match(settings.server)):
        problems["server"] = "a host name or an address"
    elif settings.enabled is True and not settings.server:
        problems["server"] = "needed to send logs"
    if not isinstance(settings.port, int) or isinstance(settings.port, bool) or \
            not 1 <= settings.port <= 65535:
        problems["port"] = "1 to 65535"
    if settings.tls_fingerprint and not FINGERPRINT.match(settings.tls_fingerprint):
        problems["tls_fingerprint"] = "the server certificate's SHA-256, in hex"
    return problems


class LogSendingService(SectionService[LogSending]):
    section, enums = LogSending, {"transport": SyslogTransport}

    def problems(self, settings: LogSending) -> dict[str, str]:
        return problems_of(settings)

    def set(self, actor: str, **changes: Any) -> LogSending:
        if isinstance(changes.get("tls_fingerprint"), str):
            changes["tls_fingerprint"] = fingerprint_of(changes["tls_fingerprint"])
        return super().set(actor, **changes)


def receiving_problems(settings: LogReceiving) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not isinstance(settings.enabled, bool):
        problems["enabled"] = "true or false"
    if not isinstance(settings.port, int) or isinstance(settings.port, bool) or \
            not 0 <= settings.port <= 65535:
        problems["port"] = "0 (any free port) to 65535"
    if settings.transport is SyslogTransport.TLS:
        problems["transport"] = "udp or tcp (receiving over TLS is not offered)"
    return problems


class LogReceivingService(SectionService[LogReceiving]):
    section, enums = LogReceiving, {"transport": SyslogTransport}

    def problems(self, settings: LogReceiving) -> dict[str, str]:
        return receiving_problems(settings)
