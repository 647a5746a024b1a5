"""Attack 4: a captured DSM 7 encrypted login, replayed from other addresses.

Before: the same `__cIpHeRtExT` blob gave working admin sessions from two other addresses,
which got round the sessions' address binding.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from openstation.webapi import login_crypto
from tests.conftest import FakeClock
from tests.webapi.conftest import STRONG, Api


def encrypted_login(info: dict[str, Any]) -> dict[str, str]:
    """What a DSM 7 client sends for one getinfo answer."""
    public = rsa.RSAPublicNumbers(65537, int(info["public_key"], 16)).public_key()
    passphrase = secrets.token_urlsafe(24).encode()
    fields = urlencode({"account": "alice", "passwd": STRONG,
                        info["ciphertoken"]: info["server_time"]})
    blob = {
        "rsa": base64.b64encode(public.encrypt(passphrase, padding.PKCS1v15())).decode(),
        "aes": base64.b64encode(login_crypto.openssl_aes_encrypt(
            fields.encode(), passphrase, secrets.token_bytes(8))).decode(),
    }
    return {info["cipherkey"]: json.dumps(blob)}


async def test_a_captured_encrypted_login_cannot_be_replayed(api: Api,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    info = (await api.call("SYNO.API.Encryption", "getinfo"))["data"]
    captured = encrypted_login(info)
    assert (await api.call("SYNO.API.Auth", "login", 7, **captured))["success"]
    opened: list[str] = []
    real = login_crypto._open_envelope
    monkeypatch.setattr(login_crypto, "_open_envelope",
                        lambda key, raw: opened.append(raw) or real(key, raw))
    for source in ("127.0.0.3", "127.0.0.4"):
        connector = aiohttp.TCPConnector(local_addr=(source, 0))
        async with aiohttp.ClientSession(connector=connector) as attacker:
            replay = await api.call("SYNO.API.Auth", "login", 7, http=attacker, **captured)
        assert replay["error"]["code"] == 120
    assert opened == []  # no RSA decryption for a token that is not live


async def test_a_getinfo_answer_expires(api: Api, clock: FakeClock) -> None:
    info = (await api.call("SYNO.API.Encryption", "getinfo"))["data"]
    clock.advance(login_crypto.TOKEN_MAX_AGE + 1)
    late = await api.call("SYNO.API.Auth", "login", 7, **encrypted_login(info))
    assert late["error"]["code"] == 120
