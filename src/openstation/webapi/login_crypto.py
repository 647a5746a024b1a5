"""DSM 7's encrypted login: RSA-4096 wraps a passphrase, OpenSSL AES-256-CBC the fields.

A client calls SYNO.API.Encryption getinfo, then sends `<cipherkey>={"rsa":…,"aes":…}`:
`rsa` is the PKCS#1 v1.5 encryption of a passphrase under our public key, `aes` the OpenSSL
"Salted__" AES-256-CBC encryption (MD5 key derivation) of the urlencoded login fields plus
`<ciphertoken>=<server_time>`.

Each getinfo answer is single-use and short-lived: it names a fresh `cipherkey`
(`__cIpHeRtExT` + a random token), consumed by the first login that uses it, so a captured
login cannot be replayed (from another address, to get round the sessions' address binding).
The token is visible outside the ciphertext, so the RSA decryption (the costly part) is
attempted only for a live one. The encrypted fields name only the getinfo's time, not its
token, so every envelope opened is remembered while a time could still be live: the same
envelope under another fresh token is refused too. Each source may ask for few tokens a
minute, so nobody can flush everyone else's.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from openstation import offload
from openstation.accounts.failures import FailureCounter
from openstation.errors import UserInputError

CIPHER_KEY = "__cIpHeRtExT"
CIPHER_TOKEN = "__cIpHeRtOkEn"
TOKEN_MAX_AGE = 120.0  # seconds a getinfo answer stays usable
MAX_LIVE_TOKENS = 1024  # issued and not yet used (the oldest are dropped first)
TOKENS_PER_SOURCE = 30  # getinfo answers per source address and minute
MAX_OPENED = 1 << 16  # envelopes remembered as used


def evp_bytes_to_key(passphrase: bytes, salt: bytes, size: int = 48) -> bytes:
    """OpenSSL's EVP_BytesToKey with MD5 and one round: key (32) + IV (16)."""
    derived, block = b"", b""
    while len(derived) < size:
        block = hashlib.md5(block + passphrase + salt, usedforsecurity=False).digest()
        derived += block
    return derived[:size]


def openssl_aes_decrypt(blob: bytes, passphrase: bytes) -> bytes:
    """Decrypt OpenSSL's `Salted__` AES-256-CBC format."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if len(blob) < 32 or blob[:8] != b"Salted__" or (len(blob) - 16) % 16:
        raise ValueError("not OpenSSL salted AES data")
    material = evp_bytes_to_key(passphrase, blob[8:16])
    decryptor = Cipher(algorithms.AES(material[:32]), modes.CBC(material[32:])).decryptor()
    padded = decryptor.update(blob[16:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def openssl_aes_encrypt(plain: bytes, passphrase: bytes, salt: bytes) -> bytes:
    """The client's side, for tests and tools: OpenSSL `Salted__` AES-256-CBC."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    material = evp_bytes_to_key(passphrase, salt)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(material[:32]), modes.CBC(material[32:])).encryptor()
    return b"Salted__" + salt + encryptor.update(padded) + encryptor.finalize()


class LoginCrypto:
    """The device's RSA-4096 login key (made on first use, in a thread) and decryption."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._key: Any = None
        self._making: asyncio.Task[Any] | None = None
        self._live: OrderedDict[str, int] = OrderedDict()  # token → its server_time
        self._opened: OrderedDict[bytes, float] = OrderedDict()  # envelope digest → when
        self._asked = FailureCounter(TOKENS_PER_SOURCE, 60.0)

    async def info(self, ip: str = "") -> dict[str, Any]:
        """SYNO.API.Encryption getinfo's answer, with a fresh single-use token."""
        if not self._asked.take(ip, self.clock()):
            raise UserInputError("too many SYNO.API.Encryption requests from this address; "
                                 "try again in a minute")
        key = await self._ensure_key()
        modulus = key.public_key().public_numbers().n
        token, now = secrets.token_hex(12), int(self.clock())
        self._live[token] = now
        while len(self._live) > MAX_LIVE_TOKENS:
            self._live.popitem(last=False)
        return {"cipherkey": CIPHER_KEY + token, "ciphertoken": CIPHER_TOKEN,
                "public_key": format(modulus, "x"), "server_time": now}

    async def decrypt(self, params: dict[str, str]) -> dict[str, str]:
        """Params with the encrypted fields (if any) decrypted and merged in; the RSA
        decryption (about 2 ms) runs off the event loop."""
        names = [name for name in params if name.startswith(CIPHER_KEY)]
        if not names:
            return params
        if len(names) > 1:
            raise UserInputError("more than one set of encrypted fields")
        name = names[0]
        issued = self._live.pop(name[len(CIPHER_KEY):], None)  # consumed, whatever follows
        if issued is None or self._key is None or self.clock() - issued > TOKEN_MAX_AGE:
            raise UserInputError("the encrypted login fields need a fresh "
                                 "SYNO.API.Encryption getinfo")
        now = self.clock()
        while self._opened and (len(self._opened) > MAX_OPENED or next(
                iter(self._opened.values())) < now - 2 * TOKEN_MAX_AGE):
            self._opened.popitem(last=False)
        try:  # the ciphertexts themselves, whatever JSON spelling carries them
            blob = json.loads(params[name])
            digest = hashlib.sha256(base64.b64decode(blob["rsa"]) + b"|" +
                                    base64.b64decode(blob["aes"])).digest()
        except (ValueError, KeyError, TypeError):
            raise UserInputError("the encrypted login fields cannot be decrypted") from None
        if digest in self._opened:
            raise UserInputError("these encrypted login fields were used already")
        self._opened[digest] = now
        try:
            fields = await offload.run(_open_envelope, self._key, params[name])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise UserInputError("the encrypted login fields cannot be decrypted") from None
        if fields.pop(CIPHER_TOKEN, None) != str(issued):
            raise UserInputError("the encrypted login fields carry no valid token")
        merged = {k: v for k, v in params.items() if k != name}
        merged.update(fields)
        return merged

    async def _ensure_key(self) -> Any:
        if self._key is None:
            if self._making is None:
                self._making = asyncio.ensure_future(offload.run(_make_key))
            self._key = await self._making
        return self._key


def _open_envelope(key: Any, raw: str) -> dict[str, str]:
    """The login fields inside `{"rsa": …, "aes": …}` (in a worker thread)."""
    from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding

    envelope = json.loads(raw)
    passphrase = key.decrypt(base64.b64decode(envelope["rsa"]), rsa_padding.PKCS1v15())
    plain = openssl_aes_decrypt(base64.b64decode(envelope["aes"]), passphrase)
    return dict(parse_qsl(plain.decode(), keep_blank_values=True))


def _make_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=4096)
