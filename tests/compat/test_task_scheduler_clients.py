"""Control Panel > Task Scheduler through synology-api's TaskScheduler, unchanged, against a
device: every kind of task it makes (a script as an account and as root, a beep, a service
control, a recycle-bin clean) is created, read back, changed, run for real, and deleted.
A script's output is kept (and written into a shared folder when asked), a timeout stops it,
a failure mails the task's address through an SMTP server the test runs, and every run is
in Log Center. A user without rights, a stranger's token and hostile input change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from synology_api.exceptions import TaskSchedulerError

from openstation.testing import STRONG, DeviceProcess, Web, openstation, wait_for
from tests.notify.test_notifications import Inbox, inbox  # noqa: F401  (the fixture)

Factory = Callable[..., DeviceProcess]
TS = "SYNO.Core.TaskScheduler"


def client(device: DeviceProcess) -> Any:
    from synology_api.base_api import BaseApi
    from synology_api.task_scheduler import TaskScheduler

    BaseApi.shared_session = None
    return TaskScheduler("127.0.0.1", str(device.runtime["ports"]["http"]), "alice", STRONG,
                         secure=False, cert_verify=False, dsm_version=6, debug=False,
                         otp_code=None)


def finished(admin: Web, task_id: int, runs: int = 1) -> list[dict[str, Any]]:
    """The task's results once it has `runs` of them (newest first)."""
    wait_for(lambda: len(admin.ok(TS, "get_history_status_list", id=task_id)) >= runs,
             timeout=30)
    return list(admin.ok(TS, "get_history_status_list", id=task_id))


def test_every_kind_of_task_through_synology_api(device_factory: Factory, tmp_path: Path,
                                                 inbox: tuple[Inbox, int]) -> None:  # noqa: F811
    box, smtp_port = inbox
    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.Share", "create", name="scripts")
    admin.ok("SYNO.Core.Share", "create", name="trash", enable_recycle_bin="true")
    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    admin.ok("SYNO.Core.Notification.Mail.Conf", "set", smtp_server="127.0.0.1",
             smtp_port=smtp_port, security="none", mail="ops@example.com")
    volume = device.data_dir / "volume1"
    ts = client(device)

    # A script as an account, mailed only on error; one as root, through the password.
    made = ts.create_script_task("Greet", "bob", "echo hello from $USER; pwd >&2",
                                 start_time_h=3, notify_email="ops@example.com",
                                 notify_only_on_error=True)
    assert made["success"], made
    greet = made["data"]["id"]
    rooted = ts.create_script_task("As root", "root", "id -u > \"$VOLUME1/scripts/uid\"; exit 3",
                                   run_days="1,3", start_time_h=4, start_time_m=30,
                                   notify_email="ops@example.com")
    assert rooted["success"], rooted
    root_id = rooted["data"]["id"]

    listed = ts.get_task_list()["data"]
    mine = {t["id"]: t for t in listed["tasks"] if isinstance(t["id"], int)}
    assert mine[greet]["action"] == "Run: echo hello from $USER; pwd >&2"
    assert mine[greet]["owner"] == "bob" and mine[greet]["type"] == "script"
    assert mine[root_id]["next_trigger_time"].endswith("04:30")
    assert any(t["type"] == "config_backup" for t in listed["tasks"])
    config = ts.get_task_config(greet, "bob")["data"]
    assert config["extra"] == {"script": "echo hello from $USER; pwd >&2",
                               "notify_enable": True, "notify_mail": "ops@example.com",
                               "notify_if_error": True, "timeout": 3600}
    assert config["schedule"]["hour"] == 3 and config["schedule"]["week_day"] == \
        "0,1,2,3,4,5,6"
    with pytest.raises(TaskSchedulerError):  # the task is bob's, not alice's
        ts.get_task_config(greet, "alice")

    # Output also into a shared folder.
    assert ts.set_output_config(True, "scripts/output")["success"]
    assert ts.get_output_config()["data"] == {"enable_output": True,
                                              "output_path": "scripts/output",
                                              "type": "esynoscheduler"}

    assert ts.task_run(greet, "bob")["success"]
    result = finished(admin, greet)[0]
    assert (result["exit_code"], result["exit_type"]) == (0, "normal")
    log = admin.ok(TS, "get_history_log", id=greet, timestamp=result["timestamp"])["log"]
    assert log.startswith("hello from bob\n") and str(volume) in log
    copies = list((volume / "scripts" / "output").glob(f"{greet}-Greet/*/output.log"))
    assert len(copies) == 1 and copies[0].read_text() == log
    assert ts.set_output_config(False)["success"]
    assert ts.get_output_config()["data"]["enable_output"] is False

    assert ts.task_run(root_id, "root")["success"]
    failed = finished(admin, root_id)[0]
    assert (failed["exit_code"], failed["exit_type"]) == (3, "normal")
    assert (volume / "scripts" / "uid").read_text().strip().isdigit()
    wait_for(lambda: any("As root failed" in s for s in box.subjects()), timeout=30)
    assert not any("Greet" in s for s in box.subjects())  # it ran well: no mail asked

    # Changed, switched off and on, as the library does it.
    changed = ts.modify_script_task(greet, "Greet again", "bob", "bob", "echo again",
                                    start_time_h=5)
    assert changed["success"], changed
    assert ts.get_task_config(greet, "bob")["data"]["name"] == "Greet again"
    assert ts.task_set_enable(greet, "bob", False)["success"]
    assert next(t for t in ts.get_task_list()["data"]["tasks"]
                if t["id"] == greet)["enable"] is False
    assert ts.task_set_enable(greet, "bob", True)["success"]
    with pytest.raises(TaskSchedulerError):  # not alice's task: nothing switched
        ts.task_set_enable(greet, "alice", False)

    # A beep, a service control, a recycle-bin clean.
    beep = ts.create_beep_control_task("Beep", "alice", beep_duration=2)["data"]["id"]
    assert ts.modify_beep_control_task(beep, "Beep", "alice", beep_duration=3)["success"]
    services = admin.ok(TS, "get", id=-1, type="service")["services"]
    assert "HyperBackupVault" in {s["id"] for s in services}
    vault = ts.create_service_control_task(
        "Vault on", "alice", [{"id": "HyperBackupVault", "type": "package"}], "start")
    assert vault["success"], vault
    clean = ts.create_recycle_bin_task("Empty trash", "alice", False, {"policy": "clean_all"},
                                       shares=["trash"])
    assert clean["success"], clean
    (volume / "trash" / "#recycle" / "old").mkdir(parents=True)
    (volume / "trash" / "#recycle" / "old" / "gone.txt").write_text("deleted before")
    (volume / "trash" / "kept.txt").write_text("still here")
    for task_id, owner in ((beep, "alice"), (vault["data"]["id"], "alice"),
                           (clean["data"]["id"], "alice")):
        assert ts.task_run(task_id, owner)["success"]
        assert finished(admin, task_id)[0]["exit_type"] == "normal"
    panel = json.loads(openstation("panel", "status", "--data-dir", str(device.data_dir),
                                   "--json").stdout)
    assert any("Beep (3 s)" in b["reason"] for b in panel["beeps"])
    assert admin.ok("SYNO.Core.Package", "get", id="HyperBackupVault",
                    additional='["status"]')["additional"]["status"] == "running"
    assert not (volume / "trash" / "#recycle" / "old").exists()
    assert (volume / "trash" / "kept.txt").read_text() == "still here"

    # Every run is in Log Center, a failed one as an error.
    entries = admin.ok("SYNO.Core.SyslogClient.Log", "list", limit=200)["items"]
    runs = [e for e in entries if "scheduled_tasks" in json.dumps(e) and "run" in
            json.dumps(e)]
    assert len(runs) >= 5 and any(e.get("level") == "err" for e in runs), runs

    for task_id, owner in ((greet, "bob"), (root_id, "root"), (beep, "alice")):
        assert ts.task_delete(task_id, owner)["success"]
    left = {t["id"] for t in ts.get_task_list()["data"]["tasks"]}
    assert greet not in left and root_id not in left
    assert admin.call(TS, "get_history_status_list", id=greet)["error"]["code"] == 120


def test_a_timeout_stops_a_script_and_its_children(device_factory: Factory,
                                                    tmp_path: Path) -> None:
    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    made = admin.ok(TS, "create", type="script", name="Slow", owner="alice",
                    schedule="{}", extra=json.dumps({"script": "sleep 60 & sleep 60; echo x",
                                                     "timeout": 1}))
    admin.ok(TS, "run", tasks=json.dumps([{"id": made["id"], "real_owner": "alice"}]))
    # a second run while it runs is refused
    again = admin.call(TS, "run", tasks=json.dumps([{"id": made["id"]}]))
    assert again["error"]["code"] == 120
    result = finished(admin, made["id"])[0]
    assert result["exit_type"] == "timeout" and "timeout of 1 s" in result["detail"]
    assert result["output_bytes"] == 0


def test_no_rights_no_token_and_hostile_input(device_factory: Factory, tmp_path: Path) -> None:
    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.Share", "create", name="scripts")
    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    script = json.dumps({"script": "touch /tmp/should-not-run"})

    # A user without rights: nothing listed, made or run.
    bob = Web(device.url).login("bob", "B0b!secret")
    for method, params in (("list", {}), ("create", {"type": "script", "name": "x",
                                                      "owner": "bob", "extra": script}),
                           ("run", {"tasks": '[{"id": 1}]'})):
        assert bob.call(TS, method, **params)["error"]["code"] == 105
    assert bob.call("SYNO.Core.EventScheduler", "config_set", enable_output="true",
                    output_path="scripts")["error"]["code"] == 105

    # Root needs .Root and a password confirmed in this very session.
    root = {"type": "script", "name": "r", "owner": "root", "extra": script}
    assert admin.call(TS, "create", **root)["error"]["code"] == 105
    assert admin.call("SYNO.Core.TaskScheduler.Root", "create", **root)["error"]["code"] == 105
    wrong = admin.call("SYNO.Core.User.PasswordConfirm", "auth", password="not it")
    assert wrong["error"]["code"] == 105
    other = Web(device.url).login()
    token = other.ok("SYNO.Core.User.PasswordConfirm", "auth", password=STRONG)[
        "SynoConfirmPWToken"]
    assert admin.call("SYNO.Core.TaskScheduler.Root", "create", SynoConfirmPWToken=token,
                      **root)["error"]["code"] == 105  # another session's token
    assert bob.call("SYNO.Core.User.PasswordConfirm", "auth",
                    password="B0b!secret")["success"]  # any user may confirm...
    made = admin.ok(TS, "create", type="script", name="mine", owner="alice", extra=script)
    # ...but turning an account's script into root's needs it too
    assert admin.call(TS, "set", id=made["id"], owner="root")["error"]["code"] == 105

    hostile: list[dict[str, Any]] = [
        {"type": "script", "name": "x", "owner": "alice", "extra": '{"script": "a\\u0000b"}'},
        {"type": "script", "name": "x", "owner": "alice",
         "extra": json.dumps({"script": "x" * 70_000})},
        {"type": "script", "name": "bad\u202ename", "owner": "alice", "extra": script},
        {"type": "script", "name": "x", "owner": "nobody", "extra": script},
        {"type": "script", "name": "x", "owner": "../etc", "extra": script},
        {"type": "script", "name": "x", "owner": "alice", "extra": script,
         "schedule": '{"hour": 99}'},
        {"type": "script", "name": "x", "owner": "alice", "extra": script, "schedule": "[1]"},
        {"type": "script", "name": "x", "owner": "alice",
         "extra": json.dumps({"script": "true", "timeout": 0})},
        {"type": "script", "name": "x", "owner": "alice", "extra": "not json {"},
        {"type": "recycle", "name": "x", "owner": "alice",
         "extra": json.dumps({"clean_share_policy": {"clean_all": False,
                                                     "shares": ["../../etc"]},
                              "clean_file_policy": {"policy": "clean_all"}})},
        {"type": "service", "name": "x", "owner": "alice",
         "extra": json.dumps({"action": "stop", "services": [{"id": "FileStation"}]})},
        {"type": "shell", "name": "x", "owner": "alice", "extra": script},
    ]
    for params in hostile:
        answer = admin.call(TS, "create", **params)
        assert answer["error"]["code"] in (114, 120), (params, answer)
    for path in ("../etc", "@appstore", "nosuchshare/x", "scripts/../../x"):
        answer = admin.call("SYNO.Core.EventScheduler", "config_set", enable_output="true",
                            output_path=path)
        assert answer["error"]["code"] == 120, path
    # A root script switched off (as a restored one comes back) needs the password to go on.
    mine = admin.ok("SYNO.Core.User.PasswordConfirm", "auth", password=STRONG)[
        "SynoConfirmPWToken"]
    rooted = admin.ok("SYNO.Core.TaskScheduler.Root", "create", SynoConfirmPWToken=mine,
                      enable="false", **root)
    switch_on = json.dumps([{"id": rooted["id"], "real_owner": "root", "enable": True}])
    assert admin.call(TS, "set_enable", status=switch_on)["error"]["code"] == 105
    admin.ok(TS, "set_enable", status=switch_on, SynoConfirmPWToken=mine)
    assert sorted(t["name"] for t in admin.ok(TS, "list")["tasks"]
                  if isinstance(t["id"], int)) == ["mine", "r"]
    assert not Path("/tmp/should-not-run").exists()


def test_output_never_follows_a_planted_link(device_factory: Factory, tmp_path: Path) -> None:
    """A user who can write the output folder plants a link where the task's folder goes:
    the output is not written through it."""
    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.Share", "create", name="scripts")
    outside = tmp_path / "outside"
    outside.mkdir()
    made = admin.ok(TS, "create", type="script", name="Out", owner="alice",
                    extra=json.dumps({"script": "echo secret"}))
    admin.ok("SYNO.Core.EventScheduler", "config_set", enable_output="true",
             output_path="scripts/out")
    (device.data_dir / "volume1" / "scripts" / "out").mkdir()
    (device.data_dir / "volume1" / "scripts" / "out" / f"{made['id']}-Out").symlink_to(outside)
    admin.ok(TS, "run", tasks=json.dumps([{"id": made["id"]}]))
    result = finished(admin, made["id"])[0]
    assert result["exit_type"] == "normal"
    assert list(outside.iterdir()) == []
    assert admin.ok(TS, "get_history_log", id=made["id"],
                    timestamp=result["timestamp"])["log"] == "secret\n"


def test_the_power_schedule_through_synology_api(device_factory: Factory,
                                                 tmp_path: Path) -> None:
    from synology_api.base_api import BaseApi
    from synology_api.event_scheduler import EventScheduler

    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    BaseApi.shared_session = None
    events = EventScheduler("127.0.0.1", str(device.runtime["ports"]["http"]), "alice",
                            STRONG, secure=False, cert_verify=False, dsm_version=6,
                            debug=False, otp_code=None)
    assert events.load_power_schedule()["data"]["poweron_tasks"] == []
    on = {"enabled": True, "hour": 7, "min": 30, "weekdays": "1,2,3,4,5"}
    off = {"enabled": False, "hour": 23, "min": 0, "weekdays": "0,1,2,3,4,5,6"}
    saved = events.set_power_schedule(poweron_tasks=[on], poweroff_tasks=[off])
    assert saved["success"], saved
    loaded = events.load_power_schedule()["data"]
    assert (loaded["poweron_tasks"], loaded["poweroff_tasks"]) == ([on], [off])
    assert loaded["powered_off"] is False
    admin = Web(device.url).login()
    bad = admin.call("SYNO.Core.Hardware.PowerSchedule", "save",
                     poweron_tasks='[{"hour": 25, "min": 0}]')
    assert bad["error"]["code"] == 120
    assert admin.call("SYNO.Core.Hardware.PowerSchedule", "save",
                      poweron_tasks='{"x": 1}')["error"]["code"] == 120
    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    bob = Web(device.url).login("bob", "B0b!secret")
    assert bob.call("SYNO.Core.Hardware.PowerSchedule", "save",
                    poweron_tasks="[]")["error"]["code"] == 105
    assert events.load_power_schedule()["data"]["poweron_tasks"] == [on]  # unchanged
