"""The machine key: a random key in the system partition that protects secrets stored in the
configuration (the PPPoE password, Key Manager entries, 2-step secrets). A Mode 2 wipe takes
it away, and with it everything it protected.

Each purpose gets its own subkey (HKDF-SHA256 with the purpose as `info`) and its own
associated data, so a value sealed for one purpose cannot be opened as another ("mk2:").
Values sealed before that ("mk1:": the key itself, one constant associated data) still
open, and are sealed afresh when next written.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from openstation.errors import StoreError
from openstation.files import write_atomic

PREFIX = "mk1:"  # before purposes
SEALED = "mk2:"
SEALED_PREFIXES = (SEALED, PREFIX)
PPPOE, KEY_MANAGER, OTP, SMB, NOTIFY = "pppoe", "key-manager", "otp", "smb", "notify"


class MachineKey:
    """AES-256-GCM with the device's machine key."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._subkeys: dict[str, bytes] = {}

    @classmethod
    def load_or_create(cls, path: Path) -> MachineKey:
        if not path.exists():
            write_atomic(path, os.urandom(32), mode=0o600)
        key = path.read_bytes()
        if len(key) != 32:
            raise StoreError(f"the machine key {path} is corrupt")
        return cls(key)

    def seal(self, plain: str, purpose: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(12)
        sealed = AESGCM(self._subkey(purpose)).encrypt(nonce, plain.encode(),
                                                       purpose.encode())
        return SEALED + base64.b64encode(nonce + sealed).decode()

    def open(self, sealed: str, purpose: str) -> str:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if sealed.startswith(SEALED):
            key, aad, body = self._subkey(purpose), purpose.encode(), sealed[len(SEALED):]
        elif sealed.startswith(PREFIX) and purpose in (PPPOE, KEY_MANAGER):
            key, aad, body = self._key, b"openstation", sealed[len(PREFIX):]
        else:
            raise StoreError("not a machine-key secret")
        try:
            raw = base64.b64decode(body)
            return AESGCM(key).decrypt(raw[:12], raw[12:], aad).decode()
        except (InvalidTag, ValueError):
            raise StoreError("a secret does not open with this machine key") from None

    @staticmethod
    def is_sealed(value: str) -> bool:
        return value.startswith(SEALED_PREFIXES)

    def _subkey(self, purpose: str) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        if purpose not in self._subkeys:
            self._subkeys[purpose] = HKDF(
                hashes.SHA256(), 32, salt=None,
                info=b"openstation machine key/" + purpose.encode()).derive(self._key)
        return self._subkeys[purpose]
