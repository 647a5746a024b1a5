"""The `get` methods the issue found missing, through synology-api 0.9.4 unchanged:
firewall and Auto Block rules (core_security), 2-step verification and its enforcement
(core_security_auth), an encrypted share's state, mounted by DSM's decrypt and unmounted
by its encrypt (core_share)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from openstation.storage import gocrypt
from openstation.testing import STRONG, DeviceProcess, Web

Factory = Callable[..., DeviceProcess]


def client(cls: Any, device: DeviceProcess) -> Any:
    return cls("127.0.0.1", str(device.runtime["ports"]["http"]), "alice", STRONG,
               secure=False, cert_verify=False, dsm_version=6, debug=False, otp_code=None)


def test_security_gets(device_factory: Factory, tmp_path: Path) -> None:
    from synology_api.core_security import CoreSecurity
    from synology_api.core_security_auth import CoreSecurityAuth

    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    security = client(CoreSecurity, device)
    assert security.firewall_rules_get()["data"] == security.firewall_rules_list()["data"]
    assert security.autoblock_rules_get()["success"]
    auth = client(CoreSecurityAuth, device)
    assert auth.otp_get()["data"]["otp_enable"] is False
    assert auth.otp_enforce_policy_get()["data"]["otp_enforce_option"] == "none"
    admin = Web(device.url).login()
    assert admin.ok("SYNO.Core.OTP.EnforcePolicy", "set",
                    otp_enforce_option="admin")["otp_enforce_option"] == "admin"
    assert auth.otp_get()["data"]["enforced"] is True
    assert admin.call("SYNO.Core.OTP.EnforcePolicy", "set",
                      otp_enforce_option="everyone")["error"]["code"] == 120
    admin.ok("SYNO.Core.OTP.EnforcePolicy", "set", otp_enforce_option="none")


@pytest.mark.skipif(gocrypt.unavailable() is not None,
                    reason=f"encrypted shares need gocryptfs: {gocrypt.unavailable()}")
def test_encrypted_share_decrypt_encrypt_get(device_factory: Factory, tmp_path: Path
                                             ) -> None:
    from synology_api.core_share import Share

    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.Share", "create", name="vault",
             shareinfo={"encryption": True, "enc_passwd": "vault pass 1"})
    assert admin.ok("SYNO.Core.Share.Crypto", "get", name="vault")["is_mounted"] is True
    shares = client(Share, device)
    assert shares.encrypt_folder("vault")["success"]  # DSM's word for unmount
    assert admin.ok("SYNO.Core.Share.Crypto", "get", name="vault")["is_mounted"] is False
    assert not admin.call("SYNO.Core.Share.Crypto", "decrypt", name="vault",
                          password="wrong pass")["success"]
    assert shares.decrypt_folder("vault", "vault pass 1")["success"]
    assert admin.ok("SYNO.Core.Share.Crypto", "get", name="vault")["is_mounted"] is True
