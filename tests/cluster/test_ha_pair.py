"""A High Availability pair of two real device processes on loopback: refusals that change
nothing, replication of configuration and volume1 (checked by SHA-256), a passive killed
mid-replication, switchover, remove, and Mode 1 leaving the pair."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openstation.cluster import replication as rep
from openstation.panel import control
from openstation.testing import STRONG, DeviceProcess, Web, openstation, wait_for

MB = 1 << 20


def ha(data: Path, *args: str, check: bool = True) -> dict[str, Any]:
    result = openstation("ha", *args, "--data-dir", str(data), "--json", timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))
    return {"returncode": result.returncode, "stderr": result.stderr}


def create(active: DeviceProcess, passive: DeviceProcess, *extra: str,
           user: str = "alice", password: str = STRONG, check: bool = True) -> dict[str, Any]:
    return ha(active.data_dir, "create", *passive.peer(), "--peer-user", user,
              "--peer-password", password, "--name", "hapair", "--quorum", "127.0.0.1:9",
              "--heartbeat", "0.3", "--failover", "2", *extra, check=check)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(data: Path) -> dict[str, str]:
    """SHA-256 of every replicated file on a device's volume1 (folders as "dir")."""
    volume = data / "volume1"
    return {rel: ("dir" if path.is_dir() else rep.sha256_file(path))
            for rel, path in rep.Manifest(volume).walk()}


def in_sync(data: Path) -> bool:
    status = ha(data, "status")
    return bool(status.get("role") == "passive" and status.get("in_sync"))


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[Callable[..., DeviceProcess]]:
    started: list[DeviceProcess] = []

    def start(name: str, model: str = "DS918+", install: bool = True) -> DeviceProcess:
        device = DeviceProcess(tmp_path / name, "--model", model).start()
        started.append(device)
        if install:
            assert device.install(f"nas-{name}").returncode == 0
        return device

    yield start
    for device in started:
        device.kill()


def test_binding_refusals_are_clear_and_change_nothing(
        devices: Callable[..., DeviceProcess]) -> None:
    a, blank, other = devices("a"), devices("b", install=False), devices("c", model="DS220+")
    twin = devices("d")
    refusals = {
        "not Ready": create(a, blank, check=False),
        "same model": create(a, other, check=False),
        "this device": create(a, a, check=False),
        "refused the login": create(a, twin, password="Wr0ng!pass", check=False),
        "cluster_name": ha(a.data_dir, "create", *other.peer(), "--peer-user", "alice",
                           "--peer-password", STRONG, "--name", "bad name!", "--quorum",
                           "127.0.0.1:9", check=False),
        "heartbeat": ha(a.data_dir, "create", *other.peer(), "--peer-user", "alice",
                        "--peer-password", STRONG, "--name", "ok", "--quorum", "127.0.0.1:9",
                        "--heartbeat", "0", check=False),
        "cluster_address": create(a, other, "--address", "127.0.0.5", check=False),
    }
    for reason, result in refusals.items():
        assert result["returncode"] == 1, reason
        assert reason in result["stderr"], (reason, result["stderr"])
        assert "Traceback" not in result["stderr"]
    assert refusals["same model"]["stderr"].count("\n") == 1  # one line
    for device in (a, blank, other, twin):
        assert ha(device.data_dir, "status")["member"] is False
    assert not (a.data_dir / "system" / "cluster" / "ha.crt").exists()

    # The Web API says the same, as a DSM error with the reason.
    web = Web(a.url).login()
    answer = web.call("SYNO.SHA.Cluster", "create", peer=blank.https_url,
                      peer_fingerprint=blank.fingerprint, peer_user="alice",
                      peer_password=STRONG, cluster_name="x", quorum="127.0.0.1:9")
    assert answer["success"] is False and "not Ready" in answer["error"]["errors"]["reason"]
    plain = Web(a.url).call("SYNO.SHA.Cluster", "status")
    assert plain["success"] is False  # status needs an administrator's session


def test_a_pair_mirrors_configuration_and_data_and_recovers_a_killed_passive(
        devices: Callable[..., DeviceProcess]) -> None:
    a, b, c = devices("a"), devices("b"), devices("c")
    made = create(a, b)
    assert made["role"] == "active" and made["peer"]["replication"] == "in sync"
    assert ha(b.data_dir, "status")["role"] == "passive"
    third = create(c, b, check=False)  # b is taken now
    assert "already in a high-availability cluster" in third["stderr"]

    web = Web(a.url).login()
    web.ok("SYNO.Core.User", "create", name="bob", password=STRONG)
    web.ok("SYNO.Core.Share", "create", name="docs")
    body = os.urandom(3 * MB)
    assert web.upload("/docs", "one.bin", body)["success"]
    web.ok("SYNO.FileStation.CreateFolder", "create", 2, folder_path="/docs", name="sub")
    assert web.upload("/docs/sub", "two.bin", b"two")["success"]
    web.ok("SYNO.FileStation.Rename", "rename", 2, path="/docs/sub", name="renamed")
    assert web.upload("/docs", "gone.bin", b"x")["success"]
    web.ok("SYNO.FileStation.Delete", "delete", 2, path="/docs/gone.bin")
    # Every call above was answered after the passive had it: no waiting needed.
    assert digest(b.data_dir) == digest(a.data_dir)
    assert set(digest(b.data_dir)) == {"docs", "docs/@share.json", "docs/one.bin",
                                       "docs/renamed", "docs/renamed/two.bin"}
    assert Web(b.url).login("bob", STRONG).sid  # bob's account, password hash and all

    # The passive refuses changes of its own: they would be lost at the next resync.
    passive = Web(b.url).login()
    refused = passive.call("SYNO.Core.Share", "create", name="local")
    assert refused["success"] is False and refused["error"]["code"] == 105
    assert "passive server" in refused["error"]["errors"]["reason"]
    assert not (b.data_dir / "volume1" / "local").exists()
    for refused_cli in (("user", "create", "erin", "--password", STRONG),
                        ("share", "create", "local"),
                        ("config", "set", "login", "session_timeout_minutes=30")):
        result = openstation(*refused_cli, "--data-dir", str(b.data_dir))
        assert result.returncode == 1 and "passive server" in result.stderr, refused_cli

    # The CLI writes the active's store from another process: shipped all the same.
    created = openstation("user", "create", "dave", "--password", STRONG, "--data-dir",
                          str(a.data_dir))
    assert created.returncode == 0, created.stderr

    def dave_on_b() -> bool:
        return Web(b.url).call("SYNO.API.Auth", "login", 6, account="dave",
                               passwd=STRONG)["success"] is True

    wait_for(dave_on_b, timeout=10)

    # The passive dies in the middle of a 64 MB transfer: the write still commits on the
    # active (degraded), and the passive gets everything once it is back.
    big = os.urandom(64 * MB)
    result: dict[str, Any] = {}
    uploader = threading.Thread(target=lambda: result.update(web.upload("/docs", "big.bin",
                                                                        big)))
    uploader.start()
    incoming, deadline = b.data_dir / "volume1" / rep.INCOMING, time.monotonic() + 60
    while not any(incoming.glob("*")):  # the transfer takes ~0.3 s: look often
        assert time.monotonic() < deadline, "the passive never started receiving"
        time.sleep(0.002)
    b.kill()
    uploader.join(timeout=60)
    assert result.get("success"), result
    assert rep.sha256_file(a.data_dir / "volume1" / "docs" / "big.bin") == sha256(big)
    status = ha(a.data_dir, "status")
    assert status["role"] == "active" and status["peer"]["replication"] != "in sync"
    web.ok("SYNO.Core.User", "create", name="carol", password=STRONG)  # while degraded
    b.start()
    wait_for(lambda: in_sync(b.data_dir))
    assert digest(b.data_dir) == digest(a.data_dir)
    assert "docs/big.bin" in digest(b.data_dir)
    assert not any((b.data_dir / "volume1" / rep.INCOMING).glob("*"))  # no half file kept
    assert Web(b.url).login("carol", STRONG).sid


def test_switchover_remove_mode_1_and_mode_2_leave_the_data_on_both(
        devices: Callable[..., DeviceProcess]) -> None:
    a, b = devices("a"), devices("b")
    create(a, b)
    web = Web(a.url).login()
    web.ok("SYNO.Core.Share", "create", name="docs")
    assert web.upload("/docs", "a.bin", b"from a")["success"]

    # An encrypted share travels as ciphertext; the new active mounts it with the passphrase.
    web.ok("SYNO.Core.Share", "create", name="vault",
           shareinfo={"encryption": True, "enc_passwd": "vault pass 1"})
    secret = os.urandom(200_000)
    assert web.upload("/vault", "secret.bin", secret)["success"]
    shipped = [p for p in (b.data_dir / "volume1" / "@vault@").iterdir()
               if not p.name.startswith(("@", "gocryptfs."))]
    assert len(shipped) == 1 and secret[:4096] not in shipped[0].read_bytes()
    assert not (b.data_dir / "volume1" / "vault").exists()  # no plaintext on the passive

    swapped = ha(a.data_dir, "switchover")
    assert swapped["role"] == "passive"
    assert ha(b.data_dir, "status")["role"] == "active"
    refused = Web(a.url).login().call("SYNO.FileStation.CreateFolder", "create", 2,
                                      folder_path="/docs", name="x")
    assert refused["success"] is False
    on_b = Web(b.url).login()
    assert on_b.upload("/docs", "b.bin", b"from b")["success"]
    on_b.ok("SYNO.Core.Share.Crypto", "mount", name="vault", password="vault pass 1")
    assert on_b.download("/vault/secret.bin") == secret
    assert (a.data_dir / "volume1" / "docs" / "b.bin").read_bytes() == b"from b"
    again = ha(a.data_dir, "switchover", check=False)
    assert again["returncode"] == 1 and "active server" in again["stderr"]

    # Mode 1 on the passive: it leaves, the active is told and becomes standalone.
    before = {name: digest(d.data_dir) for name, d in (("a", a), ("b", b))}
    answer = asyncio.run(control.call(a.data_dir / "system" / "panel.sock", "POST", "/reset",
                                      {"mode": 1}))
    assert answer["accepted"]
    wait_for(lambda: not ha(a.data_dir, "status")["member"])
    wait_for(lambda: not ha(b.data_dir, "status")["member"], timeout=10)
    assert {name: digest(d.data_dir) for name, d in (("a", a), ("b", b))} == before
    assert ha(b.data_dir, "status")["server_name"] == "nas-b"
    assert Web(b.url).login().upload("/docs", "c.bin", b"standalone")["success"]
    assert not (a.data_dir / "volume1" / "docs" / "c.bin").exists()
    assert not (a.data_dir / "system" / "cluster" / "ha.crt").exists()

    # A new pair, removed over the Web API: both standalone, nothing lost.
    a.refresh()
    assert create(b, a)["role"] == "active"
    removed = Web(b.url).login().ok("SYNO.SHA.Cluster", "remove")
    assert removed == {"removed": "hapair", "peer_told": True}
    wait_for(lambda: not ha(a.data_dir, "status")["member"], timeout=10)
    assert digest(b.data_dir)["docs/c.bin"] == digest(a.data_dir)["docs/c.bin"]

    # Mode 2 on a member: it leaves first (the peer learns it), then wipes; no data lost.
    assert create(a, b)["role"] == "active"
    before = {name: digest(d.data_dir) for name, d in (("a", a), ("b", b))}
    answer = asyncio.run(control.call(b.data_dir / "system" / "panel.sock", "POST", "/reset",
                                      {"mode": 2}))
    assert answer["accepted"]
    wait_for(lambda: not ha(a.data_dir, "status")["member"], timeout=10)
    wait_for(lambda: json.loads(openstation("panel", "status", "--data-dir", str(b.data_dir),
                                            "--json").stdout or "{}").get("status")
             == "Configuration lost")
    assert {name: digest(d.data_dir) for name, d in (("a", a), ("b", b))} == before
