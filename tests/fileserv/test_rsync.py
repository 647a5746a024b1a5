"""rsync's daemon mode over the device's SSH server, with the real rsync and ssh clients."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.fileserv.conftest import Served, needs_samba, rsync

pytestmark = [needs_samba, pytest.mark.skipif(
    subprocess.run(["which", "ssh"], capture_output=True).returncode != 0,
    reason="no ssh client")]


def transferred(stats: str) -> int:
    found = re.search(r"Number of regular files transferred: ([\d,]+)", stats)
    assert found, stats
    return int(found[1].replace(",", ""))


def test_a_tree_pushed_changed_and_pushed_again_sends_only_the_change(
        served: Served, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for n in range(10_000):
        folder = tree / f"d{n % 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{n}.txt").write_text(f"file {n}\n")
    target = "bob@127.0.0.1::alpha/tree/"
    first = rsync(served, tmp_path, "bob", "-a", "--stats", f"{tree}/", target)
    assert first.returncode == 0, first.stderr
    assert transferred(first.stdout) == 10_000
    assert (served.volume / "alpha" / "tree" / "d07" / "f507.txt").read_text() == "file 507\n"
    (tree / "d42" / "f42.txt").write_text("changed\n")
    again = rsync(served, tmp_path, "bob", "-a", "--stats", f"{tree}/", target)
    assert again.returncode == 0, again.stderr
    assert transferred(again.stdout) == 1
    assert (served.volume / "alpha" / "tree" / "d42" / "f42.txt").read_text() == "changed\n"
    back = tmp_path / "back"
    pulled = rsync(served, tmp_path, "carol", "-a", "carol@127.0.0.1::alpha/tree/d42/",
                   f"{back}/")
    assert pulled.returncode == 0, pulled.stderr
    assert (back / "f42.txt").read_text() == "changed\n"


def test_rsync_keeps_to_the_rights_and_the_module(served: Served, tmp_path: Path) -> None:
    served.admin.ok("SYNO.Backup.Service.NetworkBackup", "set", enable="false")
    refused_while_off = rsync(served, tmp_path, "bob", "bob@127.0.0.1::")
    assert refused_while_off.returncode != 0
    assert "alpha" not in refused_while_off.stdout
    served.admin.ok("SYNO.Backup.Service.NetworkBackup", "set", enable="true")
    listed = rsync(served, tmp_path, "bob", "bob@127.0.0.1::")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["alpha"]  # beta and gamma are not bob's
    source = tmp_path / "x.txt"
    source.write_text("x")
    read_only = rsync(served, tmp_path, "carol", str(source), "carol@127.0.0.1::alpha/")
    assert read_only.returncode != 0 and not (served.volume / "alpha" / "x.txt").exists()
    no_access = rsync(served, tmp_path, "bob", str(source), "bob@127.0.0.1::gamma/")
    assert no_access.returncode != 0 and not (served.volume / "gamma" / "x.txt").exists()
    # The remote-shell mode names any path: refused
    any_path = rsync(served, tmp_path, "bob", "bob@127.0.0.1:/etc/passwd", str(tmp_path))
    assert any_path.returncode != 0 and not (tmp_path / "passwd").exists()
    # Nothing leaves the module: .. and the device's own entries
    (served.volume / "alpha" / "@eaDir").mkdir()
    (served.volume / "alpha" / "@eaDir" / "secret").write_text("device's own")
    rsync(served, tmp_path, "bob", "-a", "bob@127.0.0.1::alpha/../beta/",
          f"{tmp_path / 'climbed'}/")
    got = [p.read_text() for p in (tmp_path / "climbed").rglob("*") if p.is_file()]
    assert "seed of beta" not in got
    whole = rsync(served, tmp_path, "bob", "-a", "bob@127.0.0.1::alpha/",
                  f"{tmp_path / 'whole'}/")
    assert whole.returncode == 0, whole.stderr
    assert (tmp_path / "whole" / "seed.txt").exists()
    assert not (tmp_path / "whole" / "@eaDir").exists()
    wrong = rsync(served, tmp_path, "bob", "bob@127.0.0.1::", password="wrong")
    assert wrong.returncode != 0
