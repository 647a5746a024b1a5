"""A throw-away network of namespaces joined by a bridge, for tests and benchmarks (root
only; CI runs as root).

Nothing touches the machine's own namespace: the bridge lives in a namespace of its own,
and each veth pair is created inside the namespaces it joins. Everything is deleted on exit,
pass or fail.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

SUBNET = "10.77.0"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)


def available() -> bool:
    return os.geteuid() == 0 and subprocess.run(["ip", "-V"], capture_output=True).returncode == 0


@dataclass
class Lab:
    tag: str
    hosts: dict[str, str] = field(default_factory=dict)  # namespace -> address

    @property
    def bridge_ns(self) -> str:
        return f"{self.tag}br"

    def add_host(self, index: int) -> tuple[str, str]:
        """A namespace with eth0 = 10.77.0.<index>/24 on the bridge."""
        ns, address = f"{self.tag}h{index}", f"{SUBNET}.{index}"
        ip("netns", "add", ns)
        self.hosts[ns] = address
        port = f"p{self.tag[-6:]}{index}"[:15]
        ip("-n", self.bridge_ns, "link", "add", port, "type", "veth", "peer", "name", "eth0",
           "netns", ns)
        ip("-n", self.bridge_ns, "link", "set", port, "master", "br0", "up")
        ip("-n", ns, "addr", "add", f"{address}/24", "brd", "+", "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        ip("-n", ns, "link", "set", "lo", "up")
        return ns, address

    def exec_prefix(self, ns: str) -> list[str]:
        return ["ip", "netns", "exec", ns]


@contextmanager
def lab(hosts: int) -> Iterator[Lab]:
    """`hosts` namespaces on one bridge; all removed afterwards."""
    network = Lab(tag=f"os{os.getpid() % 100000}")
    created = []
    try:
        ip("netns", "add", network.bridge_ns)
        created.append(network.bridge_ns)
        ip("-n", network.bridge_ns, "link", "add", "br0", "type", "bridge")
        ip("-n", network.bridge_ns, "link", "set", "br0", "up")
        for index in range(1, hosts + 1):
            ns, _ = network.add_host(index)
            created.append(ns)
        yield network
    finally:
        for ns in reversed(created + [n for n in network.hosts if n not in created]):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)
