"""Configuration Backup files: one file with every configuration section (pure + crypto).

    {"magic": "openstation-config-backup", "format": 1, "model": "DS918+",
     "created": <epoch>, "encrypted": false, "content_sha256": "<hex>",
     "content": {"sections": {...}, "collections": {...}}}

With a passphrase, "content" is replaced by "ciphertext" (AES-256-GCM, key from scrypt with
a random salt; the header is authenticated too): such a file is tamper-evident, and carries
no digest of its plaintext (format 2; format 1 files, which did, are still read). A plain
file's SHA-256 only detects corruption: anyone can edit the content and recompute it, so a
plain backup is checked field by field on restore like any other input.
A file that is corrupt, truncated, from a newer format, for another model family or with the
wrong passphrase is refused with BackupError, before anything is changed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

from openstation.errors import BackupError
from openstation.security import kdf

MAGIC = "openstation-config-backup"
FORMAT = 2
MAX_FILE = 256 << 20


def canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


def _header(document: dict[str, Any]) -> bytes:
    keys = ("magic", "format", "model", "created", "encrypted", "content_sha256")
    return canonical({k: document[k] for k in keys if k in document})


def seal(content: dict[str, Any], model: str, created: float,
         passphrase: str | None = None) -> bytes:
    """The bytes of a backup file."""
    body = canonical(content)
    document: dict[str, Any] = {
        "magic": MAGIC, "format": FORMAT, "model": model, "created": created,
        "encrypted": bool(passphrase)}
    if passphrase:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        salt, nonce = os.urandom(16), os.urandom(12)
        sealed = AESGCM(kdf.derive(passphrase, salt, kdf.NEW)).encrypt(nonce, body,
                                                                       _header(document))
        document["kdf"] = {"name": "scrypt", "salt": base64.b64encode(salt).decode(),
                           **kdf.NEW}
        document["nonce"] = base64.b64encode(nonce).decode()
        document["ciphertext"] = base64.b64encode(sealed).decode()
    else:
        document["content_sha256"] = hashlib.sha256(body).hexdigest()
        document["content"] = content
    return json.dumps(document, indent=1).encode()


def inspect(raw: bytes) -> dict[str, Any]:
    """The header of a backup file (no passphrase needed); BackupError if it is not one."""
    if len(raw) > MAX_FILE:
        raise BackupError("the file is too large to be a configuration backup")
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BackupError("the file is corrupt or truncated (not a complete backup)") from None
    if not isinstance(document, dict) or document.get("magic") != MAGIC:
        raise BackupError("not an openstation configuration backup")
    version = document.get("format")
    if not isinstance(version, int):
        raise BackupError("the backup's format version is missing")
    if version > FORMAT:
        raise BackupError(f"the backup is from a newer openstation (format {version}; this "
                          f"version reads up to {FORMAT})")
    for key in ("model", "created", "encrypted"):
        if key not in document:
            raise BackupError(f"the backup is corrupt (no {key})")
    return document


def open_backup(raw: bytes, passphrase: str | None = None) -> tuple[dict[str, Any],
                                                                     dict[str, Any]]:
    """(header, content) of a verified backup."""
    document = inspect(raw)
    if document["encrypted"]:
        if not passphrase:
            raise BackupError("the backup is encrypted: give its passphrase")
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            params = document["kdf"]
            key = kdf.derive(passphrase, base64.b64decode(params["salt"]),
                             kdf.checked(params))
            body = AESGCM(key).decrypt(base64.b64decode(document["nonce"]),
                                       base64.b64decode(document["ciphertext"]),
                                       _header(document))
        except InvalidTag:
            raise BackupError("wrong passphrase, or the backup was altered") from None
        except (KeyError, ValueError, TypeError):
            raise BackupError("the encrypted backup is corrupt") from None
        try:
            content = json.loads(body)
        except ValueError:
            raise BackupError("the backup is corrupt") from None
    else:
        content = document.get("content")
        if not isinstance(content, dict):
            raise BackupError("the backup is corrupt (no content)")
        if hashlib.sha256(canonical(content)).hexdigest() != document.get("content_sha256"):
            raise BackupError("the backup is corrupt (its SHA-256 does not match)")
    if not isinstance(content.get("sections"), dict) or \
            not isinstance(content.get("collections"), dict):
        raise BackupError("the backup is corrupt (no sections)")
    return document, content
