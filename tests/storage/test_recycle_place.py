"""Where a deleted entry goes in a share's recycle bin (pure), and the move itself."""

from __future__ import annotations

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
