"""The network service: Control Panel > Network (general, interfaces, PPPoE, DSM ports).

With the `virtual` backend the settings are recorded and reported, not applied to the host;
a `linux` backend (NetworkManager) will implement the same `NetworkBackend` seam.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from openstation.config.sections import FileServices, General, Network, Ports, PPPoE
from openstation.config.store import ConfigStore
from openstation.errors import ValidationError
from openstation.lifecycle.install import server_name_problem
from openstation.network.validate import network_problems, ports_problems, pppoe_problems
from openstation.security.machine_key import PPPOE, MachineKey


class NetworkBackend(Protocol):
    """Applies network settings to real interfaces."""

    def apply(self, network: Network, pppoe: PPPoE) -> None: ...


class VirtualNetworkBackend:
    """Records only: a virtual NAS does not reconfigure its host."""

    def apply(self, network: Network, pppoe: PPPoE) -> None:
        return None


class NetworkService:
    """Reads and changes the network settings; each change is validated, then one transaction."""

    def __init__(self, store: ConfigStore, machine_key: MachineKey,
                 backend: NetworkBackend | None = None) -> None:
        self.store = store
        self.machine_key = machine_key
        self.backend = backend or VirtualNetworkBackend()

    def settings(self) -> Network:
        return self.store.get(Network)

    def ports(self) -> Ports:
        return self.store.get(Ports)

    @property
    def interface_ids(self) -> list[str]:
        return [f"eth{n}" for n in range(len(self.store.hardware.macs))]

    def set_general(self, actor: str, *, server_name: str | None = None,
                    default_gateway: str | None = None, dns: list[str] | None = None) -> None:
        problems: dict[str, str] = {}
        network = self.store.get(Network)
        if server_name is not None and (why := server_name_problem(server_name)):
            problems["server_name"] = why
        if default_gateway is not None:
            network.default_gateway = default_gateway
        if dns is not None:
            network.dns = dns
        problems.update(network_problems(network, self.interface_ids))
        if problems:
            raise ValidationError(problems)
        with self.store.transaction(actor, "network") as tx:
            if server_name is not None:
                tx.put(General(server_name=server_name))
            tx.put(network)
        self.backend.apply(network, self.store.get(PPPoE))

    def set_interface(self, actor: str, interface_id: str, **changes: Any) -> None:
        network = self.store.get(Network)
        matching = [i for i in network.interfaces if i.id == interface_id]
        if not matching:
            raise ValidationError({"id": f"no interface {interface_id!r}"})
        allowed = {f.name for f in dataclasses.fields(matching[0])} - {"id"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError({key: "unknown setting" for key in sorted(unknown)})
        updated = dataclasses.replace(matching[0], **changes)
        if updated.dhcp:
            updated = dataclasses.replace(updated, address="", netmask="", gateway="")
        network.interfaces = [updated if i.id == interface_id else i for i in network.interfaces]
        problems = network_problems(network, self.interface_ids)
        if problems:
            raise ValidationError(problems)
        with self.store.transaction(actor, "network") as tx:
            tx.put(network)
        self.backend.apply(network, self.store.get(PPPoE))

    def pppoe(self) -> dict[str, Any]:
        """PPPoE settings; the password never leaves (only whether one is set)."""
        pppoe = self.store.get(PPPoE)
        return {"enabled": pppoe.enabled, "interface": pppoe.interface,
                "username": pppoe.username, "password_set": bool(pppoe.password),
                "mtu": pppoe.mtu, "dns_from_provider": pppoe.dns_from_provider}

    def set_pppoe(self, actor: str, **changes: Any) -> None:
        pppoe = self.store.get(PPPoE)
        password = changes.pop("password", None)
        allowed = {f.name for f in dataclasses.fields(pppoe)} - {"password"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError({key: "unknown setting" for key in sorted(unknown)})
        pppoe = dataclasses.replace(pppoe, **changes)
        if password:
            pppoe.password = self.machine_key.seal(password, PPPOE)
        problems = pppoe_problems(pppoe, self.interface_ids)
        if problems:
            raise ValidationError(problems)
        with self.store.transaction(actor, "network") as tx:
            tx.put(pppoe)
        self.backend.apply(self.store.get(Network), pppoe)

    def set_ports(self, actor: str, http: int, https: int) -> None:
        problems = ports_problems(http, https)
        services = self.store.get(FileServices)
        for field, port in (("http", http), ("https", https)):
            if port in (services.smb_port, services.sftp_port):
                problems.setdefault(field, f"port {port} is a file service's")
        if problems:
            raise ValidationError(problems)
        with self.store.transaction(actor, "network") as tx:
            tx.put(Ports(http=http, https=https))
