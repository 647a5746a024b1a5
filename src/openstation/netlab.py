"""A throw-away network of namespaces joined by a bridge, for tests and benchmarks (root
only; CI runs as root).

Nothing touches the machine's own namespace: the bridge lives in a namespace of its own,
and each veth pair is created inside the namespaces it joins. Everything is deleted on exit,
pass or fail.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
CLONE_NEWNET = 0x40000000

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
        port = self._port(index)
        ip("-n", self.bridge_ns, "link", "add", port, "type", "veth", "peer", "name", "eth0",
           "netns", ns)
        ip("-n", self.bridge_ns, "link", "set", port, "master", "br0", "up")
        ip("-n", ns, "addr", "add", f"{address}/24", "brd", "+", "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        ip("-n", ns, "link", "set", "lo", "up")
        return ns, address

    def exec_prefix(self, ns: str) -> list[str]:
        return ["ip", "netns", "exec", ns]

    def cable(self, index: int, plugged: bool) -> None:
        """Pull (or put back) host `index`'s cable: its bridge port goes down (up)."""
        ip("-n", self.bridge_ns, "link", "set", self._port(index), "up" if plugged else "down")

    def _port(self, index: int) -> str:
        """Host `index`'s port on the bridge (interface names hold 15 characters)."""
        return f"p{self.tag[-6:]}{index}"[:15]


class Client:
    """Runs functions on one thread that lives in a namespace: a LAN client whose sockets
    (urllib, aiohttp, …) are that namespace's, while the rest of the test stays outside."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self._pool = ThreadPoolExecutor(max_workers=1, initializer=self._enter)

    def _enter(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        with open(f"/run/netns/{self.ns}") as handle:
            if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns into {self.ns} failed")

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self._pool.submit(fn, *args, **kwargs).result()

    def close(self) -> None:
        self._pool.shutdown()


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
