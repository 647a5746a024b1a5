"""Control Panel > Security > Certificate as synology-api's core_certificate lists it,
unchanged: the certificate the device really serves on HTTPS."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

from openstation.testing import STRONG, DeviceProcess, Web

Factory = Callable[..., DeviceProcess]


def test_the_served_certificate_is_listed(device_factory: Factory, tmp_path: Path) -> None:
    from synology_api.base_api import BaseApi
    from synology_api.core_certificate import Certificate

    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    BaseApi.shared_session = None
    client = Certificate("127.0.0.1", str(device.runtime["ports"]["http"]), "alice", STRONG,
                         secure=False, cert_verify=False, dsm_version=6, debug=False,
                         otp_code=None)
    listed = client.list_cert()["data"]["certificates"]
    assert len(listed) == 1 and listed[0]["is_default"]
    served = ssl.get_server_certificate(("127.0.0.1", device.runtime["ports"]["https"]))
    import hashlib

    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(served)).hexdigest().upper()
    assert listed[0]["fingerprint_sha256"].replace(":", "") == digest
    assert "127.0.0.1" in listed[0]["subject"]["sub_alt_name"]
    assert listed[0]["expired"] is False and listed[0]["valid_till"].endswith("GMT")
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    bob = Web(device.url).login("bob", "B0b!secret")
    assert bob.call("SYNO.Core.Certificate.CRT", "list")["error"]["code"] == 105
