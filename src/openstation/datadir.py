"""The data directory: the system partition, the data volume, and what may ever be wiped.

    <data-dir>/
      hardware.json  the burned-in facts (model, serial, MACs): survive every reset
      system/        the system partition; a Mode 2 reset wipes all of it
      volume1/       user data; install, reset and restore never delete or rewrite it

This module owns the allow-list of what a reset may wipe. It is an allow-list on purpose:
anything not named here is kept, so a new kind of file is safe until someone decides it
belongs to the system partition.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from openstation.errors import DataDirError, DeviceBusyError
from openstation.failpoints import failpoint
from openstation.files import fsync_dir

DEFAULT_DATA_DIR = Path("openstation-data")

# The only top-level entries of a data directory that a reset may delete.
WIPE_ALLOW_LIST: tuple[str, ...] = ("system",)
_WIPING_SUFFIX = ".wiping"

# How long to wait for the data directory's lock: a device that is starting or stopping,
# or a CLI command working on a stopped device, holds it for a moment.
LOCK_WAIT = 10.0


class DeviceLock:
    """A held data-directory lock; `release` (or exit) gives it back."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> DeviceLock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


@dataclass(frozen=True)
class DataDir:
    """Paths inside one device's data directory."""

    root: Path

    @property
    def system(self) -> Path:
        return self.root / "system"

    @property
    def volume(self) -> Path:
        return self.root / "volume1"

    @property
    def hardware_file(self) -> Path:
        return self.root / "hardware.json"

    @property
    def config_db(self) -> Path:
        return self.system / "config.db"

    @property
    def tls_cert(self) -> Path:
        return self.system / "tls" / "server.crt"

    @property
    def tls_key(self) -> Path:
        return self.system / "tls" / "server.key"

    @property
    def machine_key(self) -> Path:
        return self.system / "machine.key"

    @property
    def control_socket(self) -> Path:
        return self.system / "panel.sock"

    @property
    def panel_token(self) -> Path:
        """The front panel page's access token (mode 0600)."""
        return self.system / "panel-token"

    @property
    def runtime_file(self) -> Path:
        """Written by a running device: its pid and the addresses it listens on."""
        return self.system / "running.json"

    @property
    def reset_journal(self) -> Path:
        return self.root / "reset-journal.json"

    @property
    def restore_journal(self) -> Path:
        return self.root / "restore-journal.json"

    @property
    def lock_file(self) -> Path:
        """Held by a running device, and by the CLI while it works on a stopped one."""
        return self.root / "device.lock"

    def lock(self, timeout: float = 0.0) -> DeviceLock:
        """Take the data directory's lock (waiting up to `timeout` seconds), or raise
        DeviceBusyError: one writer at a time, a device process or a CLI command."""
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return DeviceLock(fd)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise DeviceBusyError(
                        f"{self.root} is in use by another openstation process (a device "
                        "that is still starting or stopping, or another command)") from None
                time.sleep(0.05)

    @property
    def volume_marker(self) -> Path:
        """Written once, by the first install, on an empty volume."""
        return self.volume / "@openstation" / "volume.json"

    def prepare(self) -> None:
        """Create the directory layout, or explain in one line why it cannot be used."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            for part in (self.system, self.volume):
                if part.is_symlink():
                    raise DataDirError(f"{part} is a symbolic link; refusing to use it")
            self.system.mkdir(mode=0o700, exist_ok=True)
            # Other local users of the host must not read the shares (as with system/).
            self.volume.mkdir(mode=0o700, exist_ok=True)
            for part in (self.system, self.volume):
                if part.stat().st_mode & 0o077:
                    part.chmod(0o700)
            probe = self.system / f".write-probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except DataDirError:
            raise
        except OSError as exc:
            raise DataDirError(
                f"data directory {self.root} is not usable: {exc.strerror or exc}"
            ) from None
        self.finish_interrupted_wipe()

    def wipe_system(self) -> None:
        """Wipe the system partition (Mode 2): atomically detach it, then delete it.

        The rename is the instant the wipe happens: before it the whole partition is
        there, after it none of it is. A crash after the rename leaves a `.wiping` folder
        that `finish_interrupted_wipe` removes at the next boot.
        """
        for name in WIPE_ALLOW_LIST:
            target = self._allowed(name)
            if not target.exists():
                continue
            doomed = target.with_name(name + _WIPING_SUFFIX)
            if doomed.exists():
                shutil.rmtree(doomed)
            os.replace(target, doomed)
            fsync_dir(self.root)
            failpoint("wipe-detached")
        self.system.mkdir(mode=0o700, exist_ok=True)
        fsync_dir(self.root)
        self.finish_interrupted_wipe()

    def finish_interrupted_wipe(self) -> None:
        """Delete what a wipe detached but did not get to delete."""
        for name in WIPE_ALLOW_LIST:
            doomed = self._allowed(name).with_name(name + _WIPING_SUFFIX)
            if doomed.exists() and not doomed.is_symlink():
                shutil.rmtree(doomed)
                fsync_dir(self.root)

    def _allowed(self, name: str) -> Path:
        """The path of an allow-listed entry, refusing anything that would leave the root."""
        if name not in WIPE_ALLOW_LIST:
            raise DataDirError(f"{name!r} is not on the wipe allow-list")
        path = self.root / name
        if path.is_symlink():
            raise DataDirError(f"{path} is a symbolic link; refusing to wipe through it")
        return path
