"""Comparing a secret someone sent with the one expected."""

from __future__ import annotations

import hmac


def same_token(given: str, expected: str) -> bool:
    """Whether `given` equals a non-empty `expected`, in constant time. Any text is safe to
    pass: a header or form value may hold non-ASCII or undecodable bytes."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                               expected.encode("utf-8", "surrogateescape"))
