"""Encrypted shared folders' keys and path checks (no sockets; the files are gocryptfs's,
tested in test_gocryptfs.py)."""

from __future__ import annotations

import base64
import os

import pytest

from openstation.errors import IllegalPathError, WrongKeyError
from openstation.storage import crypto
from openstation.storage.paths import split

KEY = bytes(range(32))


def test_each_purpose_has_a_key_of_its_own() -> None:
    """The check value and gocryptfs's password are HKDF subkeys: neither is the data key,
    nor tells anything of the other."""
    check, password = crypto.key_check(KEY), crypto.mount_password(KEY)
    assert crypto.opens(KEY, check) and not crypto.opens(os.urandom(32), check)
    assert base64.b64decode(password) != KEY and len(base64.b64decode(password)) == 32
    assert password.decode() not in check and password == crypto.mount_password(KEY)
    assert crypto.mount_password(os.urandom(32)) != password


def test_passphrase_wrapping_and_key_files() -> None:
    header = crypto.wrap_with_passphrase(KEY, "correct horse")
    assert crypto.unwrap_with_passphrase(header, "correct horse") == KEY
    with pytest.raises(WrongKeyError):
        crypto.unwrap_with_passphrase(header, "wrong horse")
    check = crypto.key_check(KEY)
    key_file = crypto.key_file(KEY, "vault", "uuid-1")
    assert crypto.key_from_file(key_file, "uuid-1", check) == KEY
    with pytest.raises(WrongKeyError):
        crypto.key_from_file(key_file, "uuid-2", check)
    with pytest.raises(WrongKeyError):
        crypto.key_from_file(b"garbage", "uuid-1", check)


@pytest.mark.parametrize("path", ["photos", "/", "/photos/../etc", "/photos/./x",
                                  "/photos/a\x00b", "/photos//x", "/photos/" + "x" * 256,
                                  "/@config-backups/x", "/photos/@share.json"])
def test_unsafe_paths_are_refused(path: str) -> None:
    with pytest.raises(IllegalPathError):
        split(path)


def test_safe_paths_split() -> None:
    assert split("/photos/2024/cat.jpg") == ("photos", ["2024", "cat.jpg"])
    assert split("/photos/") == ("photos", [])
