"""SFTP (and rsync over SSH), in process (asyncssh), with File Station's permission checks.

A user signs in with their DSM password and sees one folder per shared folder they may
read, as if chrooted: every path goes through `FileStation.locate`, so rights, the
device's hidden `@` entries, symbolic links and paths leading out of a share are refused
exactly as File Station refuses them, and rights are checked again on every request.
File I/O runs off the loop. There is no shell, exec or port forwarding.
"""

from __future__ import annotations

import contextlib
import errno
import os
import posixpath
import secrets
import shutil
import stat
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncssh
from asyncssh.connection import SSHConnection

from openstation import offload
from openstation.accounts.login import LoginService
from openstation.config.sections import FileServices, Share, User
from openstation.config.store import ConfigStore
from openstation.errors import (
    AlreadyExistsError,
    IllegalPathError,
    NotFoundError,
    OpenStationError,
    PermissionDeniedError,
)
from openstation.events import ConfigChanged
from openstation.files import write_atomic
from openstation.fileserv import rsync
from openstation.filestation.service import FileStation, Located
from openstation.storage.permissions import READ_ONLY, READ_WRITE
from openstation.storage.quota import folder_bytes

LOGIN_TIMEOUT = 30.0  # seconds to authenticate
PER_SOURCE = 16  # connections from one address
TOTAL = 256
HANDLES = 256  # files open at once in one SFTP session
CHANNELS = 8  # SFTP sessions and rsync runs at once on one connection


def _sftp_error(exc: Exception) -> asyncssh.SFTPError:
    if isinstance(exc, NotFoundError | FileNotFoundError):
        return asyncssh.SFTPNoSuchFile(str(exc))
    if isinstance(exc, PermissionDeniedError | IllegalPathError | PermissionError):
        return asyncssh.SFTPPermissionDenied(str(exc))
    if isinstance(exc, AlreadyExistsError | FileExistsError):
        return asyncssh.SFTPFailure(str(exc))
    if isinstance(exc, OSError) and exc.errno == errno.ENOTEMPTY:
        return asyncssh.SFTPFailure("the folder is not empty")
    return asyncssh.SFTPFailure(str(exc) if isinstance(exc, OpenStationError)
                                else "the operation failed")


def _root_attrs() -> asyncssh.SFTPAttrs:
    return asyncssh.SFTPAttrs(type=asyncssh.FILEXFER_TYPE_DIRECTORY, size=0,
                              permissions=stat.S_IFDIR | 0o555, uid=0, gid=0)


class ShareFiles(asyncssh.SFTPServer):
    """One SFTP session: the shares of its user."""

    def __init__(self, chan: asyncssh.SSHServerChannel[bytes], service: SftpService) -> None:
        super().__init__(chan)
        self.service = service
        self.user = str(chan.get_extra_info("username"))
        self.handles = 0  # files open in this session
        self.conn = chan.get_connection()
        service.opened(self.conn)

    def exit(self) -> None:
        self.service.closed(self.conn)

    # --- paths ---------------------------------------------------------------------------

    def _path(self, raw: bytes) -> str:
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            raise asyncssh.SFTPNoSuchFile("names are UTF-8") from None
        return posixpath.normpath(posixpath.join("/", text)).replace("//", "/")

    def _locate(self, raw: bytes, write: bool = False) -> Located:
        path = self._path(raw)
        if path == "/":
            raise asyncssh.SFTPPermissionDenied("the top level holds only shared folders")
        try:
            located = self.service.files.locate(self.user, path, write=write)
        except OpenStationError as exc:
            raise _sftp_error(exc) from None
        return located

    def _entry(self, raw: bytes, write: bool) -> Located:
        """A path to make or change: writable, and never a share itself."""
        located = self._locate(raw, write=write)
        if located.is_root:
            raise asyncssh.SFTPPermissionDenied("shared folders are managed in Control Panel")
        return located

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await offload.run(fn, *args)
        except (OSError, OpenStationError) as exc:
            raise _sftp_error(exc) from None

    def _changed(self, located: Located) -> None:
        self.service.changed(located.real)

    # --- the protocol --------------------------------------------------------------------

    def realpath(self, path: bytes) -> bytes:
        return self._path(path).encode()

    async def stat(self, path: bytes) -> asyncssh.SFTPAttrs:
        if self._path(path) == "/":
            return _root_attrs()
        located = self._locate(path)
        info = await self._run(located.real.lstat)
        return asyncssh.SFTPAttrs.from_local(info)

    lstat = stat

    async def scandir(self, path: bytes) -> AsyncIterator[asyncssh.SFTPName]:
        if self._path(path) == "/":
            yield asyncssh.SFTPName(b".", attrs=_root_attrs())
            yield asyncssh.SFTPName(b"..", attrs=_root_attrs())
            for share in self.service.visible(self.user):
                info = await self._run((self.service.volume / share.name).lstat)
                yield asyncssh.SFTPName(share.name.encode(),
                                        attrs=asyncssh.SFTPAttrs.from_local(info))
            return
        located = self._locate(path)
        items = await self._run(self.service.files.children, located)
        info = await self._run(located.real.lstat)
        yield asyncssh.SFTPName(b".", attrs=asyncssh.SFTPAttrs.from_local(info))
        yield asyncssh.SFTPName(b"..", attrs=_root_attrs())
        for item in items:
            yield asyncssh.SFTPName(item.name.encode(),
                                    attrs=asyncssh.SFTPAttrs.from_local(item.info))

    async def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        writing = bool(pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_APPEND |
                                 asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC))
        located = self._entry(path, write=True) if writing else self._locate(path)
        flags = os.O_RDWR if pflags & asyncssh.FXF_READ and writing else \
            os.O_WRONLY if writing else os.O_RDONLY
        flags |= os.O_NOFOLLOW | (os.O_CREAT if pflags & asyncssh.FXF_CREAT else 0)
        flags |= (os.O_TRUNC if pflags & asyncssh.FXF_TRUNC else 0)
        flags |= (os.O_EXCL if pflags & asyncssh.FXF_EXCL else 0)
        flags |= (os.O_APPEND if pflags & asyncssh.FXF_APPEND else 0)
        # Non-blocking: a FIFO on the volume must not hang a worker thread in open().
        flags |= os.O_NONBLOCK
        if self.handles >= HANDLES:
            raise asyncssh.SFTPFailure(f"at most {HANDLES} files open in one session")
        before = await self._run(_size, located.real) if writing else 0
        fd = await self._run(os.open, located.real, flags, 0o644)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise asyncssh.SFTPFailure(f"{located.path} is a folder"
                                       if stat.S_ISDIR(info.st_mode)
                                       else f"{located.path} is not a regular file")
        self.handles += 1
        if writing:  # a truncation frees what the file held
            self.service.files.storage.quotas.wrote(located.share.name, info.st_size - before)
        return _Handle(fd, located, writing, info.st_size)

    async def read(self, file_obj: object, offset: int, size: int) -> bytes:
        handle = _handle(file_obj)
        data: bytes = await self._run(os.pread, handle.fd, min(size, 1 << 20), offset)
        return data

    async def write(self, file_obj: object, offset: int, data: bytes) -> int:
        handle = _handle(file_obj)
        if not handle.writing:
            raise asyncssh.SFTPPermissionDenied("the file was opened for reading")
        files, share = self.service.files, handle.located.share.name
        # what the write adds (a far offset makes a sparse file of that size: it counts)
        if max(0, offset + len(data) - handle.size) > files.storage.room(share):
            # EDQUOT as SFTP has it (no code of its own): a failure with the reason
            raise asyncssh.SFTPFailure(f"no room left: {files.full_why(share)}")
        written: int = await self._run(os.pwrite, handle.fd, data, offset)
        grown = max(0, offset + written - handle.size)  # an overwrite in place takes nothing
        handle.size += grown
        files.storage.quotas.wrote(share, grown)
        handle.dirty = True
        return written

    async def close(self, file_obj: object) -> None:
        handle = _handle(file_obj)
        self.handles -= 1
        await self._run(os.close, handle.fd)
        if handle.dirty:
            self._changed(handle.located)

    async def fstat(self, file_obj: object) -> asyncssh.SFTPAttrs:
        info = await self._run(os.fstat, _handle(file_obj).fd)
        return asyncssh.SFTPAttrs.from_local(info)

    async def setstat(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        located = self._entry(path, write=True)
        await self._run(_set_times, located.real, attrs)

    async def fsetstat(self, file_obj: object, attrs: asyncssh.SFTPAttrs) -> None:
        handle = _handle(file_obj)
        if not handle.writing:
            raise asyncssh.SFTPPermissionDenied("the file was opened for reading")
        if attrs.size is not None:
            await self._run(os.ftruncate, handle.fd, attrs.size)
            handle.dirty = True
        await self._run(_set_times, handle.fd, attrs)

    async def remove(self, path: bytes) -> None:
        located = self._entry(path, write=True)
        if (await self._run(located.real.lstat)).st_mode & stat.S_IFDIR:
            raise asyncssh.SFTPFailure(f"{located.path} is a folder")
        moved = await self._run(self.service.files.discard, located)  # the recycle bin?
        if moved is None:
            self._changed(located)
        else:
            self.service.renamed(located.real, moved)

    async def mkdir(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        located = self._entry(path, write=True)
        await self._run(located.real.mkdir, 0o755)
        self._changed(located)

    async def rmdir(self, path: bytes) -> None:
        located = self._entry(path, write=True)
        await self._run(located.real.rmdir)
        self._changed(located)

    async def rename(self, oldpath: bytes, newpath: bytes) -> None:
        await self._rename(oldpath, newpath, replace=False)

    async def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        await self._rename(oldpath, newpath, replace=True)

    async def _rename(self, oldpath: bytes, newpath: bytes, replace: bool) -> None:
        source = self._entry(oldpath, write=True)
        target = self._entry(newpath, write=True)
        if not replace and await self._run(os.path.lexists, target.real):
            raise asyncssh.SFTPFailure(f"{target.path} already exists")
        files, share = self.service.files, target.share.name
        size = 0
        if share != source.share.name:  # into another share: it must fit there
            size = await self._run(_tree_bytes, source.real)
            if not files.storage.claim(size, share):
                raise asyncssh.SFTPFailure(f"no room left: {files.full_why(share)}")
        try:
            await self._run(os.rename, source.real, target.real)
        finally:
            files.storage.release(size, share)
        files.storage.quotas.wrote(share, size)
        self.service.renamed(source.real, target.real)

    async def statvfs(self, path: bytes) -> os.statvfs_result:
        result: os.statvfs_result = await self._run(os.statvfs, self.service.volume)
        return result

    def readlink(self, path: bytes) -> bytes:
        raise asyncssh.SFTPNoSuchFile("symbolic links are not followed")

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPOpUnsupported("symbolic links cannot be made here")

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPOpUnsupported("hard links cannot be made here")

    def lsetstat(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        raise asyncssh.SFTPOpUnsupported("symbolic links are not followed")


class _Handle:
    def __init__(self, fd: int, located: Located, writing: bool, size: int) -> None:
        self.fd = fd
        self.located = located
        self.writing = writing
        self.dirty = False
        self.size = size  # as this handle has made it (for the share's quota)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """asyncssh asks where a file's data lies (SEEK_DATA / SEEK_HOLE) to skip holes."""
        return os.lseek(self.fd, offset, whence)


def _handle(file_obj: object) -> _Handle:
    assert isinstance(file_obj, _Handle)
    return file_obj


def _set_times(target: Path | int, attrs: asyncssh.SFTPAttrs) -> None:
    """Times only: a file's owner and mode on the volume are the device's business."""
    if attrs.atime is not None and attrs.mtime is not None:
        os.utime(target, (attrs.atime, attrs.mtime))


class _Server(asyncssh.SSHServer):
    def __init__(self, service: SftpService) -> None:
        self.service = service
        self.ip = ""
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.ip = str(conn.get_extra_info("peername", ("", 0))[0])
        if not self.service.admit(self.ip, conn):
            conn.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.service.forget(self.ip, self.conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def session_requested(self) -> bool:
        """A new channel (an SFTP session, an rsync run): a few per connection."""
        return self.conn is not None and self.service.channels(self.conn) < CHANNELS

    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        user = await self.service.login.check_password(username, password, self.ip)
        if user is None or self.conn is None:
            return False
        self.service.signed_in(self.conn, user)
        return True


class SftpService:
    """The SFTP listener, while SFTP is on (an applier of the file-services section)."""

    def __init__(self, store: ConfigStore, files: FileStation, login: LoginService,
                 host_key: Path, hosts: list[str], port: int | None,
                 admits: Callable[[str, int], bool], volume: Path,
                 changed: Callable[[Path], None], renamed: Callable[[Path, Path], None]
                 ) -> None:
        self.store = store
        self.files = files
        self.login = login
        self.host_key = host_key
        self.hosts = hosts
        self.port_override = port
        self.admits = admits  # the firewall and Auto Block
        self.volume = volume
        self.changed = changed
        self.renamed = renamed
        self.port = 0
        self.why = ""
        self._server: asyncssh.SSHAcceptor | None = None
        self._listening_on: tuple[int, bool, bool] | None = None  # (port, sftp, rsync)
        self._sessions: dict[asyncssh.SSHServerConnection, tuple[str, User | None]] = {}
        self._since: dict[asyncssh.SSHServerConnection, tuple[float, str]] = {}  # (when, id)
        self._channels: dict[SSHConnection, int] = {}  # SFTP and rsync
        self._rsync_writing: dict[SSHConnection, set[str]] = {}  # the shares rsync may write

    def status(self) -> dict[str, dict[str, object]]:
        """SFTP's and rsync's (they share the SSH server and its port)."""
        settings = self.store.get(FileServices)
        running = self._server is not None
        entries = {}
        for name, enabled in (("sftp", settings.sftp_enabled),
                              ("rsync", settings.rsync_enabled)):
            why = self.why if enabled else ""
            if name == "rsync" and enabled and shutil.which("rsync") is None:
                why = "rsync is not installed (Debian: apt-get install rsync)"
            state = "running" if running and enabled and not why else \
                "failed" if why else "stopped"
            entries[name] = {"enabled": enabled, "state": state,
                             "port": self.port if running and enabled else None, "why": why,
                             "sessions": len(self._sessions)}
        return entries

    def readable(self, user: str) -> list[tuple[Share, str]]:
        """The shares `user` may read now, with their right."""
        return self.files.storage.readable(user)

    def visible(self, user: str) -> list[Share]:
        return [share for share, _right in self.readable(user)]

    async def apply(self, _event: ConfigChanged | None = None) -> None:
        settings = self.store.get(FileServices)
        port = self.port_override if self.port_override is not None else settings.sftp_port
        if port == 0 and self.port:
            port = self.port  # `run --sftp-port 0` picked one: it stays while the device runs
        wanted = (port, settings.sftp_enabled, settings.rsync_enabled)
        if not (settings.sftp_enabled or settings.rsync_enabled):
            await self.close()
            return
        if self._server is not None and wanted == self._listening_on:
            return
        await self.close()
        try:
            key = await offload.run(_host_key, self.host_key)
            self._server = await asyncssh.create_server(
                lambda: _Server(self), self.hosts, port, server_host_keys=[key],
                sftp_factory=(lambda chan: ShareFiles(chan, self))
                if settings.sftp_enabled else None,
                process_factory=self._process, encoding=None, allow_scp=False,
                allow_pty=False, agent_forwarding=False, login_timeout=LOGIN_TIMEOUT,
                keepalive_interval=60, keepalive_count_max=3,
                server_version="openstation", reuse_address=True)
        except (OSError, asyncssh.Error) as exc:
            self.why = f"cannot listen on port {port}: {exc}"
            return
        self.why = ""
        self._listening_on = wanted
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _process(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        """An exec request: rsync's daemon mode when rsync is on; nothing else."""
        if self.store.get(FileServices).rsync_enabled and \
                rsync.is_daemon_request(process.command):
            user = str(process.get_extra_info("username"))
            shares = self.readable(user)
            if self.store.writes_refused("storage") is not None:  # an HA passive
                shares = [(share, READ_ONLY) for share, _right in shares]
            # A share at its quota (or with none of it left) is read only to rsync.
            quotas = self.files.storage.quotas
            shares = [(share, READ_ONLY if (room := quotas.room(share.name)) is not None
                       and room <= 0 else right) for share, right in shares]

            def conf(log: Path) -> str:
                return rsync.config(shares, self.volume, os.getuid(), os.getgid(),
                                    chroot=os.geteuid() == 0, log=log)

            conn = process.channel.get_connection()
            self.opened(conn)
            writing = {share.name for share, right in shares if right == READ_WRITE}
            self._rsync_writing[conn] = self._rsync_writing.get(conn, set()) | writing
            try:
                await rsync.serve(process, conf, self.host_key.parent / "rsync",
                                  self.volume, self.changed)
            finally:
                self.closed(conn)
                self._rsync_writing.pop(conn, None)
            return
        process.stderr.write(b"this device offers SFTP and rsync's daemon mode "
                             b"(rsync -e ssh SRC user@nas::share/), no shell\n")
        process.exit(1)

    def admit(self, ip: str, conn: asyncssh.SSHServerConnection) -> bool:
        from_ip = sum(1 for where, _ in self._sessions.values() if where == ip)
        if from_ip >= PER_SOURCE or len(self._sessions) >= TOTAL or \
                not self.admits(ip, self.port):
            return False
        self._sessions[conn] = (ip, None)
        self._since[conn] = (time.time(), secrets.token_hex(8))
        return True

    def signed_in(self, conn: asyncssh.SSHServerConnection, user: User) -> None:
        ip, _ = self._sessions.get(conn, ("", None))
        self._sessions[conn] = (ip, user)

    def forget(self, ip: str, conn: asyncssh.SSHServerConnection) -> None:
        self._sessions.pop(conn, None)
        self._since.pop(conn, None)

    def connections(self) -> list[dict[str, object]]:
        """Each signed-in SSH connection (SFTP or rsync): who, from where, since when."""
        found: list[dict[str, object]] = []
        for conn, (ip, user) in self._sessions.items():
            since, conn_id = self._since.get(conn, (0.0, ""))
            if user is not None:
                found.append({"id": f"ssh-{conn_id}", "who": user.name, "from": ip,
                              "since": since, "type": "SFTP"})
        return found

    def kick(self, conn_id: str) -> bool:
        """End one connection; False if there is none by that id."""
        for conn, (_since, known) in list(self._since.items()):
            if f"ssh-{known}" == conn_id:
                conn.close()
                return True
        return False
        self._channels.pop(conn, None)

    def channels(self, conn: SSHConnection) -> int:
        return self._channels.get(conn, 0)

    def opened(self, conn: SSHConnection) -> None:
        self._channels[conn] = self._channels.get(conn, 0) + 1

    def closed(self, conn: SSHConnection) -> None:
        if conn in self._channels:
            self._channels[conn] = max(0, self._channels[conn] - 1)

    def shares_filled(self, full: frozenset[str]) -> None:
        """rsync writes on its own: a session that may write into a share that has just
        reached its quota ends (the next one finds that share read only)."""
        for conn, writing in list(self._rsync_writing.items()):
            if writing & full:
                conn.close()

    def accounts_changed(self, _event: ConfigChanged | None = None) -> None:
        """A disabled, deleted, renamed or re-passworded account's sessions end."""
        for conn, (_ip, user) in list(self._sessions.items()):
            if user is None:
                continue
            now = self.store.record(User, user.name)
            if now is None or now.disabled or now.password_changed != user.password_changed:
                conn.close()

    def end_sessions(self) -> None:
        """A reset: every SFTP session ends."""
        for conn in list(self._sessions):
            conn.close()

    async def close(self) -> None:
        self.end_sessions()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
            self._listening_on = None
            self.port = 0


def _size(path: Path) -> int:
    """A file's size now (0: none yet)."""
    try:
        return path.lstat().st_size
    except FileNotFoundError:
        return 0


def _tree_bytes(path: Path) -> int:
    """Bytes of a file, or of everything below a folder (links not followed)."""
    return folder_bytes(path) if path.is_dir() and not path.is_symlink() else \
        path.lstat().st_size


def _host_key(path: Path) -> asyncssh.SSHKey:
    """The device's SSH host key, made at first boot (system/: a Mode 2 wipe renews it)."""
    if not path.exists():
        key = asyncssh.generate_private_key("ssh-ed25519")
        write_atomic(path, key.export_private_key(), 0o600)
    return asyncssh.read_private_key(path)
