"""WebDAV on WsgiDAV (class 1 and 2: locking, as Windows, macOS and rclone expect), served by
cheroot on ports of its own (DSM's 5005 and 5006 with TLS).

Every resource goes through File Station's `locate`, so rights, the device's hidden `@`
entries, symbolic links and paths out of a share are refused as everywhere else; "/" lists
the shares the user may read. WsgiDAV is synchronous: it runs in cheroot's own threads,
never on the event loop; sign-ins are checked on the loop (the same limits and Auto Block as
the web's) and remembered for a minute, so a client's many requests do not each pay an
argon2 check.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import posixpath
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openstation.accounts.login import LoginService
from openstation.config.sections import FileServices, User
from openstation.config.store import ConfigStore
from openstation.errors import NotFoundError, OpenStationError
from openstation.filestation.service import FileStation
from openstation.storage.quota import folder_bytes

REALM = "openstation"
WRITES = frozenset({"PUT", "DELETE", "MKCOL", "MOVE", "PROPPATCH", "LOCK", "UNLOCK"})
THREADS = 16  # requests served at once (each a cheroot worker thread)
IDLE = 30.0  # seconds a connection may sit idle or take to send a request
REMEMBER = 60.0  # seconds a checked password is trusted
CACHE = 1024
MAX_BODY = 1 << 20  # bytes of a request body other than a PUT's (PROPFIND, LOCK …)
MAX_LOCKS = 10_000


class Signins:
    """Passwords checked by the LoginService, remembered briefly (salted, in memory)."""

    def __init__(self, store: ConfigStore, login: LoginService,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.store = store
        self.login = login
        self.loop = loop
        self.salt = secrets.token_bytes(16)
        self.lock = threading.Lock()
        self.known: dict[tuple[str, bytes], tuple[float, float]] = {}  # → (until, changed)

    def check(self, user: str, password: str, ip: str) -> bool:
        """(A cheroot thread.) Whether `user` may sign in with `password` from `ip`."""
        key, remembered = self._remembered(user, password)
        if remembered:
            return True
        checked = asyncio.run_coroutine_threadsafe(
            self.login.check_password(user, password, ip), self.loop).result(60)
        return self._remember(key, checked)

    async def verify(self, user: str, password: str, ip: str) -> bool:
        """(On the loop.) The same question, for a server on the device's own loop."""
        key, remembered = self._remembered(user, password)
        if remembered:
            return True
        return self._remember(key, await self.login.check_password(user, password, ip))

    def _remembered(self, user: str, password: str) -> tuple[tuple[str, bytes], bool]:
        key = (user, hashlib.sha256(self.salt + password.encode()).digest())
        record = self.store.record(User, user)
        with self.lock:
            remembered = self.known.get(key)
        return key, remembered is not None and record is not None and \
            not record.disabled and remembered[0] > time.monotonic() and \
            remembered[1] == record.password_changed

    def _remember(self, key: tuple[str, bytes], checked: User | None) -> bool:
        if checked is None:
            return False
        with self.lock:
            if len(self.known) >= CACHE:
                self.known.clear()
            self.known[key] = (time.monotonic() + REMEMBER, checked.password_changed)
        return True

    def forget(self) -> None:
        """A reset or an account change: every password is checked again."""
        with self.lock:
            self.known.clear()


def build_app(files: FileStation, signins: Signins, admits: Callable[[str, int], bool],
              changed: Callable[[Path], None], renamed: Callable[[Path, Path], None]) -> Any:
    """The WSGI application: WsgiDAV with the device's provider and domain controller,
    behind a gate for the firewall and Auto Block."""
    from wsgidav.dav_error import HTTP_FORBIDDEN, DAVError
    from wsgidav.dav_provider import DAVCollection
    from wsgidav.dc.base_dc import BaseDomainController
    from wsgidav.fs_dav_provider import FileResource, FilesystemProvider, FolderResource
    from wsgidav.wsgidav_app import WsgiDAVApp

    volume = files.storage.volume

    def user_of(environ: dict[str, Any]) -> str:
        return str(environ.get("wsgidav.auth.user_name") or "")

    def writable(path: str, environ: dict[str, Any]) -> str:
        """The real place of `path`, which the request's user may change: what every write
        operation asks itself (a Destination header spelt any way included). Shares
        themselves, and the top level, are Control Panel's."""
        parts = [p for p in path.split("/") if p]
        if len(parts) < 2:
            raise DAVError(HTTP_FORBIDDEN, "shared folders are managed in Control Panel")
        return located_real("/" + "/".join(parts), environ, write=True)

    def located_real(path: str, environ: dict[str, Any], write: bool) -> str:
        try:
            located = files.locate(user_of(environ), path, write=write)
        except NotFoundError as exc:
            raise DAVError(404, str(exc)) from None
        except OpenStationError as exc:
            raise DAVError(HTTP_FORBIDDEN, str(exc)) from None
        return str(located.real)

    class Reported:
        """Every change checks the right to make it, then is reported (HA replication),
        as File Station's writes are."""

        _file_path: str
        path: str
        environ: dict[str, Any]
        provider: Any

        def delete(self) -> None:
            """The entry (a folder with all of it: `support_recursive_delete`) into its
            share's recycle bin if it has one, else gone; its dead properties and locks
            with it, as WsgiDAV's own delete does."""
            writable(self.path, self.environ)  # the right to delete, as every write's
            try:
                moved = files.discard(files.locate(user_of(self.environ), self.path,
                                                   write=True))
            except OpenStationError as exc:
                raise DAVError(HTTP_FORBIDDEN, str(exc)) from None
            except OSError as exc:
                raise DAVError(HTTP_FORBIDDEN, f"{self.path}: {exc.strerror}") from None
            self.remove_all_properties(recursive=True)  # type: ignore[attr-defined]
            self.remove_all_locks(recursive=True)  # type: ignore[attr-defined]
            if moved is None:
                changed(Path(self._file_path))
            else:
                renamed(Path(self._file_path), moved)

        def support_recursive_delete(self) -> bool:
            return True  # one discard: a folder moves to the bin whole, or goes whole

        def copy_move_single(self, dest_path: str, *, is_move: bool) -> None:
            if is_move:
                writable(self.path, self.environ)
            target = writable(dest_path, self.environ)
            if not is_move or share_of(self.path) != share_of(dest_path):
                # (a folder is copied entry by entry: itself takes no room)
                size = 0 if os.path.isdir(self._file_path) else \
                    os.path.getsize(self._file_path)
                check_room(self.environ, dest_path, size)
                files.storage.quotas.wrote(share_of(dest_path), size)
            super().copy_move_single(dest_path, is_move=is_move)  # type: ignore[misc]
            changed(Path(target))

        def move_recursive(self, dest_path: str) -> None:
            writable(self.path, self.environ)
            target = writable(dest_path, self.environ)
            if share_of(self.path) != share_of(dest_path):
                source = Path(self._file_path)
                size = folder_bytes(source) if source.is_dir() else source.lstat().st_size
                check_room(self.environ, dest_path, size)
                files.storage.quotas.wrote(share_of(dest_path), size)
            super().move_recursive(dest_path)  # type: ignore[misc]
            renamed(Path(self._file_path), Path(target))

        def set_last_modified(self, dest_path: str, time_stamp: Any, *, dry_run: bool
                              ) -> Any:
            writable(dest_path, self.environ)
            return super().set_last_modified(  # type: ignore[misc]
                dest_path, time_stamp, dry_run=dry_run)

    class Folder(Reported, FolderResource):  # type: ignore[misc]
        def create_empty_resource(self, name: str) -> Any:
            writable(posixpath.join(self.path, name), self.environ)
            check_room(self.environ, self.path)
            return super().create_empty_resource(name)

        def create_collection(self, name: str) -> None:
            writable(posixpath.join(self.path, name), self.environ)
            super().create_collection(name)
            changed(Path(self._file_path) / name)

        def get_member_names(self) -> list[str]:
            return [name for name in super().get_member_names()
                    if not name.startswith(("@", ".@"))]

    class Shares(DAVCollection):  # type: ignore[misc]
        """The top level: the shares the user may read."""

        def get_member_names(self) -> list[str]:
            return [share.name for share in files_readable(user_of(self.environ))]

        def get_member(self, name: str) -> Any:
            return self.provider.get_resource_inst(f"/{name}", self.environ)

        def get_display_name(self) -> str:
            return ""

        def prevent_locking(self) -> bool:
            return True  # a lock on "/" would lock every share for everyone

        def create_empty_resource(self, name: str) -> Any:
            raise DAVError(HTTP_FORBIDDEN, "shared folders are made in Control Panel")

        def create_collection(self, name: str) -> Any:
            raise DAVError(HTTP_FORBIDDEN, "shared folders are made in Control Panel")

    def files_readable(user: str) -> list[Any]:
        return [share for share, _right in files.storage.readable(user)]

    class Provider(FilesystemProvider):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(str(volume), fs_opts={"follow_symlinks": False})

        def _loc_to_file_path(self, path: str, environ: dict[str, Any] | None = None
                              ) -> str:
            assert environ is not None
            # Every resource a writing request resolves must be writable (PUT's parent,
            # LOCK's and PROPPATCH's target); each write operation also checks its own
            # target, however a Destination header spells it (`writable`).
            write = environ["REQUEST_METHOD"].upper() in WRITES
            parts = [p for p in path.split("/") if p]
            if write and len(parts) < 2 and \
                    path.strip("/") == str(environ.get("PATH_INFO", "")).strip("/"):
                raise DAVError(HTTP_FORBIDDEN, "shared folders are managed in Control Panel")
            return located_real("/" + "/".join(parts), environ, write)

        def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
            if not path.strip("/"):
                return Shares("/", environ)
            real = Path(self._loc_to_file_path(path, environ))
            try:
                info = real.lstat()
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise DAVError(HTTP_FORBIDDEN, str(exc)) from None
            if real.is_symlink():
                raise DAVError(HTTP_FORBIDDEN, "symbolic links are not followed")
            import stat as stat_module

            if stat_module.S_ISDIR(info.st_mode):
                return Folder(path, environ, str(real))
            if not stat_module.S_ISREG(info.st_mode):  # a FIFO would hang a thread
                raise DAVError(HTTP_FORBIDDEN, "not a regular file")
            return Written(path, environ, str(real))

    def share_of(path: str) -> str:
        return path.strip("/").split("/", 1)[0]

    def check_room(environ: dict[str, Any], path: str, needed: int | None = None) -> None:
        """A PUT (or COPY) that would pass the share's quota or eat into the volume's
        reserve is refused before anything is made (507 Insufficient Storage)."""
        if needed is None:
            length = str(environ.get("CONTENT_LENGTH") or "0")
            needed = int(length) if length.isdigit() else 0
        share = share_of(path)
        if max(needed, 1) > files.storage.room(share):
            raise DAVError(507, f"no room left: {files.full_why(share)}")

    class Bounded:
        """A file being written by a PUT: each block must fit (a body sent without its
        length is bounded as it arrives)."""

        def __init__(self, raw: Any, share: str) -> None:
            self.raw, self.share = raw, share

        def write(self, data: bytes) -> int:
            if len(data) > files.storage.room(self.share):
                raise DAVError(507, f"no room left: {files.full_why(self.share)}")
            written: int = self.raw.write(data)
            files.storage.quotas.wrote(self.share, len(data))
            return written

        def writelines(self, blocks: Any) -> None:  # WsgiDAV's PUT writes this way
            for block in blocks:
                self.write(block)

        def close(self) -> None:
            self.raw.close()

    class Written(Reported, FileResource):  # type: ignore[misc]
        def begin_write(self, *, content_type: str | None = None) -> Any:
            writable(self.path, self.environ)
            check_room(self.environ, self.path)
            before = os.path.getsize(self._file_path)
            raw = super().begin_write(content_type=content_type)  # truncates: frees that
            files.storage.quotas.wrote(share_of(self.path), -before)
            return Bounded(raw, share_of(self.path))

        def end_write(self, *, with_errors: bool) -> None:
            super().end_write(with_errors=with_errors)
            changed(Path(self._file_path))

    class Controller(BaseDomainController):  # type: ignore[misc]
        def get_domain_realm(self, path_info: str, environ: dict[str, Any]) -> str:
            return REALM

        def require_authentication(self, realm: str, environ: dict[str, Any]) -> bool:
            return True

        def basic_auth_user(self, realm: str, user_name: str, password: str,
                            environ: dict[str, Any]) -> bool:
            return signins.check(user_name, password, str(environ.get("REMOTE_ADDR", "")))

        def supports_http_digest_auth(self) -> bool:
            return False  # digest needs the password in the clear

    dav = WsgiDAVApp({
        "provider_mapping": {"/": Provider()},
        "http_authenticator": {"domain_controller": Controller, "accept_basic": True,
                               "accept_digest": False, "default_to_digest": False},
        "dir_browser": {"enable": False},
        "lock_storage": capped_locks(),
        "property_manager": True,
        "verbose": 1,
        "logging": {"enable": False},
        "suppress_version_info": True,
    })

    def gated(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        refusal = refused(environ, admits)
        if refusal is not None:
            start_response(refusal, [("Content-Type", "text/plain")])
            return [refusal.encode() + b"\n"]
        return dav(environ, start_response)

    return gated


def refused(environ: dict[str, Any], admits: Callable[[str, int], bool]) -> str | None:
    """Why a request is refused before WsgiDAV sees it (an HTTP status line), or None: the
    firewall and Auto Block; bodies other than a PUT's are small, with a length; PROPFIND
    goes one level at a time (RFC 4918's "propfind-finite-depth")."""
    port = str(environ.get("SERVER_PORT", "0"))
    if not admits(str(environ.get("REMOTE_ADDR", "")), int(port) if port.isdigit() else 0):
        return "403 Forbidden"
    method = str(environ.get("REQUEST_METHOD", "")).upper()
    if method != "PUT":
        length = str(environ.get("CONTENT_LENGTH") or "0")
        if "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower():
            return "411 Length Required"
        if not length.isdigit() or int(length) > MAX_BODY:
            return "413 Payload Too Large"
    if method == "PROPFIND" and str(environ.get("HTTP_DEPTH", "")).lower() == "infinity":
        return "403 Forbidden"
    return None


def capped_locks() -> Any:
    """WsgiDAV's in-memory lock storage, holding at most MAX_LOCKS locks."""
    from wsgidav.dav_error import DAVError
    from wsgidav.lock_man.lock_storage import LockStorageDict

    class Capped(LockStorageDict):  # type: ignore[misc]
        def create(self, path: str, lock: Any) -> Any:
            if self._dict is not None and len(self._dict) >= 2 * MAX_LOCKS:
                raise DAVError(503, "too many locks")
            return super().create(path, lock)

    return Capped()


class WebDavService:
    """The WebDAV listeners while WebDAV is on (an applier of the file-services section)."""

    def __init__(self, store: ConfigStore, files: FileStation, login: LoginService,
                 hosts: list[str], ports: tuple[int | None, int | None],
                 admits: Callable[[str, int], bool], tls: tuple[Path, Path],
                 changed: Callable[[Path], None], renamed: Callable[[Path, Path], None]
                 ) -> None:
        self.store = store
        self.files = files
        self.login = login
        self.hosts = hosts
        self.port_overrides = ports  # `run --webdav-port/--webdavs-port`: 0 picks free ones
        self.admits = admits
        self.tls = tls
        self.changed = changed
        self.renamed = renamed
        self.ports: dict[str, int] = {}
        self.why = ""
        self._servers: list[tuple[Any, threading.Thread]] = []
        self._listening_on: tuple[int, int] | None = None
        self.signins: Signins | None = None

    def status(self) -> dict[str, object]:
        enabled = self.store.get(FileServices).webdav_enabled
        running = bool(self._servers)
        return {"enabled": enabled, "state": "running" if running else
                "failed" if self.why else "stopped", "why": self.why,
                "port": self.ports.get("webdav"), "https_port": self.ports.get("webdavs")}

    async def reload_tls(self) -> None:
        """A new certificate: WebDAV's HTTPS takes it for its next connections, with no
        restart (cheroot's adapter wraps each connection with its `context`), so uploads in
        flight, over HTTP or HTTPS, go on."""
        from cheroot.ssl.builtin import BuiltinSSLAdapter

        for server, _thread in self._servers:
            if server.ssl_adapter is not None:
                fresh = await asyncio.to_thread(BuiltinSSLAdapter, str(self.tls[0]),
                                                str(self.tls[1]))
                server.ssl_adapter.context = fresh.context

    async def apply(self, _event: object = None) -> None:
        settings = self.store.get(FileServices)
        http = self._port(0, settings.webdav_port)
        https = self._port(1, settings.webdav_https_port)
        if not settings.webdav_enabled:
            await self.close()
            return
        if self._servers and self._listening_on == (http, https):
            return
        await self.close()
        loop = asyncio.get_running_loop()
        self.signins = Signins(self.store, self.login, loop)

        def changed(path: Path) -> None:  # from a cheroot thread: HA is the loop's
            loop.call_soon_threadsafe(self.changed, path)

        def renamed(src: Path, dst: Path) -> None:
            loop.call_soon_threadsafe(self.renamed, src, dst)

        try:
            app = await asyncio.to_thread(build_app, self.files, self.signins, self.admits,
                                          changed, renamed)
            for name, port, secure in (("webdav", http, False), ("webdavs", https, True)):
                server = await asyncio.to_thread(self._serve, app, port, secure)
                self.ports[name] = int(server.bind_addr[1])
        except Exception as exc:  # a busy port, a missing certificate …
            self.why = f"WebDAV cannot start: {exc}"
            await self.close()
            self.why = f"WebDAV cannot start: {exc}"
            return
        self.why = ""
        self._listening_on = (http, https)

    def _port(self, which: int, configured: int) -> int:
        override = self.port_overrides[which]
        if override == 0:  # a free port was picked: it stays while the device runs
            return self.ports.get(("webdav", "webdavs")[which], 0)
        return configured if override is None else override

    def _serve(self, app: Any, port: int, secure: bool) -> Any:
        """(A worker thread.) Bind and start one cheroot server in a thread of its own."""
        from cheroot import wsgi

        server = wsgi.Server((self.hosts[0], port), app, numthreads=THREADS,
                             server_name="openstation", timeout=int(IDLE))
        server.max_request_header_size = 64 << 10
        if secure:
            from cheroot.ssl.builtin import BuiltinSSLAdapter

            server.ssl_adapter = BuiltinSSLAdapter(str(self.tls[0]), str(self.tls[1]))
        server.prepare()
        thread = threading.Thread(target=server.serve, name=f"webdav {port}", daemon=True)
        thread.start()
        self._servers.append((server, thread))
        return server

    def end_sessions(self) -> None:
        if self.signins is not None:
            self.signins.forget()

    async def close(self) -> None:
        servers, self._servers = self._servers, []
        for server, thread in servers:
            await asyncio.to_thread(server.stop)
            await asyncio.to_thread(thread.join, 5)
        self.ports.clear()
        self._listening_on = None
