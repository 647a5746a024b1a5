"""When a share counts as full (pure in effect: the walk's figures are set by hand): at its
quota at once; with room again only once 2 % is free and 15 s have passed, so filling and
emptying a share cannot restart smbd every second."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from openstation.config.sections import Share
from openstation.storage.quota import Quotas

MB = 1 << 20


def test_full_at_once_and_room_again_slowly() -> None:
    quotas = Quotas(cast(Any, None), Path("/nonexistent"))
    share = Share(name="alpha", quota_mb=100)
    quotas.used = {"alpha": 99 * MB}
    assert not quotas._full(share, 0.0)
    quotas.used = {"alpha": 100 * MB}
    assert quotas._full(share, 1.0)
    quotas.used = {"alpha": int(99.5 * MB)}  # less than 2 % free: still full
    assert quotas._full(share, 30.0)
    quotas.used = {"alpha": 50 * MB}  # room, but only 9 s after it filled
    assert quotas._full(share, 10.0)
    assert not quotas._full(share, 16.1)
    quotas.used = {"alpha": 100 * MB}  # full again: at once
    assert quotas._full(share, 16.2)
