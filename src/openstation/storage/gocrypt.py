"""Encrypted shared folders on gocryptfs (FUSE), laid out as DSM lays out its eCryptfs ones:
the ciphertext in `volume1/@name@`, the plaintext at `volume1/name` while mounted (the
mount point exists only then, so an unmounted share has no plaintext path at all).

gocryptfs gets a password derived from the share's data key (`crypto.mount_password`), on
its standard input, never in argv. That password is 256 random bits, so gocryptfs's own
scrypt runs at its lowest cost: a mount takes milliseconds, not a second of KDF.

Each mount is a `gocryptfs -fg` child in a process group of its own that gets SIGTERM if
the device dies; on SIGTERM gocryptfs unmounts itself (lazily when busy). A mount left by
a device that was killed harder is cleared at the next boot (`clear_stale`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import re
import shutil
import signal
import tempfile
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from openstation.errors import ConflictError, OpenStationError, WrongKeyError
from openstation.fileserv.daemon import die_with_parent, read_lines

log = logging.getLogger(__name__)

ENV = "OPENSTATION_GOCRYPTFS"  # another gocryptfs binary (tests: one that is missing)
FUSERMOUNT = "fusermount3"
WRONG_PASSWORD = 12  # gocryptfs's exit code
MOUNT_TIMEOUT = 15.0
LONGNAME = "gocryptfs.longname."  # a ciphertext name too long: its full form is in .name


class EncryptionUnavailable(ConflictError):
    """Encrypted shared folders cannot be created or mounted on this machine."""


def binary() -> str:
    return os.environ.get(ENV, "gocryptfs")


def unavailable() -> str | None:
    """Why encrypted shared folders cannot work here (None: they can)."""
    if shutil.which(binary()) is None:
        return "gocryptfs is not installed (Debian: apt install gocryptfs)"
    if shutil.which(FUSERMOUNT) is None:
        return "fusermount3 is not installed (Debian: apt install fuse3)"
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return ("FUSE is not available (/dev/fuse is missing or not usable; a container "
                "needs --device /dev/fuse)")
    return None


def require() -> None:
    if (why := unavailable()) is not None:
        raise EncryptionUnavailable(f"encrypted shared folders are unavailable: {why}")


def cipher_dir(volume: Path, name: str) -> Path:
    """Where a share's ciphertext lives (DSM's `@name@`)."""
    return volume / f"@{name}@"


def is_cipher_dir(name: str) -> bool:
    return len(name) > 2 and name.startswith("@") and name.endswith("@")


async def _run(argv: list[str], stdin: bytes) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    _, err = await process.communicate(stdin)
    return process.returncode or 0, err.decode(errors="replace").strip()


async def initialise(cipher: Path, password: bytes) -> None:
    """Make an empty gocryptfs file system in `cipher` (an existing, empty folder)."""
    require()
    code, err = await _run([binary(), "-init", "-q", "-scryptn", "10", "--", str(cipher)],
                           password + b"\n")
    if code != 0:
        raise OpenStationError(f"gocryptfs could not initialise {cipher.name}: {err}")


@dataclass
class Mount:
    """One running gocryptfs."""

    name: str
    point: Path
    process: asyncio.subprocess.Process
    socket: Path
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    reader: asyncio.Task[None] | None = None


class Mounts:
    """The encrypted shares mounted by this boot."""

    def __init__(self, volume: Path,
                 lost: Callable[[], Awaitable[None]] | None = None) -> None:
        self.volume = volume
        self.lost = lost  # told when a gocryptfs ended by itself (crashed, killed)
        self._mounts: dict[str, Mount] = {}
        self._epoch = 0  # counts `forget_all`: a mount it overtook is undone
        self._watchers: set[asyncio.Task[None]] = set()
        self._sockets: Path | None = None  # control sockets: a short path (108 bytes max)
        self._socket_ids = itertools.count()
        self._lock = asyncio.Lock()  # one mount or unmount at a time: never two on a point

    def __contains__(self, name: object) -> bool:
        return name in self._mounts

    def names(self) -> list[str]:
        return sorted(self._mounts)

    async def mount(self, name: str, password: bytes) -> None:
        """Mount share `name`; WrongKeyError if `password` does not open it."""
        async with self._lock:
            if name not in self._mounts:
                await self._mount(name, password)

    async def _mount(self, name: str, password: bytes) -> None:
        require()
        epoch = self._epoch
        point = self.volume / name
        with contextlib.suppress(FileExistsError):
            point.mkdir(mode=0o755)
        if any(point.iterdir()):  # never mount over (and so hide) files
            raise ConflictError(f"{point} is not empty: the encrypted shared folder "
                                f"{name!r} cannot be mounted over it")
        if self._sockets is None:
            self._sockets = Path(tempfile.mkdtemp(prefix="openstation-gc-"))
        socket = self._sockets / f"{next(self._socket_ids)}.sock"
        process = await asyncio.create_subprocess_exec(
            binary(), "-fg", "-q", "-nosyslog", "-ctlsock", str(socket), "--",
            str(cipher_dir(self.volume, name)), str(point),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, start_new_session=True,
            preexec_fn=die_with_parent)
        mount = Mount(name, point, process, socket)
        mount.reader = asyncio.get_running_loop().create_task(_drain(mount))
        try:
            assert process.stdin is not None
            process.stdin.write(password + b"\n")
            await process.stdin.drain()
            process.stdin.close()
            await self._ready(mount)
            if epoch != self._epoch:
                raise ConflictError(f"a reset unmounted {name!r} while it was mounted")
        except BaseException:
            await _stop(mount)
            raise
        self._mounts[name] = mount
        watcher = asyncio.get_running_loop().create_task(self._watch(mount))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)

    async def _watch(self, mount: Mount) -> None:
        """A gocryptfs that ends by itself leaves a dead mount: detach it, and say so."""
        await mount.process.wait()
        async with self._lock:
            if self._mounts.get(mount.name) is not mount:
                return  # unmounted on purpose
            del self._mounts[mount.name]
            await _stop(mount)
        log.warning("gocryptfs of %r ended by itself: %s", mount.name,
                    " / ".join(mount.tail) or f"exit code {mount.process.returncode}")
        if self.lost is not None:
            await self.lost()

    async def _ready(self, mount: Mount) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MOUNT_TIMEOUT
        while loop.time() < deadline:
            if mount.process.returncode is not None:
                if mount.reader is not None:
                    await mount.reader
                if mount.process.returncode == WRONG_PASSWORD:
                    raise WrongKeyError(f"the key does not open {mount.name!r}")
                raise OpenStationError(f"gocryptfs could not mount {mount.name!r}: "
                                       + " / ".join(mount.tail))
            if await asyncio.to_thread(os.path.ismount, mount.point):
                return
            await asyncio.sleep(0.01)
        raise OpenStationError(f"gocryptfs did not mount {mount.name!r} in time")

    async def unmount(self, name: str,
                      before_stop: Callable[[], Awaitable[None]] | None = None) -> None:
        """Unmount `name`: refused at once, `before_stop` told (smbd drops it), then
        gocryptfs stopped and the mount point removed."""
        async with self._lock:
            mount = self._mounts.pop(name, None)
            try:
                if before_stop is not None:
                    await before_stop()
            finally:
                if mount is not None:
                    await _stop(mount)

    def forget_all(self) -> list[Mount]:
        """Mode 1, at once: every share counts as unmounted, and every gocryptfs is told
        to unmount (SIGTERM: it unmounts itself, lazily if a file is open)."""
        mounts = list(self._mounts.values())
        self._mounts.clear()
        self._epoch += 1
        for mount in mounts:
            with contextlib.suppress(ProcessLookupError):
                mount.process.send_signal(signal.SIGTERM)
        return mounts

    async def finish(self, mounts: list[Mount]) -> None:
        """After `forget_all`: wait for the processes and remove the mount points."""
        async with self._lock:
            for mount in mounts:
                await _stop(mount)

    async def close(self) -> None:
        await self.finish(self.forget_all())
        if self._sockets is not None:
            shutil.rmtree(self._sockets, ignore_errors=True)
            self._sockets = None

    async def cipher_path(self, name: str, plain: str) -> str | None:
        """The ciphertext path (relative to `@name@`) of `plain` (relative to the mount
        point), asked of the running gocryptfs; None if it is not mounted or cannot say."""
        mount = self._mounts.get(name)
        if mount is None:
            return None
        if not plain:
            return ""
        try:
            reader, writer = await asyncio.open_unix_connection(str(mount.socket))
            try:
                writer.write(json.dumps({"EncryptPath": plain}).encode())
                answer = json.loads(await asyncio.wait_for(reader.readline(), 5))
            finally:
                writer.close()
        except (OSError, ValueError, TimeoutError):
            return None
        result = answer.get("Result") if isinstance(answer, dict) else None
        return result if isinstance(result, str) and not answer.get("ErrNo") else None


async def _drain(mount: Mount) -> None:
    """Keep gocryptfs's messages (its last ones explain a failure); never let its pipe
    fill. A foreign file in the ciphertext's root (our `@share.json`) is reported at each
    listing of the root: that is expected, and not kept."""
    assert mount.process.stderr is not None
    await read_lines(mount.process.stderr, mount.tail, lambda line: "@share.json" not in line)


async def _stop(mount: Mount) -> None:
    """Stop one gocryptfs; its mount point is detached and removed."""
    process = mount.process
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    if mount.reader is not None:
        with contextlib.suppress(asyncio.CancelledError):
            mount.reader.cancel()
            await mount.reader
    await lazy_unmount(mount.point)
    _remove_point(mount.point)


async def lazy_unmount(point: Path) -> None:
    """Detach whatever is mounted at `point` (a stale mount of a killed gocryptfs: every
    access to it fails with ENOTCONN until then)."""
    if _mounted(point):
        with contextlib.suppress(OSError):
            process = await asyncio.create_subprocess_exec(
                FUSERMOUNT, "-u", "-z", "-q", str(point),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            await process.wait()


def _mounted(point: Path) -> bool:
    """Whether `point` is a mount point by /proc/self/mountinfo (a stale FUSE mount, whose
    stat fails, included). The table holds absolute, resolved paths, with space, tab,
    newline and backslash as octal escapes."""
    target = os.fsencode(os.path.join(os.path.realpath(point.parent), point.name))
    with contextlib.suppress(OSError), open("/proc/self/mountinfo", "rb") as info:
        return any(_unescaped(line.split(b" ")[4]) == target for line in info)
    return False


def _unescaped(field: bytes) -> bytes:
    return re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), field)


def _remove_point(point: Path) -> None:
    """The mount point goes once unmounted (rmdir: only ever an empty folder)."""
    with contextlib.suppress(OSError):
        point.rmdir()


async def clear_stale(volume: Path, names: list[str]) -> None:
    """At boot: a mount left by a killed device is detached, its mount point removed."""
    for name in names:
        point = volume / name
        if _mounted(point):
            await lazy_unmount(point)
        _remove_point(point)
