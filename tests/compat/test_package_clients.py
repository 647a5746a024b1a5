"""Package Center as synology-api 0.9.4's core_package reads it, unchanged: the device's
features as packages with their real status; starting and stopping one (over the Web API)
really starts and stops the service."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from openstation.fileserv.smb import missing_parts
from openstation.testing import STRONG, DeviceProcess, Web

Factory = Callable[..., DeviceProcess]


def test_packages_are_the_devices_features(device_factory: Factory, tmp_path: Path) -> None:
    from synology_api.base_api import BaseApi
    from synology_api.core_package import Package

    device = device_factory(tmp_path / "data", file_services=True)
    assert device.install("nas1", "alice", STRONG).returncode == 0
    BaseApi.shared_session = None
    client = Package("127.0.0.1", str(device.runtime["ports"]["http"]), "alice", STRONG,
                     secure=False, cert_verify=False, dsm_version=6, debug=False,
                     otp_code=None)
    listed = client.list_installed(additional=["status", "startable", "description"])
    packages = {p["id"]: p for p in listed["data"]["packages"]}
    assert {"FileStation", "HyperBackup", "HyperBackupVault", "SMBService", "SFTPService",
            "WebDAVServer", "RsyncService", "LogCenter"} <= set(packages)
    assert packages["FileStation"]["additional"]["status"] == "running"
    assert packages["SFTPService"]["additional"]["status"] == "stop"  # DSM's default
    assert packages["HyperBackupVault"]["additional"]["startable"] is True
    assert set(packages["LogCenter"]["additional"]) >= {"status", "description"}
    smb = client.get_package("SMBService", ["status"])["data"]["additional"]["status"]
    assert smb == ("running" if missing_parts() is None else "broken")

    admin = Web(device.url).login()
    started = admin.ok("SYNO.Core.Package.Control", "start", id="SFTPService")
    assert started["status"] == "running"
    device.refresh()
    with socket.create_connection(("127.0.0.1", device.runtime["file_services"]["ssh"]),
                                  timeout=5) as conn:
        assert conn.recv(64).startswith(b"SSH-2.0-")  # really listening
    assert client.get_package("SFTPService", ["status"])["data"]["additional"][
        "status"] == "running"
    assert admin.ok("SYNO.Core.Package.Control", "stop", id="SFTPService")["status"] == "stop"
    assert admin.ok("SYNO.Core.Package.Control", "start", id="HyperBackupVault")[
        "status"] == "running"
    assert admin.ok("SYNO.Backup.Service.VersionBackup.Config", "get")["enable"] is True

    from synology_api.core_sys_info import SysInfo

    BaseApi.shared_session = None
    info = SysInfo("127.0.0.1", str(device.runtime["ports"]["http"]), "alice", STRONG,
                   secure=False, cert_verify=False, dsm_version=6, debug=False,
                   otp_code=None)
    assert info.sys_status()["data"]["status"] == "Ready"
    services = {s["service_id"]: s for s in info.services_status()["data"]["service"]}
    assert services["sftp"]["enable_status"] == "disabled"  # stopped again above
    assert services["hbkpvault"]["status"] == "running"
    assert services["nginx"]["status"] == "running"

    refused = admin.call("SYNO.Core.Package.Control", "stop", id="FileStation")
    assert refused["error"]["code"] == 120 and "built into" in str(refused["error"])
    assert admin.call("SYNO.Core.Package", "get", id="../../etc")["error"]["code"] == 120
    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    bob = Web(device.url).login("bob", "B0b!secret")
    assert bob.call("SYNO.Core.Package", "list")["error"]["code"] == 105
    assert bob.call("SYNO.Core.Package.Control", "start", id="SFTPService")[
        "error"]["code"] == 105
