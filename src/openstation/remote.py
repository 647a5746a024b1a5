"""Talking to a running device over HTTP(S): the install stream, for the CLI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from openstation.errors import PeerError, UserInputError


def normalise_url(url: str) -> str:
    """"127.0.0.1:5000" → "http://127.0.0.1:5000" (no trailing slash)."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    if not url.startswith(("http://", "https://")):
        raise UserInputError(f"not an http(s) URL: {url}")
    return url


async def install_stream(url: str, fields: dict[str, str], timeout: float = 120
                         ) -> AsyncIterator[dict[str, Any]]:
    """POST the install request and yield each line the device streams back."""
    target = normalise_url(url) + "/webman/install.cgi"
    try:
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=timeout)
        ) as session, session.post(target, json=fields, ssl=False) as response:
            # ssl=False: the device's certificate is self-signed, like a new NAS's.
            if response.status != 200:
                raise PeerError(f"{target} answered HTTP {response.status}")
            async for raw in response.content:
                if raw.strip():
                    try:
                        yield json.loads(raw)
                    except ValueError:
                        raise PeerError(f"{target} sent a line that is not JSON") from None
    except aiohttp.ClientError as exc:
        raise PeerError(f"cannot reach {target}: {exc}") from None
