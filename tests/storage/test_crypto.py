"""Encrypted shared folders' cryptography and path checks (no sockets)."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openstation.errors import IllegalPathError, IntegrityError, WrongKeyError
from openstation.storage import crypto
from openstation.storage.crypto import ShareCipher
from openstation.storage.paths import split

KEY = bytes(range(32))


def sealed(data: bytes) -> bytes:
    sink = io.BytesIO()
    ShareCipher(KEY).encrypt_stream(iter([data]), sink)
    return sink.getvalue()


@given(st.binary(max_size=200_000))
def test_contents_round_trip_and_sizes(data: bytes) -> None:
    raw = sealed(data)
    assert crypto.plain_size(len(raw)) == len(data)
    assert b"".join(ShareCipher(KEY).decrypt_stream(io.BytesIO(raw))) == data


@pytest.mark.parametrize("damage", ["flip", "truncate-chunk", "truncate-tail", "swap",
                                    "header"])
def test_tampering_is_an_integrity_error_never_garbage(damage: str) -> None:
    raw = bytearray(sealed(os.urandom(3 * crypto.CHUNK + 100)))
    if damage == "flip":
        raw[5000] ^= 1
    elif damage == "truncate-chunk":
        raw = raw[: 16 + crypto.CHUNK + 16]  # whole chunks, but the last is missing
    elif damage == "truncate-tail":
        raw = raw[:-10]
    elif damage == "swap":
        size = crypto.CHUNK + 16
        first, second = raw[16:16 + size], raw[16 + size:16 + 2 * size]
        raw[16:16 + size], raw[16 + size:16 + 2 * size] = second, first
    else:
        raw[0:4] = b"XXXX"
    with pytest.raises(IntegrityError):
        b"".join(ShareCipher(KEY).decrypt_stream(io.BytesIO(bytes(raw))))


def test_the_wrong_key_cannot_read() -> None:
    with pytest.raises(IntegrityError):
        b"".join(ShareCipher(bytes(32)).decrypt_stream(io.BytesIO(sealed(b"secret"))))


def test_names_are_encrypted_deterministically_and_authenticated() -> None:
    cipher = ShareCipher(KEY)
    stored = cipher.encrypt_name("Tax return 2024.pdf")
    assert "tax" not in stored.lower() and stored == cipher.encrypt_name("Tax return 2024.pdf")
    assert cipher.decrypt_name(stored) == "Tax return 2024.pdf"
    with pytest.raises(IntegrityError):
        ShareCipher(bytes(32)).decrypt_name(stored)


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
