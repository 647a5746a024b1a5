"""What the device says about itself on the network, kept current.

`Discovery` owns the findhost and SSDP responders and the mDNS advertiser, and builds the
facts they all answer with. It is an applier: a change of the server name, ports, network
or status (and an HA takeover) re-announces on mDNS; findhost and SSDP read the facts per
query. mDNS probing takes over a second, so it runs in the background and never holds boot.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web

from openstation import catalog
from openstation.config.sections import General, Network
from openstation.config.store import ConfigStore
from openstation.discovery.facts import DeviceFacts, ssdp_description
from openstation.discovery.mdns import MdnsAdvertiser
from openstation.discovery.responder import FindhostResponder
from openstation.discovery.ssdp import SsdpResponder
from openstation.events import ConfigChanged
from openstation.hardware import Hardware
from openstation.lifecycle.state import DeviceState
from openstation.lifecycle.status import Status
from openstation.network.addresses import primary

log = logging.getLogger(__name__)

SECTIONS = ("general", "ports", "network", "lifecycle", "ha_cluster")


class Discovery:
    """findhost, SSDP and mDNS for one device."""

    def __init__(self, hardware: Hardware, state: DeviceState, hosts: list[str],
                 ports: dict[str, int], spawn: Callable[[Coroutine[Any, Any, Any]], None],
                 mdns: bool = True) -> None:
        self.hardware = hardware
        self.state = state
        self.hosts = hosts
        self.ports = ports  # shared with the device: what it really listens on
        self.spawn = spawn
        self.mdns_wanted = mdns
        self.store: ConfigStore | None = None  # none while the system partition is rebuilt
        self.cluster_name: Callable[[], str | None] = lambda: None  # when HA serves
        self._findhost: FindhostResponder | None = None
        self._ssdp: SsdpResponder | None = None
        self._mdns: MdnsAdvertiser | None = None

    async def start(self, store: ConfigStore, findhost_port: int, ssdp_port: int,
                    allowed: Callable[[str], Callable[[str], bool]]) -> None:
        """Answer findhost and SSDP; start mDNS (once: it outlives a Mode 2 reboot)."""
        self.store = store
        self._findhost = FindhostResponder(self.hosts, findhost_port, self.facts,
                                           allowed=allowed("findhost"))
        await self._findhost.start()
        self.ports["findhost"] = self._findhost.port
        self._ssdp = SsdpResponder(self.hosts, ssdp_port, self.facts, allowed=allowed("ssdp"))
        await self._ssdp.start()
        self.ports["ssdp"] = self._ssdp.port
        if self.mdns_wanted and self._mdns is None:
            self._mdns = MdnsAdvertiser(self.hosts)
            self.spawn(self._start_mdns(self._mdns))

    def stop_responders(self) -> None:
        """Stop answering findhost and SSDP (shutdown, or a Mode 2 reboot)."""
        for responder in (self._findhost, self._ssdp):
            if responder is not None:
                responder.close()
        self._findhost = self._ssdp = None
        self.store = None

    async def close(self) -> None:
        """Withdraw the mDNS record (power off)."""
        if self._mdns is not None:
            await self._mdns.close()
            self._mdns = None

    def announce(self, _event: ConfigChanged | None = None) -> None:
        """Re-announce on mDNS if what it says changed (an applier; also on status)."""
        if self._mdns is None or self.store is None:
            return
        with contextlib.suppress(RuntimeError):  # no running loop: nothing to announce on
            self.spawn(self._mdns.update(self.facts))

    def facts(self) -> DeviceFacts:
        """What findhost, mDNS and SSDP say about this device now."""
        model = self.hardware.model
        version = catalog.DEFAULT_VERSION
        store = self.store
        network = store.get(Network) if store else Network.factory(self.hardware)
        eth0 = network.interfaces[0] if network.interfaces else None
        status = self.state.status
        name = (self.cluster_name() or
                (store.get(General).server_name if store else model.line.default_server_name))
        return DeviceFacts(
            server_name=name,
            model=model.name, product_line=model.line.value, unique_id=model.unique_id,
            serial=self.hardware.serial, short_serial=self.hardware.short_serial,
            macs=self.hardware.macs, version_short=version.short,
            version_major=version.major, version_minor=version.minor, build=version.build,
            update=version.update, http_port=self.ports.get("http", 0),
            https_port=self.ports.get("https", 0), status_code=status.code,
            status_label=status.label, installed=status is not Status.NOT_INSTALLED,
            dhcp=eth0.dhcp if eth0 else True,
            gateway=(eth0.gateway if eth0 and eth0.gateway else network.default_gateway),
            dns=tuple(network.dns))

    async def ssdp_description(self, _request: web.Request) -> web.Response:
        address = primary(self.hosts).address
        return web.Response(text=ssdp_description(self.facts(), address),
                            content_type="text/xml")

    async def _start_mdns(self, advertiser: MdnsAdvertiser) -> None:
        try:
            await advertiser.start(self.facts)
        except OSError as exc:
            log.warning("mDNS is off: %s", exc)
            if self._mdns is advertiser:
                self._mdns = None
