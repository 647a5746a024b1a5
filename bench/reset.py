"""Decision-to-applied time of Mode 1 and Mode 2, on a device holding 10,000 users, 1,000
shares and 1,000 firewall rules, with volume1 holding 1 MB and then 1 GB of files.

A reset never reads user data, so the two volume sizes must give the same times.

    python bench/reset.py [RUNS]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from openstation.accounts.passwords import hash_password_now as hash_password
from openstation.config.sections import (
    AutoBlock,
    Firewall,
    FirewallRule,
    Group,
    HACluster,
    Interface,
    KeyEntry,
    Network,
    Ports,
    PPPoE,
    Share,
    User,
)
from openstation.device import Device, RunOptions
from openstation.lifecycle.install import InstallRequest
from openstation.storage.volume import ShareMetadata, write_share_metadata

USERS, SHARES, RULES = 10_000, 1_000, 1_000
STRONG = "Str0ng!pass"


def fill_volume(volume: Path, megabytes: int) -> None:
    """`megabytes` files of 1 MiB each in a folder of their own."""
    folder = volume / "bulk"
    folder.mkdir(exist_ok=True)
    block = os.urandom(1 << 20)
    for n in range(megabytes):
        (folder / f"{n:05d}.bin").write_bytes(block)


def populate(device: Device) -> None:
    """Users, shares (with their folders and metadata) and firewall rules, in bulk."""
    store = device.store
    assert store is not None
    shared = hash_password("B3nch!password")
    with store.transaction("bench") as tx:
        if store.count(User) < USERS:
            group = tx.record(Group, "users")
            assert group is not None
            for n in range(USERS):
                tx.put_record(User(name=f"user{n:05d}", uid=2000 + n, password_hash=shared))
                group.members.append(f"user{n:05d}")
            tx.put_record(group)
        for n in range(SHARES):
            name = f"share{n:04d}"
            if tx.record(Share, name) is None:
                share_id = str(uuid.uuid4())
                folder = device.data_dir.volume / name
                folder.mkdir(exist_ok=True)
                write_share_metadata(folder, ShareMetadata(name, share_id, n % 10 == 0, 1.0))
                tx.put_record(Share(name=name, uuid=share_id, encrypted=n % 10 == 0,
                                    mount_on_startup=n % 10 == 0))
                if n % 10 == 0:
                    tx.put_record(KeyEntry(share=name, protection="machine"))
        for n in range(RULES):
            tx.put_record(FirewallRule(rule_id=f"r{n:04d}", order=n, source=f"10.{n // 250}."
                                       f"{n % 250}.0/24", action="deny"))
    configure_items(device)


def configure_items(device: Device) -> None:
    """Set what Mode 1 restores, so each run has something to restore."""
    store = device.store
    assert store is not None
    with store.transaction("bench") as tx:
        tx.put(Ports(5050, 5051))
        tx.put(Network(default_gateway="192.168.1.1", dns=["192.168.1.1"], interfaces=[
            Interface("eth0", dhcp=False, address="192.168.1.10", netmask="255.255.255.0")]))
        tx.put(PPPoE(enabled=True))
        tx.put(AutoBlock(enabled=True))
        tx.put(Firewall(enabled=True))
        tx.put(HACluster(member=True, cluster_name="ha"))
        for n in range(0, SHARES, 10):
            name = f"share{n:04d}"
            share = tx.record(Share, name)
            if share is not None and not share.mount_on_startup:
                share.mount_on_startup = True
                tx.put_record(share)
            if tx.record(KeyEntry, name) is None:
                tx.put_record(KeyEntry(share=name, protection="machine"))


async def install(device: Device, name: str) -> float:
    start = time.perf_counter()
    async for _ in device.installer.install(InstallRequest(name, "alice", STRONG)):
        pass
    return time.perf_counter() - start


async def measure(root: Path, megabytes: int, runs: int) -> dict[str, float]:
    device = Device(RunOptions(data_dir=root, http_port=0, https_port=0, findhost_port=0,
                               ssdp_port=0, mdns=False, file_services=False))
    await device.start()
    await install(device, "bench")
    fill_volume(device.data_dir.volume, megabytes)
    populate(device)
    mode1, mode2, reinstall = [], [], []
    try:
        for _ in range(runs):
            configure_items(device)
            start = time.perf_counter()
            await device.resets.reset(1, "bench")
            mode1.append(time.perf_counter() - start)
        for _ in range(runs):
            start = time.perf_counter()
            await device.resets.reset(2, "bench")
            mode2.append(time.perf_counter() - start)
            reinstall.append(await install(device, "bench"))
            populate(device)
    finally:
        await device.stop()
    return {"mode1": statistics.median(mode1), "mode2": statistics.median(mode2),
            "reinstall": statistics.median(reinstall)}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(f"{USERS} users, {SHARES} shares ({SHARES // 10} encrypted with machine keys), "
          f"{RULES} firewall rules; medians of {runs} runs")
    for megabytes in (1, 1024):
        with tempfile.TemporaryDirectory(dir=".") as tmp:
            result = asyncio.run(measure(Path(tmp) / "data", megabytes, runs))
        label = "1 MB" if megabytes == 1 else "1 GB"
        print(f"volume1 {label:>5}: Mode 1 {result['mode1'] * 1000:6.1f} ms   "
              f"Mode 2 (to Configuration lost, reboot included) {result['mode2'] * 1000:6.1f} ms"
              f"   reinstall {result['reinstall'] * 1000:6.1f} ms")
    print("targets: Mode 1 <= 50 ms, Mode 2 <= 200 ms, reinstall <= 2 s")


if __name__ == "__main__":
    main()
