"""synology-api 0.9.4's file-service calls (core_sys_info: SMB, SFTP, Network Backup — the
ones openstation serves), unchanged, against a real device; and what it refuses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openstation.testing import STRONG, DeviceProcess
from tests.fileserv.conftest import needs_samba

pytestmark = needs_samba


def test_synology_api_reads_the_file_services(device_factory: Callable[..., DeviceProcess],
                                              tmp_path: Path) -> None:
    from synology_api.base_api import BaseApi
    from synology_api.core_sys_info import SysInfo

    device = device_factory(tmp_path / "data", file_services=True)
    assert device.install("nas1", "alice", STRONG).returncode == 0
    info = SysInfo("127.0.0.1", str(device.runtime["ports"]["http"]), "alice", STRONG,
                   secure=False, cert_verify=False, dsm_version=6, debug=False,
                   otp_code=None)
    try:
        smb = info.fileserv_smb()
        assert isinstance(smb, dict) and smb["success"], smb
        assert smb["data"]["enable_samba"] is True and smb["data"]["workgroup"] == "WORKGROUP"
        assert {"enable_op_lock", "smb_max_protocol", "enable_server_signing"} <= set(smb["data"])
        sftp = info.fileserv_sftp()
        assert isinstance(sftp, dict) and sftp["data"] == {**sftp["data"], "enable": False,
                                                           "portnum": 22}
        rsync = info.network_backup_info()
        assert isinstance(rsync, dict) and rsync["data"]["enable"] is False
        assert rsync["data"]["rsync_sshd_port"] == "22"
        # AFP, NFS and FTP are not served: they answer off and unsupported, with the reason
        for unserved in (info.fileserv_afp, info.fileserv_nfs, info.fileserv_ftp):
            answer = unserved()
            assert isinstance(answer, dict) and answer["data"]["enable"] is False
            assert answer["data"]["supported"] is False and answer["data"]["reason"]
    finally:
        info.logout()  # synology-api shares one session across instances: not with the next
        BaseApi.shared_session = None
