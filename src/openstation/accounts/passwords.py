"""Password hashing (argon2id) with constant-time answers for unknown accounts.

The hash and the check run off the event loop, through one gate: at most one per core at a
time (argon2 takes 19 MiB each) and a bounded queue behind them.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from openstation.offload import Gate, workers

# OWASP's argon2id minimum (19 MiB, 2 passes): keeps a login near 30 ms and memory flat.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)

# A login storm waits here; beyond this many waiting, a sign-in is refused as "busy".
MAX_WAITING = 256
_GATE = Gate(concurrency=workers(), waiting=MAX_WAITING)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so both cases cost the same."""
    return _HASHER.hash("openstation-dummy-password")


def hash_password_now(password: str) -> str:
    """An argon2id hash of `password`, computed in the calling thread (not on a loop)."""
    return _HASHER.hash(password)


def verify_password_now(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches, in the calling thread; a missing or empty hash costs one
    full verification too."""
    target = stored_hash or _dummy_hash()
    try:
        ok = _HASHER.verify(target, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and bool(stored_hash)


async def hash_password(password: str) -> str:
    """An argon2id hash of `password`, computed off the event loop."""
    return await _GATE.run(hash_password_now, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches `stored_hash`, checked off the event loop."""
    return await _GATE.run(verify_password_now, stored_hash, password)
