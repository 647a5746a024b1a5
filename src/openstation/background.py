"""A service's background task, ended the one way: cancelled, then waited for, so that
nothing of it runs once its service has closed."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def ended(task: asyncio.Task[Any] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
