"""Encrypted shared folders: keys, file names and file contents (AES, via `cryptography`).

- A share has a random 256-bit data key. Its metadata on the volume holds that key wrapped
  (AES-GCM) under a key derived from the passphrase (scrypt), so the passphrase can change
  without re-encrypting a byte, and a reinstalled system can mount the share again.
- File and folder names: AES-SIV (deterministic, authenticated), base32 without padding.
- Contents: a header (magic, version, random file id) then 64 KiB chunks, each AES-256-GCM
  sealed with a nonce made of the file id and the chunk index and the index and a last-chunk
  flag authenticated: a flipped bit, a reordered or a truncated file is an IntegrityError,
  never garbage.
- A key file (exported) is the data key itself, with the share's uuid: it mounts the share
  without the passphrase.
- Names, contents and the key check each use their own key, derived from the data key with
  HKDF ("v2" shares, whose check value starts with "v2:"). Shares made before used the data
  key itself for all three (and a zero-nonce GCM seal as the check); they still mount, and
  keep their format until their data is copied to a new share.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
from collections.abc import Iterator
from typing import Any, BinaryIO

from openstation.errors import IntegrityError, WrongKeyError
from openstation.security import kdf

# `cryptography` is imported where it is used: a device with no encrypted share never loads
# it, which keeps its resident memory ~10 MB lower.

MAGIC = b"OSE1"
CHUNK = 64 * 1024
HEADER = struct.Struct(">4s12s")  # magic, file id (the nonce prefix)
TAG = 16
KEY_FILE_KIND = "openstation-share-key"


def new_data_key() -> bytes:
    return os.urandom(32)


def wrap_with_passphrase(data_key: bytes, passphrase: str) -> dict[str, Any]:
    """The encryption header stored in the share's metadata file."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(kdf.derive(passphrase, salt, kdf.NEW)).encrypt(nonce, data_key,
                                                                   b"share-key")
    return {"version": 1, "kdf": {"name": "scrypt", **kdf.NEW},
            "salt": base64.b64encode(salt).decode(), "nonce": base64.b64encode(nonce).decode(),
            "wrapped": base64.b64encode(sealed).decode()}


def unwrap_with_passphrase(header: dict[str, Any], passphrase: str) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        key = kdf.derive(passphrase, base64.b64decode(header["salt"]),
                         kdf.checked(header["kdf"]))
        return AESGCM(key).decrypt(base64.b64decode(header["nonce"]),
                                   base64.b64decode(header["wrapped"]), b"share-key")
    except InvalidTag:
        raise WrongKeyError("wrong passphrase for this shared folder") from None
    except (KeyError, ValueError, TypeError):
        raise IntegrityError("the shared folder's encryption header is corrupt") from None


SEPARATED = "v2:"  # the key check of a share whose keys are separated


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


def _legacy_check(data_key: bytes) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return base64.b64encode(AESGCM(data_key).encrypt(bytes(12), b"check", b"share")).decode()


def opens(data_key: bytes, check: str) -> bool:
    """Whether `data_key` is the key of the share whose check value is `check`."""
    expected = key_check(data_key) if check.startswith(SEPARATED) else _legacy_check(data_key)
    return hmac.compare_digest(expected.encode(), check.encode())


def cipher_for(data_key: bytes, check: str) -> ShareCipher:
    """The cipher of the share with this key check (its format follows from it)."""
    return ShareCipher(data_key, separated=check.startswith(SEPARATED))


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


class ShareCipher:
    """Names and contents of one mounted encrypted share."""

    def __init__(self, data_key: bytes, separated: bool = True) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV

        if separated:
            self._aead = AESGCM(_subkey(data_key, b"content"))
            self._siv = AESSIV(_subkey(data_key, b"names", 64))  # AES-SIV: a 512-bit key
        else:  # a share made before its keys were separated
            self._aead = AESGCM(data_key)
            self._siv = AESSIV(data_key + data_key)

    def encrypt_name(self, name: str) -> str:
        sealed = self._siv.encrypt(name.encode(), [b"name"])
        return base64.b32encode(sealed).decode().rstrip("=").lower()

    def decrypt_name(self, stored: str) -> str:
        from cryptography.exceptions import InvalidTag

        try:
            padded = stored.upper() + "=" * (-len(stored) % 8)
            return self._siv.decrypt(base64.b32decode(padded), [b"name"]).decode()
        except (InvalidTag, ValueError, UnicodeDecodeError):
            raise IntegrityError(f"the encrypted name {stored!r} does not authenticate"
                                 ) from None

    def encryptor(self, sink: BinaryIO) -> Encryptor:
        """An incremental writer of one encrypted file into `sink`."""
        return Encryptor(self, sink)

    def encrypt_stream(self, source: Iterator[bytes], sink: BinaryIO) -> int:
        """Write `source` encrypted into `sink`; returns the plaintext size."""
        writer = self.encryptor(sink)
        for block in source:
            writer.write(block)
        return writer.close()

    def decrypt_stream(self, source: BinaryIO, start_chunk: int = 0) -> Iterator[bytes]:
        """Plaintext chunks of an encrypted file, from chunk `start_chunk` on."""
        header = source.read(HEADER.size)
        if len(header) != HEADER.size:
            raise IntegrityError("the encrypted file is truncated (no header)")
        magic, file_id = HEADER.unpack(header)
        if magic != MAGIC:
            raise IntegrityError("not an encrypted openstation file")
        index = start_chunk
        source.seek(HEADER.size + index * (CHUNK + TAG))
        while True:
            sealed = source.read(CHUNK + TAG)
            last = len(sealed) < CHUNK + TAG or not source.read(1)
            if not last:
                source.seek(-1, os.SEEK_CUR)
            yield self._open(file_id, index, sealed, last)
            if last:
                return
            index += 1

    def _nonce(self, file_id: bytes, index: int) -> bytes:
        return file_id[:4] + struct.pack(">Q", int.from_bytes(file_id[4:], "big") ^ index)

    def _seal(self, file_id: bytes, index: int, plain: bytes, last: bool) -> bytes:
        aad = struct.pack(">Q?", index, last)
        return self._aead.encrypt(self._nonce(file_id, index), plain, aad)

    def _open(self, file_id: bytes, index: int, sealed: bytes, last: bool) -> bytes:
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(self._nonce(file_id, index), sealed,
                                      struct.pack(">Q?", index, last))
        except InvalidTag:
            raise IntegrityError("the encrypted file was altered or truncated") from None


class Encryptor:
    """Encrypts one file as its bytes arrive (memory stays at one chunk)."""

    def __init__(self, cipher: ShareCipher, sink: BinaryIO) -> None:
        self.cipher = cipher
        self.sink = sink
        self.file_id = os.urandom(12)
        self.index = 0
        self.size = 0
        self.pending = bytearray()
        sink.write(HEADER.pack(MAGIC, self.file_id))

    def write(self, block: bytes) -> None:
        self.pending += block
        while len(self.pending) > CHUNK:
            self.sink.write(self.cipher._seal(self.file_id, self.index,
                                              bytes(self.pending[:CHUNK]), last=False))
            del self.pending[:CHUNK]
            self.size += CHUNK
            self.index += 1

    def close(self) -> int:
        """Seal the last chunk; returns the plaintext size."""
        self.sink.write(self.cipher._seal(self.file_id, self.index, bytes(self.pending),
                                          last=True))
        self.size += len(self.pending)
        self.pending.clear()
        return self.size


def plain_size(stored_size: int) -> int:
    """The plaintext size of an encrypted file of `stored_size` bytes."""
    body = max(0, stored_size - HEADER.size)
    chunks = max(1, -(-body // (CHUNK + TAG)))
    return max(0, body - chunks * TAG)
