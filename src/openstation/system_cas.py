"""The system's CA certificates as a client TLS context: loaded once (about 25 ms of CPU)
and off the loop; shared by everything that checks a server by them (mail, syslog)."""

from __future__ import annotations

import ssl

from openstation import offload

_context: ssl.SSLContext | None = None


async def tls_context() -> ssl.SSLContext:
    global _context
    if _context is None:
        _context = await offload.run(ssl.create_default_context)
    return _context
