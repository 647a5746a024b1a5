"""The Virtual Machine Manager cluster: which openstation devices are members, and each
host's CPU, memory and storage inventory and health, as every member sees them.

Membership is pushed by the member that changes it (a join is accepted by one member, which
tells the others; a leaving member tells everyone). Members authenticate to one another
with the cluster's token, handed to a joining device only after it signed in to a member
as an administrator. Running virtual machines is out of scope.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psutil

from openstation import background
from openstation.cluster.link import WebApiClient, pinned_client
from openstation.config.sections import General, VMMCluster
from openstation.config.store import ConfigStore
from openstation.errors import ClusterError, PeerError, ValidationError
from openstation.hardware import Hardware
from openstation.lifecycle.status import Status
from openstation.security.tokens import same_token

API = "SYNO.Virtualization.Cluster"


class VMMService:
    """This device's membership of a VMM cluster."""

    def __init__(self, store: ConfigStore, hardware: Hardware, volume: Path,
                 status: Callable[[], Status], clock: Callable[[], float],
                 poll_seconds: float = 2.0) -> None:
        self.store = store
        self.hardware = hardware
        self.volume = volume
        self.device_status = status
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.vmm = store.get(VMMCluster)
        self.seen: dict[str, dict[str, Any]] = {}  # url -> last inventory and health
        self._task: asyncio.Task[Any] | None = None

    async def start(self) -> None:
        if self.vmm.member:
            self._task = asyncio.get_running_loop().create_task(self._poll())

    async def close(self) -> None:
        await background.ended(self._task)
        self._task = None

    def _save(self, actor: str, action: str) -> None:
        with self.store.transaction(actor, "vmm") as tx:
            tx.put(self.vmm)
            tx.audit(action, "vmm_cluster", self.vmm.cluster_name, {})

    def _ready(self) -> None:
        if self.device_status() is not Status.READY:
            raise ClusterError(f"this device is {self.device_status().label}, not Ready")

    def token_ok(self, token: str) -> bool:
        return self.vmm.member and same_token(token, self.vmm.token)

    # --- what each member reports ----------------------------------------------------------

    def inventory(self) -> dict[str, Any]:
        memory = psutil.virtual_memory()
        disk = shutil.disk_usage(self.volume)
        return {
            "serial": self.hardware.serial, "model": self.hardware.model_name,
            "server_name": self.store.get(General).server_name,
            "status": self.device_status().label,
            "cpu": {"cores": os.cpu_count() or 1,
                    "load_percent": psutil.cpu_percent(interval=None)},
            "memory": {"total": memory.total, "available": memory.available},
            "storage": {"total": disk.total, "free": disk.free},
        }

    def status(self) -> dict[str, Any]:
        if not self.vmm.member:
            return {"member": False}
        me = self.vmm.me
        hosts = [{"url": me or "(this device)", "self": True, "health": "healthy",
                  "seen_seconds_ago": 0.0, **self.inventory()}]
        now = self.clock()
        for url in self.vmm.members:
            if url == me:
                continue
            known = self.seen.get(url, {})
            seen_at = known.get("seen_at")
            hosts.append({"url": url, "self": False,
                          "health": known.get("health", "unknown"),
                          "seen_seconds_ago": (round(now - seen_at, 2) if seen_at else None),
                          **known.get("inventory", {})})
        return {"member": True, "cluster_name": self.vmm.cluster_name, "me": me,
                "members": hosts}

    async def _poll(self) -> None:
        while True:
            others = [url for url in self.vmm.members if url != self.vmm.me]
            await asyncio.gather(*(self._ask(url) for url in others))
            for gone in set(self.seen) - set(others):
                self.seen.pop(gone)
            await asyncio.sleep(self.poll_seconds)

    async def _ask(self, url: str) -> None:
        """One member's inventory and health (a member that answers nonsense is unhealthy)."""
        client = WebApiClient(url, timeout=max(1.0, self.poll_seconds))
        known = self.seen.setdefault(url, {})
        try:
            answer = await client.call(API, "inventory", token=self.vmm.token)
            if not isinstance(answer, dict):
                raise PeerError("the member's inventory is not an object")
            known["inventory"] = answer
            known["health"], known["seen_at"] = "healthy", self.clock()
        except PeerError as exc:
            known["health"], known["error"] = "unreachable", str(exc)

    # --- membership ------------------------------------------------------------------------

    async def create(self, actor: str, name: str) -> dict[str, Any]:
        self._ready()
        if self.vmm.member:
            raise ClusterError(f"this device is already in VMM cluster {self.vmm.cluster_name!r}")
        if not name or len(name) > 32 or not all(c.isalnum() or c in "-_" for c in name):
            raise ValidationError({"cluster_name": "1 to 32 letters, digits, - or _"})
        self.vmm = VMMCluster(member=True, cluster_name=name, members=[], me="",
                              token=secrets.token_urlsafe(24))
        self._save(actor, "create")
        await self.start()
        return self.status()

    async def join(self, actor: str, peer_url: str, user: str, password: str,
                   http_port: int, peer_fingerprint: str = "") -> dict[str, Any]:
        """Join the cluster of the member at `peer_url` (its administrator's credentials)."""
        self._ready()
        if self.vmm.member:
            raise ClusterError(f"this device is already in VMM cluster {self.vmm.cluster_name!r}")
        if not urlparse(peer_url).hostname or urlparse(peer_url).scheme not in ("http",
                                                                                "https"):
            raise ValidationError({"peer": "a member's address, as http(s)://host:port"})
        client = pinned_client(peer_url, peer_fingerprint)
        try:
            await client.login(user, password)
            answer = await client.call(API, "add_member", port=str(http_port),
                                       via=peer_url.rstrip("/"),
                                       serial=self.hardware.serial)
        except PeerError as exc:
            raise ClusterError(f"the member refused: {exc}") from None
        finally:
            await client.logout()
        self.vmm = VMMCluster(member=True, cluster_name=str(answer["cluster_name"]),
                              members=[str(url) for url in answer["members"]],
                              me=str(answer["you"]), token=str(answer["token"]))
        self._save(actor, "join")
        await self.start()
        return self.status()

    async def add_member(self, remote: str, params: dict[str, str]) -> dict[str, Any]:
        """A member's side of `join` (an administrator's session of this device)."""
        self._ready()
        if not self.vmm.member:
            raise ClusterError("this device is in no VMM cluster")
        try:
            port = int(params["port"])
            via = str(params["via"])
        except (KeyError, ValueError):
            raise ValidationError({"add_member": "port and via are needed"}) from None
        if params.get("serial") == self.hardware.serial:
            raise ClusterError("that is this device")
        url = f"http://{remote}:{port}"
        if not self.vmm.me:
            self.vmm.me = via
        members = [m for m in self.vmm.members if m != url]
        if self.vmm.me not in members:
            members.insert(0, self.vmm.me)
        members.append(url)
        self.vmm.members = members
        self._save("system", "add-member")
        await self._push(skip={url})
        return {"cluster_name": self.vmm.cluster_name, "members": members, "you": url,
                "token": self.vmm.token}

    async def _push(self, skip: set[str]) -> list[str]:
        """Tell the other members the membership; returns those that did not answer."""
        missed = []
        for url in self.vmm.members:
            if url == self.vmm.me or url in skip:
                continue
            try:
                await WebApiClient(url, timeout=3).call(
                    API, "members", token=self.vmm.token, members=json.dumps(self.vmm.members))
            except PeerError:
                missed.append(url)
        return missed

    def set_members(self, members: list[str]) -> None:
        if self.vmm.me and self.vmm.me not in members:
            return  # a list without this member is stale: it left, or is leaving
        self.vmm.members = members
        self._save("system", "members")

    def remove_member(self, url: str) -> None:
        if url in self.vmm.members:
            self.vmm.members = [m for m in self.vmm.members if m != url]
            self.seen.pop(url, None)
            self._save("system", "member-left")

    async def leave(self, actor: str, persist: bool = True) -> dict[str, Any]:
        """Leave the cluster; the others drop this member. `persist=False`: a reset's plan
        writes the membership away in its own transaction."""
        if not self.vmm.member:
            raise ClusterError("this device is in no VMM cluster")
        told, missed = [], []
        for url in self.vmm.members:
            if url == self.vmm.me:
                continue
            try:
                await WebApiClient(url, timeout=3).call(
                    API, "remove_member", token=self.vmm.token, url=self.vmm.me)
                told.append(url)
            except PeerError:
                missed.append(url)
        name = self.vmm.cluster_name
        await self.close()
        self.vmm = VMMCluster()
        self.seen.clear()
        if persist:
            with self.store.transaction(actor, "vmm") as tx:
                tx.put(self.vmm)
                tx.audit("leave", "vmm_cluster", name, {})
        return {"left": name, "told": told, "not_told": missed}
