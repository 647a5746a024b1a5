"""Encrypted shared folders: their keys (the files themselves are gocryptfs's: gocrypt.py).

- A share has a random 256-bit data key. Its metadata on the volume holds that key wrapped
  (AES-GCM) under a key derived from the passphrase (scrypt), so the passphrase can change
  without re-encrypting a byte, and a reinstalled system can mount the share again.
- A key file (exported) is the data key itself, with the share's uuid: it mounts the share
  without the passphrase. Key Manager keeps the data key sealed (machine key or its own
  passphrase).
- Everything else is derived from the data key with HKDF, one key per purpose: the check
  value that tells whether a key is this share's, and the password gocryptfs is mounted
  with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from openstation.errors import IntegrityError, WrongKeyError
from openstation.security import kdf

# `cryptography` is imported where it is used: a device with no encrypted share never loads
# it, which keeps its resident memory ~10 MB lower.

KEY_FILE_KIND = "openstation-share-key"


def new_data_key() -> bytes:
    return os.urandom(32)


def wrap_with_passphrase(data_key: bytes, passphrase: str, purpose: bytes = b"share-key"
                         ) -> dict[str, Any]:
    """The encryption header stored in the share's metadata file (or, for another
    `purpose`, any secret kept under a passphrase: a backup repository's password)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(kdf.derive(passphrase, salt, kdf.NEW)).encrypt(nonce, data_key, purpose)
    return {"version": 1, "kdf": {"name": "scrypt", **kdf.NEW},
            "salt": base64.b64encode(salt).decode(), "nonce": base64.b64encode(nonce).decode(),
            "wrapped": base64.b64encode(sealed).decode()}


def unwrap_with_passphrase(header: dict[str, Any], passphrase: str,
                           purpose: bytes = b"share-key") -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        key = kdf.derive(passphrase, base64.b64decode(header["salt"]),
                         kdf.checked(header["kdf"]))
        return AESGCM(key).decrypt(base64.b64decode(header["nonce"]),
                                   base64.b64decode(header["wrapped"]), purpose)
    except InvalidTag:
        raise WrongKeyError("wrong passphrase for this shared folder") from None
    except (KeyError, ValueError, TypeError):
        raise IntegrityError("the shared folder's encryption header is corrupt") from None


SEPARATED = "v2:"  # the key check's version


def _subkey(data_key: bytes, purpose: bytes, size: int = 32) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(hashes.SHA256(), size, salt=None,
                info=b"openstation share/" + purpose).derive(data_key)


def key_check(data_key: bytes) -> str:
    """A value stored beside the header that tells whether a key is this share's (a new
    share's: a MAC under a key of its own)."""
    mac = hmac.new(_subkey(data_key, b"check"), b"openstation share key", hashlib.sha256)
    return SEPARATED + base64.b64encode(mac.digest()).decode()


def opens(data_key: bytes, check: str) -> bool:
    """Whether `data_key` is the key of the share whose check value is `check`."""
    return hmac.compare_digest(key_check(data_key).encode(), check.encode())


def mount_password(data_key: bytes) -> bytes:
    """The password gocryptfs mounts the share with (ASCII: it reads one line)."""
    return base64.b64encode(_subkey(data_key, b"gocryptfs"))


def key_file(data_key: bytes, share: str, uuid: str) -> bytes:
    return json.dumps({"kind": KEY_FILE_KIND, "share": share, "uuid": uuid,
                       "key": base64.b64encode(data_key).decode()}).encode()


def key_from_file(raw: bytes, uuid: str, check: str) -> bytes:
    try:
        body = json.loads(raw)
        if body.get("kind") != KEY_FILE_KIND:
            raise ValueError
        key = base64.b64decode(body["key"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise WrongKeyError("not an openstation share key file") from None
    if body.get("uuid") != uuid or len(key) != 32 or not opens(key, check):
        raise WrongKeyError("this key file belongs to another shared folder")
    return key
