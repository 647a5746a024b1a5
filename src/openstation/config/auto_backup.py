"""Automatic configuration snapshots on the data volume (volume1/@config-backups/).

They live on volume1 so that a Mode 2 reset, which wipes the system partition, does not
take the way back with it; the newest is offered when reinstalling. Files are 0600 and
unencrypted (there is no one to ask for a passphrase): they hold password hashes, not
passwords, and no machine-key secret.
"""

from __future__ import annotations

import time
from pathlib import Path

from openstation.config.backup import seal
from openstation.config.restore import export
from openstation.config.sections import ConfigBackupSettings
from openstation.config.store import ConfigStore
from openstation.files import write_atomic
from openstation.security.machine_key import MachineKey

FOLDER = "@config-backups"
PREFIX, SUFFIX = "config-", ".json"


def folder(volume: Path) -> Path:
    return volume / FOLDER


def snapshots(volume: Path) -> list[Path]:
    """Snapshots, newest first."""
    where = folder(volume)
    if not where.is_dir():
        return []
    return sorted((p for p in where.iterdir()
                   if p.name.startswith(PREFIX) and p.name.endswith(SUFFIX)), reverse=True)


def write_daily(store: ConfigStore, machine_key: MachineKey, volume: Path, now: float,
                refresh: bool = False) -> Path | None:
    """Today's snapshot (made if missing, or `refresh`ed), then only the newest N kept."""
    settings = store.get(ConfigBackupSettings)
    if not settings.enabled:
        return None
    where = folder(volume)
    where.mkdir(mode=0o700, exist_ok=True)
    path = where / f"{PREFIX}{time.strftime('%Y%m%d', time.gmtime(now))}{SUFFIX}"
    if refresh or not path.exists():
        content = export(store, machine_key, with_secrets=False)
        write_atomic(path, seal(content, store.hardware.model_name, now), mode=0o600)
    for old in snapshots(volume)[max(1, settings.keep_daily):]:
        old.unlink()
    return path
