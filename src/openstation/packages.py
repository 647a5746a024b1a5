"""The device's features as DSM's "packages" and services (one table for Package
Center, SYNO.Core.Service and Task Scheduler's service-control tasks), and switching one
on or off through its service."""

from __future__ import annotations

from dataclasses import dataclass

from openstation.backup.service import BackupService
from openstation.errors import ConflictError
from openstation.fileserv.service import FileServicesService


@dataclass(frozen=True)
class Package:
    """One feature shown as a package."""

    id: str
    name: str
    description: str
    setting: str = ""  # the file-services field that starts and stops it ("" : none)
    status_of: str = ""  # its entry in the file services' status


PACKAGES = (
    Package("FileStation", "File Station", "Browse and manage the shared folders."),
    Package("HyperBackup", "Hyper Backup", "Back up shared folders and the configuration "
            "to a folder, a Vault or WebDAV, in versions (restic)."),
    Package("HyperBackupVault", "Hyper Backup Vault", "Be other devices' backup "
            "destination (restic's REST protocol over HTTPS)."),
    Package("LogCenter", "Log Center", "Every change and sign-in, as the audit log keeps it."),
    Package("SMBService", "SMB Service", "Windows and macOS file sharing (Samba's smbd).",
            "smb_enabled", "smb"),
    Package("SFTPService", "SFTP Service", "Files over SSH (asyncssh).", "sftp_enabled",
            "sftp"),
    Package("RsyncService", "rsync Service", "rsync's daemon mode over SSH.",
            "rsync_enabled", "rsync"),
    Package("WebDAVServer", "WebDAV Server", "Files over WebDAV, HTTP and HTTPS (WsgiDAV).",
            "webdav_enabled", "webdav"),
)
BUILT_IN = ("FileStation", "HyperBackup", "LogCenter")


# SYNO.Core.Service: DSM's service ids for the packages that are services
SERVICE_IDS = {"SMBService": "samba", "SFTPService": "sftp", "RsyncService": "rsyncd",
               "WebDAVServer": "webdav", "HyperBackupVault": "hbkpvault"}


def switch(package: Package, on: bool, actor: str, services: FileServicesService,
           backups: BackupService) -> None:
    """Start or stop `package` (its setting changes, with the audit entry; the appliers
    make it real). The apps built into the device always run."""
    if package.id in BUILT_IN:
        raise ConflictError(f"{package.name} is built into the device: it always runs")
    if package.id == "HyperBackupVault":
        backups.set_vault(actor, enabled=on)
    else:
        services.set(actor, **{package.setting: on})
