"""The replication core on a real file system: what is replicated, the resync plan,
checked arrivals, hostile paths, and files only the passive has kept aside."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

import pytest

from openstation.cluster import replication as rep
from openstation.config.store import RowChange
from openstation.errors import ReplicationError


def test_only_shared_folders_are_replicated() -> None:
    assert rep.replicated(PurePosixPath("docs/a/b.txt"))
    assert rep.replicated(PurePosixPath("docs/@share.json"))
    for own in ("@openstation/volume.json", "@config-backups/x.json", "@ha-incoming/1",
                ".hidden", "docs/@upload-0011"):
        assert not rep.replicated(PurePosixPath(own))


@pytest.mark.parametrize("hostile", ["../etc/passwd", "/etc/passwd", "docs/../../x",
                                     "@openstation/volume.json", "docs/\x00x", ""])
def test_a_peer_cannot_name_a_path_outside_the_shared_folders(tmp_path: Path,
                                                                hostile: str) -> None:
    with pytest.raises(ReplicationError):
        rep.checked(tmp_path, hostile)


def test_the_plan_ships_what_differs_and_sets_aside_what_only_the_passive_has() -> None:
    item = rep.Item
    active = {"docs": item("dir", 0, ""), "docs/a": item("file", 1, "aa"),
              "docs/b": item("file", 2, "bb"), "docs/sub": item("dir", 0, "")}
    passive = {"docs": item("dir", 0, ""), "docs/a": item("file", 1, "aa"),
               "docs/b": item("file", 2, "XX"), "docs/old": item("dir", 0, ""),
               "docs/old/x": item("file", 1, "xx"), "docs/sub": item("file", 3, "ss")}
    plan = rep.plan(active, passive)
    assert plan.files == ["docs/b"]
    assert plan.mkdirs == ["docs/sub"]
    assert plan.extras == ["docs/old", "docs/sub"]  # docs/old/x moves with its folder


def test_a_file_arrives_whole_and_checked_or_not_at_all(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    body = b"x" * 300_000
    good = rep.Receiver(tmp_path, "docs/f.bin", hashlib.sha256(body).hexdigest())
    good.write(body[:1000])
    good.write(body[1000:])
    good.finish()
    assert (tmp_path / "docs" / "f.bin").read_bytes() == body

    bad = rep.Receiver(tmp_path, "docs/f.bin", hashlib.sha256(b"other").hexdigest())
    bad.write(b"tampered")
    with pytest.raises(ReplicationError, match="checksum"):
        bad.finish()
    assert (tmp_path / "docs" / "f.bin").read_bytes() == body  # the old file stays
    assert list((tmp_path / rep.INCOMING).iterdir()) == []


def test_extras_are_moved_to_conflicts_never_deleted(tmp_path: Path) -> None:
    (tmp_path / "docs" / "old").mkdir(parents=True)
    (tmp_path / "docs" / "old" / "x").write_bytes(b"split-brain write")
    rep.apply_extras(tmp_path, ["docs/old"])
    assert not (tmp_path / "docs" / "old").exists()
    kept = list((tmp_path / rep.CONFLICTS).rglob("x"))
    assert [p.read_bytes() for p in kept] == [b"split-brain write"]


def test_the_manifest_walks_shares_only_and_caches_checksums(tmp_path: Path) -> None:
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    (tmp_path / "docs" / "sub" / "f").write_bytes(b"abc")
    (tmp_path / "@openstation").mkdir()
    (tmp_path / "@openstation" / "volume.json").write_text("{}")
    manifest = rep.Manifest(tmp_path)
    items = manifest.items()
    assert set(items) == {"docs", "docs/sub", "docs/sub/f"}
    assert items["docs/sub/f"].sha256 == hashlib.sha256(b"abc").hexdigest()
    assert [rel for rel, _ in manifest.walk(tmp_path / "docs" / "sub")] == ["docs/sub/f"]


@pytest.mark.parametrize("raw", [{}, {"section": 1, "key": "", "data": None},
                                 {"section": "users", "key": "a", "data": "x"}, "rows", None])
def test_a_malformed_row_change_is_refused(raw: object) -> None:
    with pytest.raises(ValueError):
        RowChange.from_json(raw)


def test_a_move_into_a_new_recycle_bin_folder_is_replayed(tmp_path: Path) -> None:
    """The active's recycle bin makes its folders as it moves an entry in: the passive's
    rename makes them too (before, it failed and the pair fell back to a full resync)."""
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    (tmp_path / "docs" / "sub" / "a.txt").write_text("kept")
    assert rep.apply_rename(tmp_path, "docs/sub/a.txt", "docs/#recycle/sub/a.txt")
    assert (tmp_path / "docs" / "#recycle" / "sub" / "a.txt").read_text() == "kept"
    assert not rep.apply_rename(tmp_path, "docs/sub/a.txt", "docs/#recycle/sub/b.txt")
