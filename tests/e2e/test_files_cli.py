"""`openstation files` against a running device: a script's whole round trip, as a user
with rights and as one without."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from openstation.testing import STRONG, DeviceProcess, openstation

Factory = Callable[..., DeviceProcess]


def test_files_commands_round_trip(device_factory: Factory, tmp_path: Path,
                                   monkeypatch: object) -> None:
    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    data = str(device.data_dir)
    openstation("share", "create", "work", "--data-dir", data, check=True)
    openstation("user", "create", "bob", "--password", "B0b!secret", "--data-dir", data,
                check=True)
    as_alice = ("--data-dir", data, "--user", "alice", "--password", STRONG)
    report = tmp_path / "report.csv"
    report.write_bytes(b"a,b\n" * 50_000)

    put = openstation("files", "put", str(report), "/work/in", *as_alice, check=True)
    assert "/work/in/report.csv" in put.stdout
    listed = json.loads(openstation("files", "ls", "/work/in", "--json", *as_alice,
                                    check=True).stdout)
    assert [(e["name"], e["additional"]["size"]) for e in listed] == [("report.csv", 200_000)]
    shares = openstation("files", "ls", *as_alice, check=True).stdout
    assert "work/" in shares
    again = openstation("files", "put", str(report), "/work/in", *as_alice)
    assert again.returncode == 1 and "already exists" in again.stderr
    openstation("files", "cp", "/work/in/report.csv", "/work", *as_alice, check=True)
    openstation("files", "mv", "/work/report.csv", "/work/in", "--overwrite", *as_alice,
                check=True)
    found = openstation("files", "find", "/work", "report", *as_alice, check=True).stdout
    assert found.split() == ["/work/in/report.csv"]
    got = tmp_path / "back.csv"
    openstation("files", "get", "/work/in/report.csv", str(got), *as_alice, check=True)
    assert got.read_bytes() == report.read_bytes()
    openstation("files", "get", "/work/in", str(tmp_path), *as_alice, check=True)
    assert zipfile.ZipFile(tmp_path / "in.zip").read("in/report.csv") == report.read_bytes()

    link = json.loads(openstation("files", "link", "/work/in/report.csv", "--json",
                                  *as_alice, check=True).stdout)[0]
    assert link["url"].endswith("/sharing/" + link["id"])
    openstation("files", "link", "--revoke", link["id"], *as_alice, check=True)
    assert "report.csv" not in openstation("files", "link", *as_alice, check=True).stdout

    as_bob = ("--data-dir", data, "--user", "bob", "--password", "B0b!secret")
    refused = openstation("files", "rm", "/work/in", *as_bob)
    assert refused.returncode == 1 and "not permitted" in refused.stderr
    wrong = openstation("files", "ls", "/work", "--data-dir", data, "--user", "alice",
                        "--password", "wrong")
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    openstation("files", "rm", "/work/in", *as_alice, check=True)
    assert not (device.data_dir / "volume1" / "work" / "in").exists()
    stopped = openstation("files", "ls", "--data-dir", str(tmp_path / "none"), "--user",
                          "alice", "--password", STRONG)
    assert stopped.returncode == 1 and "no device runs" in stopped.stderr
