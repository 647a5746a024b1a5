"""Control Panel > File Services over the Web API: SYNO.Core.FileServ.SMB,
SYNO.Core.FileServ.FTP.SFTP, SYNO.Backup.Service.NetworkBackup (rsync) and
SYNO.Core.FileServ.WebDAV and SYNO.Core.Terminal (SSH: the SFTP server) — get, set —
answered with DSM's fields where DSM has them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from openstation.errors import ApiError
from openstation.fileserv.service import FileServicesService
from openstation.webapi import envelope
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry

# DSM's SMB options openstation does not offer, with the values it behaves as.
SMB_FIXED: dict[str, Any] = {
    "disable_shadow_copy": True, "disable_strict_allocate": False,
    "enable_access_based_share_enum": True, "enable_adserver": None,
    "enable_aio_read": False, "enable_delete_vetofiles": False, "enable_dirsort": False,
    "enable_durable_handles": False, "enable_enhance_log": False,
    "enable_fruit_locking": False, "enable_local_master_browser": False,
    "enable_mask": False, "enable_msdfs": False, "enable_multichannel": False,
    "enable_ntlmv1_auth": False, "enable_op_lock": True, "enable_perf_chart": False,
    "enable_reset_on_zero_vc": False, "enable_server_signing": 0,
    "enable_smb2_leases": True, "enable_smb3_directory_leasing": False,
    "enable_strict_sync": False, "enable_symlink": False, "enable_syno_catia": False,
    "enable_synotify": False, "enable_vetofile": True, "enable_widelink": False,
    "offline_files_support": False, "smb3_directory_leasing_scope": "home_only",
    "smb_encrypt_transport": 1, "smb_max_protocol": 3, "smb_min_protocol": 2,
    "syno_wildcard_search": False, "vetofile": "@*/.@*", "wins": ""}


def register(registry: Registry, services: FileServicesService,
             status: Callable[[], dict[str, Any]], settle: Callable[[], Awaitable[None]]
             ) -> None:
    """Add the file-services APIs; `set` answers once the change is live (`settle`)."""

    def who(call: ApiCall) -> str:
        return str(call.session.user)

    async def smb_get(call: ApiCall) -> dict[str, Any]:
        settings = services.settings()
        return {**SMB_FIXED, "enable_samba": settings.smb_enabled,
                "workgroup": settings.workgroup, "smb_port": settings.smb_port,
                "status": status()["smb"]}

    async def smb_set(call: ApiCall) -> dict[str, Any]:
        services.set(who(call), smb_enabled=call.bool_param("enable_samba"),
                     workgroup=call.params.get("workgroup"),
                     smb_port=call.int_param("smb_port", services.settings().smb_port,
                                             high=65535))
        await settle()
        return await smb_get(call)

    async def sftp_get(call: ApiCall) -> dict[str, Any]:
        settings = services.settings()
        return {"enable": settings.sftp_enabled, "portnum": settings.sftp_port,
                "status": status()["sftp"]}

    async def sftp_set(call: ApiCall) -> dict[str, Any]:
        services.set(who(call), sftp_enabled=call.bool_param("enable"),
                     sftp_port=call.int_param("portnum", services.settings().sftp_port,
                                              high=65535))
        await settle()
        return await sftp_get(call)

    async def rsync_get(call: ApiCall) -> dict[str, Any]:
        settings = services.settings()
        return {"enable": settings.rsync_enabled, "enable_custom_config": False,
                "enable_rsync_account": False, "rsync_sshd_port": str(settings.sftp_port),
                "status": status()["rsync"]}

    async def rsync_set(call: ApiCall) -> dict[str, Any]:
        port = call.params.get("rsync_sshd_port")
        services.set(who(call), rsync_enabled=call.bool_param("enable"),
                     sftp_port=call.int_param("rsync_sshd_port", high=65535)
                     if port is not None else None)
        await settle()
        return await rsync_get(call)

    async def webdav_get(call: ApiCall) -> dict[str, Any]:
        settings = services.settings()
        return {"enable": settings.webdav_enabled, "port": settings.webdav_port,
                "https_port": settings.webdav_https_port, "status": status()["webdav"]}

    async def webdav_set(call: ApiCall) -> dict[str, Any]:
        current = services.settings()
        services.set(who(call), webdav_enabled=call.bool_param("enable"),
                     webdav_port=call.int_param("port", current.webdav_port, high=65535),
                     webdav_https_port=call.int_param("https_port", current.webdav_https_port,
                                                      high=65535))
        await settle()
        return await webdav_get(call)

    async def terminal_get(call: ApiCall) -> dict[str, Any]:
        settings = services.settings()  # SSH is the SFTP server's (no shell is offered)
        return {"enable_ssh": settings.sftp_enabled, "ssh_port": settings.sftp_port,
                "enable_telnet": False, "ssh_shell": False,
                "status": status()["sftp"]}

    async def terminal_set(call: ApiCall) -> dict[str, Any]:
        if call.bool_param("enable_telnet"):
            raise ApiError(envelope.INVALID_PARAMETER, errors={
                "enable_telnet": "Telnet is not offered: it sends passwords in clear text"})
        services.set(who(call), sftp_enabled=call.bool_param("enable_ssh"),
                     sftp_port=call.int_param("ssh_port", services.settings().sftp_port,
                                              high=65535))
        await settle()
        return await terminal_get(call)

    apis: dict[str, dict[str, Handler]] = {
        "SYNO.Core.FileServ.SMB": {"get": smb_get, "set": smb_set},
        # Control Panel > Terminal & SNMP: SSH (SFTP here) on or off, its port; no Telnet
        "SYNO.Core.Terminal": {"get": terminal_get, "set": terminal_set},
        "SYNO.Core.FileServ.FTP.SFTP": {"get": sftp_get, "set": sftp_set},
        # DSM's rsync service ("Network Backup"), here rsync's daemon mode over SSH
        "SYNO.Backup.Service.NetworkBackup": {"get": rsync_get, "set": rsync_set},
        # DSM sets WebDAV up in its WebDAV Server package; this name is openstation's own
        "SYNO.Core.FileServ.WebDAV": {"get": webdav_get, "set": webdav_set}}
    for name, methods in apis.items():
        registry.add(Api(name, "entry.cgi", 1, 3, methods, changes=frozenset({"set"}),
                         admin=frozenset(methods)))
