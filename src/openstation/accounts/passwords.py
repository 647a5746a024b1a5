"""Password hashing (argon2id) with constant-time answers for unknown accounts.

The hash and the check run off the event loop, through one gate: at most one per core at a
time (argon2 takes 7 MiB each) and a bounded queue behind them.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from openstation.offload import Gate, workers

# argon2id at one of OWASP's equivalent minimums: 7 MiB and 5 passes. It defends as well as
# 19 MiB and 2 passes, but fits the cache better: about 20 % more sign-ins per second on 2
# cores, and a login storm holds 7 MiB per hash at work, not 19. Hashes made with other
# parameters still verify (the parameters are in the hash).
_HASHER = PasswordHasher(time_cost=5, memory_cost=7_168, parallelism=1)

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
