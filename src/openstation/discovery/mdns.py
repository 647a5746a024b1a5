"""mDNS / DNS-SD: the device advertises `_http._tcp.local.` with DSM's TXT keys, on the
interfaces it serves only; re-announced on change, withdrawn on shutdown."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

from openstation.discovery.facts import DeviceFacts, mdns_txt
from openstation.discovery.finder import HTTP_SERVICE
from openstation.network.addresses import served

log = logging.getLogger(__name__)


class MdnsAdvertiser:
    """One device's service record, kept current."""

    def __init__(self, hosts: list[str]) -> None:
        self.hosts = hosts
        self._zc: Any = None
        self._info: Any = None
        self._last: tuple[Any, ...] | None = None
        self._lock = asyncio.Lock()  # one re-announcement at a time, or names collide

    async def start(self, current: Callable[[], DeviceFacts]) -> None:
        """Probe and register (over a second); `current` is read when probing starts and
        again after it, so a change made meanwhile is announced too."""
        from zeroconf import IPVersion
        from zeroconf.asyncio import AsyncZeroconf

        async with self._lock:
            interfaces: Any = [entry.address for entry in served(self.hosts)]
            self._zc = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
            facts = current()
            self._info = self._service(facts)
            try:
                await self._zc.async_register_service(self._info, allow_name_change=True)
            except BaseException:
                await self._zc.async_close()
                self._zc = None
                raise
            self._last = self._key(facts)
        await self.update(current)

    async def update(self, current: Callable[[], DeviceFacts]) -> None:
        """Re-announce when the name, ports or status changed (read when our turn comes)."""
        async with self._lock:
            facts = current()
            if self._zc is None or self._key(facts) == self._last:
                return
            new = self._service(facts)
            if new.name != self._info.name:
                await self._zc.async_unregister_service(self._info)
                await self._zc.async_register_service(new, allow_name_change=True)
            else:
                await self._zc.async_update_service(new)
            self._info, self._last = new, self._key(facts)

    async def close(self) -> None:
        if self._zc is None:
            return
        try:
            await self._zc.async_unregister_all_services()
        finally:
            await self._zc.async_close()
            self._zc = None

    def _key(self, facts: DeviceFacts) -> tuple[Any, ...]:
        return (facts.server_name, facts.http_port, facts.https_port, facts.status_label)

    def _service(self, facts: DeviceFacts) -> Any:
        from zeroconf.asyncio import AsyncServiceInfo

        addresses = [socket.inet_aton(entry.address) for entry in served(self.hosts)]
        return AsyncServiceInfo(
            HTTP_SERVICE, f"{facts.server_name}.{HTTP_SERVICE}", port=facts.http_port,
            properties=mdns_txt(facts), addresses=addresses,
            server=f"{facts.server_name}.local.")
