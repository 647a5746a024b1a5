"""Read in the code: an encrypted share used its data key for AES-SIV (both halves), for
every file's AES-GCM content and for a zero-nonce GCM key check. Now each purpose has its
own HKDF subkey; shares made before keep opening."""

from __future__ import annotations

import io
import os

import pytest

from openstation.errors import IntegrityError
from openstation.storage import crypto
from openstation.storage.crypto import ShareCipher

KEY = os.urandom(32)


def sealed(cipher: ShareCipher, data: bytes) -> bytes:
    sink = io.BytesIO()
    cipher.encrypt_stream(iter([data]), sink)
    return sink.getvalue()


def test_names_contents_and_the_check_use_keys_of_their_own() -> None:
    check = crypto.key_check(KEY)
    assert check.startswith(crypto.SEPARATED) and crypto.opens(KEY, check)
    assert not crypto.opens(os.urandom(32), check)
    new, old = ShareCipher(KEY), ShareCipher(KEY, separated=False)
    with pytest.raises(IntegrityError):  # content sealed under the data key itself: no
        b"".join(old.decrypt_stream(io.BytesIO(sealed(new, b"secret"))))
    assert new.encrypt_name("photo.jpg") != old.encrypt_name("photo.jpg")


def test_a_share_made_before_still_opens_in_its_own_format() -> None:
    legacy_check = crypto._legacy_check(KEY)
    assert crypto.opens(KEY, legacy_check) and not crypto.opens(os.urandom(32), legacy_check)
    cipher = crypto.cipher_for(KEY, legacy_check)
    written = sealed(ShareCipher(KEY, separated=False), b"old data")
    assert b"".join(cipher.decrypt_stream(io.BytesIO(written))) == b"old data"
    key_file = crypto.key_file(KEY, "old", "uuid-old")
    assert crypto.key_from_file(key_file, "uuid-old", legacy_check) == KEY
