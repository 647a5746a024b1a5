from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from openstation.datadir import WIPE_ALLOW_LIST, DataDir
from openstation.errors import DataDirError


def tree_digest(root: Path) -> str:
    """SHA-256 over every path, mode and byte below `root`."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_prepare_creates_the_layout_with_a_private_system_partition(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "d")
    data.prepare()
    assert data.system.is_dir() and data.volume.is_dir()
    assert data.system.stat().st_mode & 0o777 == 0o700


def test_the_wipe_allow_list_is_the_system_partition_only() -> None:
    assert WIPE_ALLOW_LIST == ("system",)


def test_wipe_removes_the_system_partition_and_keeps_every_volume_byte(data_dir: DataDir
                                                                       ) -> None:
    (data_dir.system / "config.db").write_bytes(b"config")
    share = data_dir.volume / "photos"
    share.mkdir()
    (share / "cat.jpg").write_bytes(os.urandom(4096))
    (data_dir.root / "hardware.json").write_text("{}")
    before = tree_digest(data_dir.volume)

    data_dir.wipe_system()

    assert data_dir.system.is_dir() and list(data_dir.system.iterdir()) == []
    assert tree_digest(data_dir.volume) == before
    assert (data_dir.root / "hardware.json").exists()


def test_an_interrupted_wipe_is_finished_at_the_next_prepare(data_dir: DataDir) -> None:
    # A crash right after the atomic rename leaves the detached partition behind.
    leftover = data_dir.root / "system.wiping"
    leftover.mkdir()
    (leftover / "config.db").write_bytes(b"old")
    data_dir.prepare()
    assert not leftover.exists()


def test_a_symlinked_system_partition_is_never_wiped_through(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "d")
    data.root.mkdir()
    (data.root / "volume1").mkdir()
    (data.root / "volume1" / "precious").write_text("keep")
    (data.root / "system").symlink_to(data.root / "volume1")
    with pytest.raises(DataDirError, match="symbolic link"):
        data.prepare()
    with pytest.raises(DataDirError, match="symbolic link"):
        data.wipe_system()
    assert (data.root / "volume1" / "precious").read_text() == "keep"


def test_an_unusable_data_directory_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DataDirError, match="not usable"):
        DataDir(blocker / "data").prepare()
