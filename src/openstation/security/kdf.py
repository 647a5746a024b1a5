"""Passphrase key derivation (scrypt), with every parameter a file may carry bounded.

Backup headers and share key files name their own scrypt parameters; a crafted file must
not make the device spend minutes or gigabytes deriving a key. Callers run this in a worker
thread (it takes a few hundred milliseconds by design).
"""

from __future__ import annotations

from typing import Any

NEW = {"n": 2**17, "r": 8, "p": 1}  # for new material: 128 MiB, about half a second
MIN_N, MAX_N = 2**14, 2**20
MAX_MEMORY = 256 << 20  # 128 * n * r bytes
MAX_WORK = 2**21  # n * r * p


def checked(raw: Any) -> dict[str, int]:
    """The scrypt parameters of `raw` (a file's `kdf` object), or ValueError if any is
    missing, not an integer, or out of bounds."""
    try:
        n, r, p = (int(raw[key]) for key in ("n", "r", "p"))
    except (KeyError, TypeError, ValueError):
        raise ValueError("the key derivation parameters are missing or malformed") from None
    if not (MIN_N <= n <= MAX_N and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16
            and 128 * n * r <= MAX_MEMORY and n * r * p <= MAX_WORK):
        raise ValueError(f"the key derivation parameters are out of bounds (n={n}, r={r}, "
                         f"p={p})")
    return {"n": n, "r": r, "p": p}


def derive(passphrase: str, salt: bytes, params: dict[str, int]) -> bytes:
    """A 256-bit key from `passphrase` (parameters already `checked`)."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    if not 16 <= len(salt) <= 64:
        raise ValueError("the key derivation salt has the wrong length")
    return Scrypt(salt=salt, length=32, n=params["n"], r=params["r"],
                  p=params["p"]).derive(passphrase.encode())
