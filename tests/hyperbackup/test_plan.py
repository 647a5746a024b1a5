"""Hyper Backup's pure decisions: repositories, rotation, schedules, progress, names."""

from __future__ import annotations

from openstation.backup import plan
from openstation.backup.plan import Progress
from openstation.config.sections import BackupTask, Rotation

MONDAY_NOON = 1_796_990_400.0  # any instant: the wall time is given with it
WALL = (0, 12, 0, 0)


def test_repository_of_each_kind_of_destination() -> None:
    assert plan.repository_of("/mnt/usb", "nightly") == "/mnt/usb/nightly.hbk"
    assert plan.repository_of("rest:https://vault:8000/alice/", "n") == \
        "rest:https://vault:8000/alice/n.hbk"
    assert plan.repository_of("rest:https://vault/alice", "a b#") == \
        "rest:https://vault/alice/a%20b%23.hbk"
    webdav = plan.repository_of("webdav:https://nas:5006/backups/", "n")
    assert webdav == "webdav:https://nas:5006/backups/n.hbk"
    assert plan.rclone_location(webdav) == ("rclone:target:n.hbk",
                                            "https://nas:5006/backups")
    assert plan.is_remote("webdav:https://h/x") and plan.is_remote("rest:http://h/")
    assert not plan.is_remote("/mnt/usb") and not plan.is_remote("rest:ftp://h")
    assert not plan.is_remote("rclone:dav:x")


def test_rotation_becomes_forget_options() -> None:
    assert plan.forget_args(BackupTask(rotation=Rotation.ALL)) == []
    assert plan.forget_args(BackupTask(rotation=Rotation.NEWEST, keep_versions=5)) == [
        "--keep-last", "5"]
    smart = plan.forget_args(BackupTask(rotation=Rotation.SMART, keep_versions=30))
    assert smart == ["--keep-within-hourly", "1d", "--keep-within-daily", "1m",
                     "--keep-weekly", "30"]


def test_next_run_follows_days_and_time() -> None:
    off = BackupTask(schedule_enabled=False, schedule_days=[0])
    assert plan.next_run(off, MONDAY_NOON, WALL) is None
    later_today = BackupTask(schedule_enabled=True, schedule_days=[0], schedule_hour=13)
    assert plan.next_run(later_today, MONDAY_NOON, WALL) == MONDAY_NOON + 3600
    earlier = BackupTask(schedule_enabled=True, schedule_days=[0], schedule_hour=11)
    assert plan.next_run(earlier, MONDAY_NOON, WALL) == MONDAY_NOON + 7 * 86400 - 3600
    wednesday = BackupTask(schedule_enabled=True, schedule_days=[2, 5], schedule_hour=3,
                           schedule_minute=30)
    assert plan.next_run(wednesday, MONDAY_NOON, WALL) == \
        MONDAY_NOON + 2 * 86400 - 12 * 3600 + 3 * 3600 + 1800
    exactly_now = BackupTask(schedule_enabled=True, schedule_days=[0], schedule_hour=12)
    assert plan.next_run(exactly_now, MONDAY_NOON, WALL) == MONDAY_NOON + 7 * 86400


def test_progress_from_restic_status_lines() -> None:
    line = {"message_type": "status", "percent_done": 0.5, "total_files": 10,
            "files_done": 5, "total_bytes": 1000, "bytes_done": 500,
            "seconds_remaining": 7, "current_files": ["/docs/a"]}
    assert Progress.from_status(line).to_json() == {
        "progress": 50.0, "processed_files": 5, "total_files": 10, "processed_size": 500,
        "total_size": 1000, "eta_seconds": 7, "current_file": "/docs/a"}
    hostile = {"percent_done": "x", "files_done": -3, "total_bytes": "9",
               "current_files": [3]}
    assert Progress.from_status(hostile) == Progress()


def test_keep_both_names() -> None:
    assert plan.restored_name("report.txt", {"report.txt"}) == "report (1).txt"
    assert plan.restored_name("report.txt", {"report (1).txt"}) == "report (2).txt"
    assert plan.restored_name("README", set()) == "README (1)"
    assert plan.restored_name(".profile", set()) == ".profile (1)"
