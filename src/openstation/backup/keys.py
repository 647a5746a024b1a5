"""Ways back into a repository without the device's sealed copy of its password: an
exported key (a second restic key, in a file) and Key Manager's copy under a key-store
passphrase (it travels in configuration backups)."""

from __future__ import annotations

import json

from openstation.backup.restic import WrongPasswordError
from openstation.errors import IntegrityError, UserInputError, WrongKeyError
from openstation.storage import crypto

KEY_FILE_KIND = "openstation-backup-key"
KEY_PURPOSE = b"backup-password"  # Key Manager's wrapping of a repository password


def key_file(task: str, repository: str, key: str) -> bytes:
    return json.dumps({"kind": KEY_FILE_KIND, "task": task, "repository": repository,
                       "key": key}).encode()


def password_from_key_file(raw: bytes) -> str:
    """The key an exported key file holds (it opens the repository as a password)."""
    try:
        body = json.loads(raw)
        if body.get("kind") != KEY_FILE_KIND or not isinstance(body.get("key"), str):
            raise ValueError
    except (ValueError, AttributeError):
        raise UserInputError("not an openstation backup key file") from None
    return str(body["key"])


def wrapped(password: str, passphrase: str) -> str:
    """Key Manager's entry: the password under the passphrase (scrypt: a worker thread)."""
    return json.dumps(crypto.wrap_with_passphrase(password.encode(), passphrase,
                                                  KEY_PURPOSE))


def unwrapped(header: str, passphrase: str) -> str:
    """The password Key Manager's entry holds (scrypt: a worker thread)."""
    try:
        return crypto.unwrap_with_passphrase(json.loads(header), passphrase,
                                             KEY_PURPOSE).decode()
    except WrongKeyError:
        raise WrongPasswordError("wrong key-store passphrase") from None
    except (ValueError, IntegrityError):
        raise UserInputError("Key Manager's entry for this repository is damaged") from None
