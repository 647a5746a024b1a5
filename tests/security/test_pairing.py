"""Read in the code: HA and VMM pairing sent an administrator's password over TLS that
verified nothing, so whoever was in the middle at pairing time got it. Now the password
goes only over HTTPS to the certificate whose fingerprint the administrator gives."""

from __future__ import annotations

import pytest

from openstation.cluster.link import WebApiClient, pinned_client
from openstation.device import Device
from openstation.errors import PeerError, ValidationError
from tests.webapi.conftest import STRONG


async def test_credentials_go_only_to_the_pinned_certificate(device: Device) -> None:
    https = f"https://127.0.0.1:{device.ports['https']}"
    wrong = ":".join(["AB"] * 32)
    with pytest.raises(PeerError, match="another fingerprint"):
        await WebApiClient(https, fingerprint=wrong).login("alice", STRONG)
    with pytest.raises(PeerError, match="only over HTTPS"):
        await WebApiClient(f"http://127.0.0.1:{device.ports['http']}").login("alice", STRONG)
    with pytest.raises(PeerError, match="only over HTTPS"):
        await WebApiClient(https).login("alice", STRONG)  # no fingerprint given
    assert len(device.web.login.successes) == 0 and len(device.web.login.rate_limit) == 0
    pinned = WebApiClient(https, fingerprint=device.fingerprint.lower().replace(":", " "))
    await pinned.login("alice", STRONG)
    assert pinned.sid


def test_a_malformed_fingerprint_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValidationError):
        pinned_client("https://127.0.0.1:1", "not-a-fingerprint")
