"""Where a deleted entry goes in a share's recycle bin (pure), and the move itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import cast

import pytest

from openstation.storage import recycle


def kinds(found: dict[str, str]) -> Callable[[PurePosixPath], recycle.Kind]:
    return lambda path: cast(recycle.Kind, found.get(str(path)))


@pytest.mark.parametrize(("deleted", "existing", "placed"), [
    ("docs/a.txt", {}, "#recycle/docs/a.txt"),
    ("docs/a.txt", {"#recycle": "folder", "#recycle/docs": "folder",
                    "#recycle/docs/a.txt": "other"}, "#recycle/docs/a (2).txt"),
    ("docs/a.txt", {"#recycle": "folder", "#recycle/docs": "folder",
                    "#recycle/docs/a.txt": "other", "#recycle/docs/a (2).txt": "folder"},
     "#recycle/docs/a (3).txt"),
    # a file took the bin's name, or a level's: those are numbered, nothing is stopped
    ("docs/a.txt", {"#recycle": "other"}, "#recycle (2)/docs/a.txt"),
    ("docs/a.txt", {"#recycle": "folder", "#recycle/docs": "other"},
     "#recycle/docs (2)/a.txt"),
    ("docs", {"#recycle": "folder", "#recycle/docs": "folder"}, "#recycle/docs (2)"),
    (".profile", {"#recycle": "folder", "#recycle/.profile": "other"},
     "#recycle/.profile (2)"),
])
def test_place(deleted: str, existing: dict[str, str], placed: str) -> None:
    assert str(recycle.place(PurePosixPath(deleted), kinds(existing))) == placed


def test_move_keeps_the_tree_and_never_replaces(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("first")
    assert recycle.move(tmp_path, tmp_path / "docs" / "a.txt") == \
        tmp_path / "#recycle" / "docs" / "a.txt"
    (tmp_path / "docs" / "a.txt").write_text("second")
    recycle.move(tmp_path, tmp_path / "docs" / "a.txt")
    assert (tmp_path / "#recycle" / "docs" / "a.txt").read_text() == "first"
    assert (tmp_path / "#recycle" / "docs" / "a (2).txt").read_text() == "second"
    assert recycle.inside(tmp_path, tmp_path / "#recycle" / "docs")
    assert recycle.inside(tmp_path, tmp_path / "#recycle (2)" / "x")
    assert not recycle.inside(tmp_path, tmp_path / "docs" / "#recycle")


def held(path: str, size: int, deleted: float) -> recycle.Held:
    return recycle.Held(path, size, deleted)


def test_what_each_clean_policy_removes() -> None:
    day = 86400.0
    now = 100 * day
    bin_ = [held("a", 10, now - 40 * day), held("b", 300, now - 1 * day),
            held("c", 200, now - 10 * day), held("d", 5, now - 31 * day)]
    assert recycle.chosen(bin_, recycle.CleanPolicy(), now) == {"a", "b", "c", "d"}
    assert recycle.chosen(bin_, recycle.CleanPolicy("time", days=30), now) == {"a", "d"}
    # down to 310 bytes of 515: the largest first, or the oldest first
    assert recycle.chosen(bin_, recycle.CleanPolicy("size", size=310), now) == {"b"}
    assert recycle.chosen(bin_, recycle.CleanPolicy("size", size=310, largest_first=False),
                          now) == {"a", "d", "c"}
    assert recycle.chosen(bin_, recycle.CleanPolicy("size", size=10_000), now) == set()


def test_emptying_stays_inside_the_bin(tmp_path: Path) -> None:
    """Only what is in #recycle goes: a link planted there is removed as a link, its
    target (outside the bin, or outside the share) stays; so does the rest of the share."""
    share, outside = tmp_path / "share", tmp_path / "outside"
    (share / "#recycle" / "docs" / "deep").mkdir(parents=True)
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    (share / "kept.txt").write_text("not deleted")
    (share / "#recycle" / "docs" / "old.txt").write_text("x" * 100)
    (share / "#recycle" / "docs" / "deep" / "older.txt").write_text("y" * 50)
    (share / "#recycle" / "escape").symlink_to(outside)
    (share / "#recycle" / "docs" / "file-link").symlink_to(outside / "precious.txt")

    files, freed = recycle.empty(share, recycle.CleanPolicy("clean_all"), 0.0)

    assert files == 4 and freed >= 150  # two links (their own size), two files
    assert (outside / "precious.txt").read_text() == "keep me"
    assert (share / "kept.txt").read_text() == "not deleted"
    assert sorted(p.name for p in share.iterdir()) == ["#recycle", "kept.txt"]
    assert list((share / "#recycle").iterdir()) == []


def test_emptying_by_age_leaves_the_recent(tmp_path: Path) -> None:
    share = tmp_path / "share"
    (share / "#recycle").mkdir(parents=True)
    (share / "#recycle" / "new.txt").write_text("new")
    now = (share / "#recycle" / "new.txt").stat().st_ctime
    assert recycle.empty(share, recycle.CleanPolicy("time", days=1), now) == (0, 0)
    assert recycle.empty(share, recycle.CleanPolicy("time", days=1), now + 2 * 86400) == \
        (1, 3)
    assert recycle.empty(tmp_path / "no-such-share", recycle.CleanPolicy(), now) == (0, 0)


def test_a_folder_deleted_whole_counts_from_its_deletion(tmp_path: Path) -> None:
    """Old files inside a folder deleted a moment ago are not "older than N days"."""
    share = tmp_path / "share"
    (share / "docs").mkdir(parents=True)
    (share / "docs" / "old.txt").write_text("old")
    made = (share / "docs" / "old.txt").stat().st_ctime
    time.sleep(1.2)
    recycle.move(share, share / "docs")  # a rename changes the folder's own ctime only
    # A day and 0.6 s after the file was made: the file alone would be over a day old.
    assert recycle.empty(share, recycle.CleanPolicy("time", days=1), made + 86400.6) \
        == (0, 0)
    assert (share / "#recycle" / "docs" / "old.txt").exists()
    assert recycle.empty(share, recycle.CleanPolicy("time", days=1), made + 86402) == (1, 3)


def test_only_the_real_bin_is_emptied(tmp_path: Path) -> None:
    share = tmp_path / "share"
    (share / "#recycle").mkdir(parents=True)
    (share / "#recycle (2)").mkdir()  # a user's own folder of that name
    (share / "#recycle (2)" / "mine.txt").write_text("keep")
    (share / "#recycle" / "gone.txt").write_text("x")
    assert recycle.empty(share, recycle.CleanPolicy(), 0.0) == (1, 1)
    assert (share / "#recycle (2)" / "mine.txt").read_text() == "keep"
