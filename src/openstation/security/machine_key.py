"""The machine key: a random key in the system partition that protects secrets stored in the
configuration (the PPPoE password, Key Manager entries). A Mode 2 wipe takes it away, and
with it everything it protected."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from openstation.errors import StoreError
from openstation.files import write_atomic

PREFIX = "mk1:"


class MachineKey:
    """AES-256-GCM with the device's machine key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def load_or_create(cls, path: Path) -> MachineKey:
        if not path.exists():
            write_atomic(path, os.urandom(32), mode=0o600)
        key = path.read_bytes()
        if len(key) != 32:
            raise StoreError(f"the machine key {path} is corrupt")
        return cls(key)

    def encrypt(self, plain: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(12)
        sealed = AESGCM(self._key).encrypt(nonce, plain.encode(), b"openstation")
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, sealed: str) -> str:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if not sealed.startswith(PREFIX):
            raise StoreError("not a machine-key secret")
        raw = base64.b64decode(sealed[len(PREFIX):])
        try:
            return AESGCM(self._key).decrypt(raw[:12], raw[12:], b"openstation").decode()
        except InvalidTag:
            raise StoreError("a secret does not open with this machine key") from None
