"""Hyper Backup on a real device process and real restic repositories: versions, restore
of one file from the middle version, rotation, integrity checks that find a corrupted
pack, a wrong password, a device killed during a run, the seed's flow (back up, Mode 2,
reinstall, restore), synology-api's core_backup, and what strangers and users may not do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openstation.testing import STRONG, DeviceProcess, Web, openstation, wait_for, wait_for_status

pytestmark = pytest.mark.skipif(shutil.which("restic") is None,
                                reason="restic is not installed (Debian's restic package)")
Factory = Callable[..., DeviceProcess]
REPO_PASSWORD = "correct horse battery"


def cli(data: Path, *args: str, ok: bool = True, timeout: float = 120) -> Any:
    result = openstation("backup", *args, "--data-dir", str(data), timeout=timeout)
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def cli_json(data: Path, *args: str) -> Any:
    return json.loads(cli(data, *args, "--json").stdout)


def restic_child(pid: int) -> int | None:
    """The `restic backup` child of process `pid`, if one runs."""
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and argv[:1] == [b"restic"] and b"backup" in argv:
            return int(entry.name)
    return None


def alive(pid: int | None) -> bool:
    """Whether `pid` still runs (a zombie, dead but not reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def finished(admin: Web, task_id: int, timeout: float = 60) -> dict[str, Any]:
    """The task's status once no run is in progress."""
    found: dict[str, Any] = {}

    def idle() -> bool:
        found.update(admin.ok("SYNO.Backup.Task", "status", task_id=str(task_id)))
        return found["status"] == "none"

    wait_for(idle, timeout)
    return found


@pytest.fixture
def nas(device_factory: Factory, tmp_path: Path) -> Iterator[tuple[DeviceProcess, Web]]:
    device = device_factory(tmp_path / "data")
    assert device.install().returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.Share", "create", name="docs")
    docs = device.data_dir / "volume1" / "docs"
    (docs / "sub").mkdir()
    for n in range(20):
        (docs / "sub" / f"f{n}.bin").write_bytes(os.urandom(10_000 + n))
    (docs / "note.txt").write_text("v1")
    yield device, admin


def test_versions_restore_rotation_check_and_password(nas: tuple[DeviceProcess, Web],
                                                      tmp_path: Path) -> None:
    device, admin = nas
    data, usb = device.data_dir, tmp_path / "usb"
    made = cli_json(data, "create", "nightly", "--destination", str(usb), "--source", "docs",
                    "--password", REPO_PASSWORD, "--keep", "3")
    assert made[0]["repository"] == str(usb / "nightly.hbk")
    assert (usb / "nightly.hbk" / "config").is_file()  # a real restic repository
    task_id = int(made[0]["task_id"])

    for n in range(1, 5):  # four versions, note.txt v1..v4; rotation keeps three
        (data / "volume1" / "docs" / "note.txt").write_text(f"v{n}")
        admin.ok("SYNO.Backup.Task", "backup", task_id=str(task_id))
        status = finished(admin, task_id)
        assert status["last_bkp_result"] == "done", status["last_bkp_error"]
    assert status["last_bkp_progress"] == {} and status["is_modified"] is False
    versions = cli_json(data, "versions", "nightly")
    assert len(versions) == 3 and all(v["paths"] == ["docs"] for v in versions)

    # One file from the middle version (v3), beside the current one, then over it.
    middle = versions[1]["short_id"]
    listed = cli_json(data, "versions", "nightly", "--version", middle, "--folder", "docs")
    assert {e["path"] for e in listed} >= {"/docs/note.txt", "/docs/sub"}
    cli(data, "restore", "nightly", "--version", middle, "--path", "docs/note.txt",
        "--conflict", "keep_both")
    docs = data / "volume1" / "docs"
    assert (docs / "note (1).txt").read_text() == "v3" and (docs / "note.txt").read_text() == "v4"
    cli(data, "restore", "nightly", "--version", middle, "--path", "docs/note.txt",
        "--conflict", "skip")
    assert (docs / "note.txt").read_text() == "v4"
    cli(data, "restore", "nightly", "--version", middle, "--path", "docs/note.txt")
    assert (docs / "note.txt").read_text() == "v3"
    # The whole share into another folder: the device's @ entries stay behind.
    admin.ok("SYNO.Core.Share", "create", name="restored")
    cli(data, "restore", "nightly", "--target", "restored")
    again = data / "volume1" / "restored" / "docs"
    assert (again / "sub" / "f7.bin").read_bytes() == (docs / "sub" / "f7.bin").read_bytes()
    assert not (again / "@share.json").exists()
    for hostile in ("docs/../../../etc", "/", "docs//x", "@hyperbackup/1"):
        refused = cli(data, "restore", "nightly", "--path", hostile, ok=False)
        assert refused.returncode == 1 and "paths[0]" in refused.stderr, refused.stderr

    # Integrity: clean, then a damaged pack file is found (reading the data back).
    assert "ok" in cli(data, "check", "nightly").stdout
    packs = sorted((usb / "nightly.hbk" / "data").rglob("*"), key=lambda p: p.stat().st_size)
    pack = [p for p in packs if p.is_file()][-1]
    pack.chmod(0o600)
    body = bytearray(pack.read_bytes())
    body[len(body) // 2] ^= 0xFF
    pack.write_bytes(bytes(body))
    damaged = cli(data, "check", "nightly", "--read-data", ok=False)
    assert damaged.returncode == 1
    task = admin.ok("SYNO.Backup.Task", "get", task_id=str(task_id))["task"]
    assert task["integrity"]["result"].startswith("failed"), task["integrity"]

    # A repository that exists opens only with its password (or an exported key); the
    # task goes, the versions stay, and the key links a new task to them.
    key = tmp_path / "nightly.key"
    cli(data, "export-key", "nightly", "-o", str(key))
    assert key.stat().st_mode & 0o777 == 0o600 and REPO_PASSWORD not in key.read_text()
    cli(data, "delete", "nightly")
    wrong = cli(data, "create", "nightly", "--destination", str(usb), "--source", "docs",
                "--password", "not the password", ok=False)
    assert wrong.returncode == 1 and "password does not open the repository" in wrong.stderr
    assert cli_json(data, "list") == []
    cli(data, "create", "nightly", "--destination", str(usb), "--source", "docs",
        "--key-file", str(key))
    assert len(cli_json(data, "versions", "nightly")) == 3
    key.write_text('{"kind": "openstation-backup-key", "key": "not it"}')
    cli(data, "delete", "nightly")
    forged = cli(data, "create", "nightly", "--destination", str(usb), "--source", "docs",
                 "--key-file", str(key), ok=False)
    assert forged.returncode == 1 and "does not open" in forged.stderr

    log = admin.ok("SYNO.SDS.Backup.Client.Common.Log", "list")
    assert log["total"] > 0 and any("restore" in row["event"] for row in log["log_list"])


def test_strangers_users_and_hostile_input(nas: tuple[DeviceProcess, Web],
                                           tmp_path: Path) -> None:
    device, admin = nas
    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    bob = Web(device.url).login("bob", "B0b!secret")
    for method in ("list", "create", "backup"):
        assert bob.call("SYNO.Backup.Task", method, task_id="1")["error"]["code"] == 105
    stranger = Web(device.url)
    assert stranger.call("SYNO.Backup.Task", "list")["error"]["code"] in (105, 119)

    def refused(**fields: Any) -> dict[str, str]:
        answer = admin.call("SYNO.Backup.Task", "create", **{
            "name": "t", "destination": str(tmp_path / "usb"), "password": "pw",
            "sources": ["docs"], **fields})
        assert not answer["success"] and answer["error"]["code"] == 120, answer
        return dict(answer["error"]["errors"])

    assert "destination" in refused(destination=str(device.data_dir / "system" / "x"))
    assert "destination" in refused(destination=str(device.data_dir / "volume1" / "docs" / "in"))
    assert "destination" in refused(destination="relative/path")
    for inside in ("system.wiping", "volume1", "volume1/@hyperbackup/2", "hardware.json.d"):
        assert "destination" in refused(destination=str(device.data_dir / inside)), inside
    assert "destination" in refused(destination="rest:https://user:pw@vault:8000/")
    assert "sources[0]" in refused(sources=["../../etc"])
    assert "sources[0]" in refused(sources=["nosuchshare"])
    assert "name" in refused(name="../escape")
    assert "name" in refused(name="@hidden")
    assert "password" in refused(password="")
    assert "sources" in refused(sources=[], include_config=False)
    assert admin.ok("SYNO.Backup.Task", "list")["total"] == 0
    assert not (tmp_path / "usb").exists()  # nothing was made for a refused task
    assert admin.call("SYNO.Backup.Task", "backup", task_id="99")["error"]["code"] == 120
    assert admin.call("SYNO.Backup.Task", "status", task_id="1 OR 1=1")["error"]["code"] == 120


def test_synology_api_core_backup(nas: tuple[DeviceProcess, Web], tmp_path: Path) -> None:
    """synology-api 0.9.4's core_backup, unchanged: list, status, result, run, cancel
    refused when idle, integrity check, repositories, the log."""
    from synology_api.base_api import BaseApi
    from synology_api.core_backup import Backup
    from synology_api.exceptions import BackupError

    device, admin = nas
    created = admin.ok("SYNO.Backup.Task", "create", name="cloud", password=REPO_PASSWORD,
                       destination=str(tmp_path / "usb"), sources=["docs"],
                       include_config="true", schedule_days=[0, 3], schedule_hour=2)
    task_id = str(created["task_id"])
    BaseApi.shared_session = None
    client = Backup("127.0.0.1", str(device.runtime["ports"]["http"]), "alice", STRONG,
                    secure=False, cert_verify=False, dsm_version=6, debug=False,
                    otp_code=None)
    listed = client.backup_task_list()
    assert listed["success"] and listed["data"]["total"] == 1
    task = listed["data"]["task_list"][0]
    assert task["name"] == "cloud" and task["last_bkp_result"] == "none"
    assert task["next_bkp_time"] != "" and task["source"]["include_config"] is True
    assert client.backup_task_run(task_id)["success"]
    result = finished(admin, int(task_id))
    assert result["last_bkp_result"] == "done"
    assert client.backup_task_result(task_id)["data"]["last_bkp_result"] == "done"
    assert client.backup_task_status(task_id)["data"]["status"] == "none"
    assert client.backup_task_get(task_id)["data"]["task"]["task_id"] == int(task_id)
    with pytest.raises(BackupError):  # nothing runs: refused
        client.backup_task_cancel(task_id)
    assert client.integrity_check_run(task_id)["success"]
    wait_for(lambda: admin.ok("SYNO.Backup.Task", "get", task_id=task_id)
             ["task"]["integrity"]["result"] == "ok", 60)
    # suspend and resume a running backup; a suspended one can be discarded
    (device.data_dir / "volume1" / "docs" / "big.bin").write_bytes(os.urandom(64 << 20))
    assert client.backup_task_run(task_id)["success"]
    assert client.backup_task_suspend(task_id)["success"]
    suspended = finished(admin, int(task_id))
    assert suspended["last_bkp_result"] in ("suspended", "done"), suspended  # a fast run
    if suspended["last_bkp_result"] == "suspended":
        assert client.backup_task_discard(task_id)["success"]
        assert finished(admin, int(task_id))["last_bkp_result"] == "cancel"
    assert client.backup_task_resume(task_id)["success"]
    assert finished(admin, int(task_id), 120)["last_bkp_result"] == "done"
    repos = client.backup_repository_list()["data"]
    assert repos["total"] == 1 and repos["repo_list"][0]["format"] == "restic"
    assert client.backup_repository_get(task_id)["data"]["repo"]["name"] == "cloud.hbk"
    assert client.hb_logs_get()["data"]["total"] > 0
    assert client.backup_task_remove(f"[{task_id}]")["success"]
    assert client.backup_task_list()["data"]["total"] == 0
    assert (tmp_path / "usb" / "cloud.hbk" / "config").is_file()  # the versions stay


def test_device_killed_during_a_run_then_the_next_run_completes(
        device_factory: Factory, tmp_path: Path) -> None:
    device = device_factory(tmp_path / "data")
    assert device.install().returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.Share", "create", name="big")
    big = device.data_dir / "volume1" / "big"
    for n in range(120):
        (big / f"{n}.bin").write_bytes(os.urandom(1 << 20))
    made = admin.ok("SYNO.Backup.Task", "create", name="big", password=REPO_PASSWORD,
                    destination=str(tmp_path / "usb"), sources=["big"])
    task_id = str(made["task_id"])
    # Started by the CLI, which then goes away: the run is the device's, and goes on
    watcher = subprocess.Popen([sys.executable, "-m", "openstation", "backup", "run", "big",
                                "--data-dir", str(device.data_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert device.proc is not None
    wait_for(lambda: restic_child(device.proc.pid) is not None, 30)  # restic is at work
    child = restic_child(device.proc.pid)
    watcher.kill()
    watcher.wait()
    time.sleep(0.3)
    assert alive(child)
    assert admin.ok("SYNO.Backup.Task", "status", task_id=task_id)["status"] == "backup"
    device.kill()  # SIGKILL: restic dies with it (its parent-death signal)
    wait_for(lambda: not alive(child), 10)

    device.start()
    admin = Web(device.url).login()
    status = admin.ok("SYNO.Backup.Task", "status", task_id=task_id)
    assert status["last_bkp_result"] == "partial", status
    assert "stopped during the backup" in status["last_bkp_error"]
    admin.ok("SYNO.Backup.Task", "backup", task_id=task_id)
    assert finished(admin, int(task_id), 120)["last_bkp_result"] == "done"
    assert "ok" in cli(device.data_dir, "check", "big").stdout


def test_seed_flow_backup_mode2_reinstall_restore(device_factory: Factory,
                                                  tmp_path: Path) -> None:
    """The seed's advice: back up data and configuration with Hyper Backup, reset (Mode
    2), reinstall, and get both back; the old users sign in with their old passwords."""
    data = tmp_path / "data"
    device = device_factory(data)
    assert device.install().returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    admin.ok("SYNO.Core.Share", "create", name="docs")
    docs = data / "volume1" / "docs"
    (docs / "report.bin").write_bytes(os.urandom(200_000))
    before = (docs / "report.bin").read_bytes()
    usb = tmp_path / "usb"
    cli(data, "create", "before-reset", "--destination", str(usb), "--source", "docs",
        "--config", "--password", REPO_PASSWORD)
    assert "done" in cli(data, "run", "before-reset").stdout

    assert openstation("panel", "reset", "--mode", "2", "--data-dir", str(data),
                       timeout=90).returncode == 0
    wait_for_status(data, "Configuration lost", 60)
    device.refresh()
    assert cli(data, "list", ok=False).returncode == 1 or cli_json(data, "list") == []
    assert device.install(user="carl", password="C4rl!secret").returncode == 0
    (docs / "report.bin").unlink()  # lost since

    cli(data, "create", "before-reset", "--destination", str(usb), "--source", "docs",
        "--password", REPO_PASSWORD)  # found at the destination: relinked
    preview = json.loads(cli(data, "restore", "before-reset", "--config", "--preview",
                             "--json").stdout)
    assert "bob" in preview["config"]["changes"]["users"]["added"]
    cli(data, "restore", "before-reset", "--config")
    cli(data, "restore", "before-reset", "--path", "docs")
    assert (docs / "report.bin").read_bytes() == before
    Web(device.url).login("bob", "B0b!secret")
    Web(device.url).login("alice", STRONG)


def test_restore_follows_no_link_and_matches_names_literally(
        nas: tuple[DeviceProcess, Web], tmp_path: Path) -> None:
    device, admin = nas
    data = device.data_dir
    docs = data / "volume1" / "docs"
    (docs / "a[1].txt").write_text("brackets")
    (docs / "a1.txt").write_text("plain")
    cli(data, "create", "t", "--destination", str(tmp_path / "usb"), "--source", "docs",
        "--password", REPO_PASSWORD)
    assert "done" in cli(data, "run", "t").stdout

    (docs / "a[1].txt").write_text("changed")
    (docs / "a1.txt").write_text("changed")
    cli(data, "restore", "t", "--path", "docs/a[1].txt")
    assert (docs / "a[1].txt").read_text() == "brackets"
    assert (docs / "a1.txt").read_text() == "changed"  # not matched as a pattern

    outside = tmp_path / "outside"
    outside.mkdir()
    admin.ok("SYNO.Core.Share", "create", name="restored")
    (data / "volume1" / "restored" / "link").symlink_to(outside)
    refused = cli(data, "restore", "t", "--target", "restored/link", ok=False)
    assert refused.returncode == 1 and "link" in refused.stderr, refused.stderr
    (docs / "sub").rename(docs / "real")
    (docs / "sub").symlink_to(outside)  # the share's own folder became a link
    refused = cli(data, "restore", "t", "--path", "docs/sub", ok=False)
    assert refused.returncode == 1 and "link" in refused.stderr, refused.stderr
    assert list(outside.iterdir()) == []


def test_vault_on_another_device(device_factory: Factory, tmp_path: Path) -> None:
    """A task whose destination is another device's Hyper Backup Vault: restic's REST
    protocol over HTTPS pinned to the Vault's certificate, one account's repositories."""
    import ssl
    import urllib.error
    import urllib.request

    vault = device_factory(tmp_path / "vault")
    assert vault.install(server_name="vault").returncode == 0
    vault_admin = Web(vault.url).login()
    vault_admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    base = f"{vault.https_url}/hyperbackup-vault"
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE

    def status(url: str, auth: str | None = None, method: str = "GET",
               body: bytes | None = None) -> int:
        request = urllib.request.Request(url, method=method, data=body)
        if auth:
            import base64
            request.add_header("Authorization",
                               "Basic " + base64.b64encode(auth.encode()).decode())
        try:
            with urllib.request.urlopen(request, timeout=10, context=context) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as refused:
            return int(refused.code)

    assert status(f"{base}/alice/r/config", f"alice:{STRONG}") == 404  # the role is off
    assert vault_admin.ok("SYNO.Backup.Service.VersionBackup.Config", "set",
                          enable="true")["enable"] is True

    source = device_factory(tmp_path / "source")
    assert source.install(server_name="source").returncode == 0
    admin = Web(source.url).login()
    admin.ok("SYNO.Core.Share", "create", name="docs")
    (source.data_dir / "volume1" / "docs" / "a.bin").write_bytes(os.urandom(300_000))
    fields = {"name": "offsite", "password": REPO_PASSWORD, "sources": ["docs"],
              "destination": f"rest:{base}/alice/", "remote_user": "alice",
              "remote_password": STRONG, "remote_fingerprint": vault.fingerprint}
    wrong_pin = admin.call("SYNO.Backup.Task", "create",
                           **{**fields, "remote_fingerprint": "AB" * 32})
    assert not wrong_pin["success"] and "fingerprint" in json.dumps(wrong_pin)
    wrong_password = admin.call("SYNO.Backup.Task", "create",
                                **{**fields, "remote_password": "nope"})
    assert not wrong_password["success"]
    assert "nope" not in json.dumps(wrong_password)
    task_id = str(admin.ok("SYNO.Backup.Task", "create", **fields)["task_id"])
    admin.ok("SYNO.Backup.Task", "backup", task_id=task_id)
    assert finished(admin, int(task_id))["last_bkp_result"] == "done"
    assert "ok" in cli(source.data_dir, "check", "offsite").stdout
    stored = vault.data_dir / "volume1" / "@hyperbackup-vault" / "alice" / "offsite.hbk"
    assert (stored / "config").is_file() and any((stored / "snapshots").iterdir())
    assert vault_admin.ok("SYNO.Backup.Service.VersionBackup.Target", "list")[
        "target_list"][0]["name"] == "alice/offsite.hbk"
    (source.data_dir / "volume1" / "docs" / "a.bin").unlink()
    cli(source.data_dir, "restore", "offsite", "--path", "docs/a.bin")
    assert (source.data_dir / "volume1" / "docs" / "a.bin").stat().st_size == 300_000
    task = admin.ok("SYNO.Backup.Task", "get", task_id=task_id)["task"]
    assert STRONG not in json.dumps(task) and "alice:" not in json.dumps(task)

    # synology-api's Vault calls, against the Vault device
    from synology_api.base_api import BaseApi
    from synology_api.core_backup import Backup

    BaseApi.shared_session = None
    client = Backup("127.0.0.1", str(vault.runtime["ports"]["http"]), "alice", STRONG,
                    secure=False, cert_verify=False, dsm_version=6, debug=False,
                    otp_code=None)
    listed = client.vault_target_list()["data"]["target_list"]
    assert [t["name"] for t in listed] == ["alice/offsite.hbk"]
    target_id = listed[0]["target_id"]
    assert client.vault_concurrency_set(3)["data"]["parallel_backup_limit"] == 3
    assert client.vault_concurrency_get()["data"]["parallel_backup_limit"] == 3
    detail = client.vault_target_settings_get(target_id)["data"]["target"]
    assert detail["versions"] == 1 and detail["used_size"] > 300_000
    assert client.vault_task_statistics_get(target_id)["data"]["versions"] == 1
    events = [row["event"] for row in
              client.vault_target_logs_get(target_id)["data"]["log_list"]]
    assert "repository created" in events and any("received" in e for e in events)

    # Strangers, other accounts, plain HTTP, hostile names
    config = f"{base}/alice/offsite.hbk/config"
    assert status(config) == 401
    assert status(config, "alice:wrong") == 401
    assert status(config, "bob:B0b!secret") == 403
    assert status(config, f"alice:{STRONG}") == 200
    assert status(f"{vault.url}/hyperbackup-vault/alice/offsite.hbk/config",
                  f"alice:{STRONG}") == 403  # HTTP: never
    assert status(f"{base}/alice/..%2F..%2Fsystem/config", f"alice:{STRONG}") in (400, 403, 404)
    assert status(f"{base}/alice/offsite.hbk/data/..%2F..%2Fconfig",
                  f"alice:{STRONG}") in (400, 404)
    assert status(config, f"alice:{STRONG}", "DELETE") == 403  # a repository's config stays
    import hashlib
    body = b"not what the name says"
    named = hashlib.sha256(b"something else").hexdigest()
    locks = f"{base}/alice/offsite.hbk/locks"
    assert status(f"{locks}/{named}", f"alice:{STRONG}", "POST", body) == 400
    honest = hashlib.sha256(body).hexdigest()
    assert status(f"{locks}/{honest}", f"alice:{STRONG}", "POST", body) == 200
    assert status(f"{locks}/{honest}", f"alice:{STRONG}", "POST", body) == 403  # written once
    assert status(f"{locks}/{honest}", f"alice:{STRONG}", "DELETE") == 200
    assert not list((stored / "locks").iterdir())  # no temporary file left behind


def test_webdav_destination_through_rclone(device_factory: Factory, tmp_path: Path) -> None:
    """A task whose destination is a WebDAV folder (here another device's WebDAV server,
    over HTTPS pinned to its certificate), reached by restic's rclone backend."""
    from openstation.fileserv.smb import missing_parts

    if shutil.which("rclone") is None:
        pytest.skip("rclone is not installed (Debian's rclone package)")
    if missing_parts() is not None:
        pytest.skip(f"file services cannot run here: {missing_parts()}")
    target = device_factory(tmp_path / "target", file_services=True)
    assert target.install(server_name="dav").returncode == 0
    target_admin = Web(target.url).login()
    target_admin.ok("SYNO.Core.Share", "create", name="backups")
    target_admin.ok("SYNO.Core.FileServ.WebDAV", "set", enable="true")
    target.refresh()
    url = f"https://127.0.0.1:{target.runtime['file_services']['webdavs']}/backups"

    data = tmp_path / "source"
    source = device_factory(data)
    assert source.install(server_name="source").returncode == 0
    admin = Web(source.url).login()
    admin.ok("SYNO.Core.Share", "create", name="docs")
    (data / "volume1" / "docs" / "b.bin").write_bytes(os.urandom(100_000))
    cli(data, "create", "dav", "--destination", f"webdav:{url}", "--source", "docs",
        "--password", REPO_PASSWORD, "--vault-user", "alice", "--vault-password", STRONG,
        "--vault-fingerprint", target.fingerprint)
    assert "done" in cli(data, "run", "dav").stdout
    stored = target.data_dir / "volume1" / "backups" / "dav.hbk"
    assert (stored / "config").is_file() and any((stored / "snapshots").iterdir())
    assert len(cli_json(data, "versions", "dav")) == 1
    (data / "volume1" / "docs" / "b.bin").unlink()
    cli(data, "restore", "dav", "--path", "docs/b.bin")
    assert (data / "volume1" / "docs" / "b.bin").stat().st_size == 100_000
    listed = json.dumps(cli_json(data, "list"))
    assert STRONG not in listed and REPO_PASSWORD not in listed


def test_key_manager_carries_the_password_through_mode_2(device_factory: Factory,
                                                         tmp_path: Path) -> None:
    """Key Manager keeps the repository password under a passphrase; the daily snapshot on
    volume1 carries it through a Mode 2 reset, and the reinstalled device opens the
    repository with the passphrase alone."""
    data = tmp_path / "data"
    device = device_factory(data)
    assert device.install().returncode == 0
    Web(device.url).login().ok("SYNO.Core.Share", "create", name="docs")
    (data / "volume1" / "docs" / "x.txt").write_text("kept")
    usb = tmp_path / "usb"
    cli(data, "create", "k", "--destination", str(usb), "--source", "docs",
        "--password", REPO_PASSWORD)
    assert "done" in cli(data, "run", "k").stdout
    short = cli(data, "key-manager", "k", "--passphrase", "short", ok=False)
    assert short.returncode == 1 and "8+" in short.stderr
    cli(data, "key-manager", "k", "--passphrase", "key store pass")
    assert REPO_PASSWORD not in json.dumps(
        admin_log := Web(device.url).login().ok("SYNO.SDS.Backup.Client.Common.Log", "list"))
    assert admin_log["total"] > 0

    assert openstation("panel", "reset", "--mode", "2", "--data-dir", str(data),
                       timeout=90).returncode == 0
    wait_for_status(data, "Configuration lost", 60)
    device.refresh()
    installed = openstation("install", "--url", device.url, "--server-name", "nas1",
                            "--admin-user", "alice", "--password", STRONG, "--restore-latest")
    assert installed.returncode == 0, installed.stderr
    wrong = cli(data, "create", "k", "--destination", str(usb), "--source", "docs",
                "--key-manager-passphrase", "not the passphrase", ok=False)
    assert wrong.returncode == 1 and "passphrase" in wrong.stderr
    cli(data, "create", "k", "--destination", str(usb), "--source", "docs",
        "--key-manager-passphrase", "key store pass")
    (data / "volume1" / "docs" / "x.txt").unlink()
    cli(data, "restore", "k", "--path", "docs/x.txt")
    assert (data / "volume1" / "docs" / "x.txt").read_text() == "kept"
