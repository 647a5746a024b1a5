"""Hyper Backup Vault: the device as another device's backup destination.

It serves restic's REST protocol (the one `rest-server` speaks) on the device's HTTPS
port, under /hyperbackup-vault/<account>/<repository>/, to device accounts only (HTTP
Basic, checked like every file service's sign-in), each in repositories of its own. The
repositories live on volume1 (@hyperbackup-vault/<account>/…), so a reset of the Vault
device never touches them. Objects are written once (a name that exists is refused, as
rest-server does) through a temporary file, fsync and rename.
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import json
import os
import re
import secrets
import time
import zlib
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from aiohttp import BasicAuth, web

from openstation import offload
from openstation.config.sections import BackupVault
from openstation.config.store import ConfigStore
from openstation.storage.paths import name_problem

PREFIX = "/hyperbackup-vault/"
FOLDER = "@hyperbackup-vault"
TYPES = ("data", "keys", "locks", "snapshots", "index")
OBJECT = re.compile(r"[0-9a-f]{64}")
V2 = "application/vnd.x.restic.rest.v2"
MAX_OBJECT = 160 << 20  # restic's largest pack (128 MiB) and some
STALE_LOCK = 30 * 60  # restic's own: a lock not refreshed for 30 minutes is stale

Verify = Callable[[str, str, str], Coroutine[Any, Any, bool]]


class Vault:
    """The REST endpoint of the Vault role (off unless switched on)."""

    def __init__(self, store: ConfigStore, volume: Path, verify: Verify,
                 received: Callable[[str, str, str], None] = lambda *_args: None,
                 claim: Callable[[int], bool] = lambda _size: True,
                 release: Callable[[int], None] = lambda _size: None) -> None:
        self.store = store
        self.root = volume / FOLDER
        self.verify = verify
        self.received = received  # (account, repository, what): the Vault's log
        self.claim, self.release = claim, release  # the volume's free space and reserve

    def enabled(self) -> bool:
        return self.store.get(BackupVault).enabled

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not self.enabled():
            raise web.HTTPNotFound(text="Hyper Backup Vault is off on this device")
        if not request.secure:
            raise web.HTTPForbidden(text="the Vault answers over HTTPS only")
        account = await self._account(request)
        parts = request.match_info["tail"].split("/")
        if len(parts) < 2 or parts[0] != account:
            raise web.HTTPForbidden(text="each account reaches only its own repositories")
        if name_problem(parts[1]) is not None:
            raise web.HTTPBadRequest(text="not a repository name")
        repo = self.root / account / parts[1]
        rest = [p for p in parts[2:] if p]
        method = request.method
        if not rest:
            if method == "POST" and request.query.get("create") == "true":
                await offload.run(_create, repo)
                self.received(account, parts[1], "repository created")
                return web.Response()
            raise web.HTTPMethodNotAllowed(method, ["POST"])
        if rest == ["config"]:
            return await self._object(request, repo / "config", repo, "config")
        if rest[0] not in TYPES or len(rest) > 2:
            raise web.HTTPNotFound()
        if len(rest) == 1:
            if method != "GET":
                raise web.HTTPMethodNotAllowed(method, ["GET"])
            return await self._list(request, repo, rest[0])
        if not OBJECT.fullmatch(rest[1]):
            raise web.HTTPBadRequest(text="not an object name")
        return await self._object(request, repo / _place(rest[0], rest[1]), repo, rest[0])

    async def _account(self, request: web.Request) -> str:
        header = request.headers.get("Authorization", "")
        try:
            auth = BasicAuth.decode(header, encoding="utf-8") if header else None
        except (ValueError, binascii.Error):
            auth = None
        if auth is None or not await self.verify(auth.login, auth.password,
                                                 request.remote or ""):
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate":
                                                'Basic realm="Hyper Backup Vault"'})
        return str(auth.login)

    async def _list(self, request: web.Request, repo: Path, kind: str) -> web.Response:
        if not await offload.run(repo.is_dir):
            raise web.HTTPNotFound(text="no repository here")
        found = await offload.run(_listing, repo / kind)
        if V2 in request.headers.get("Accept", ""):
            return web.Response(body=json.dumps([{"name": n, "size": s} for n, s in found]),
                                content_type=V2)
        return web.json_response([n for n, _ in found])

    async def _object(self, request: web.Request, path: Path, repo: Path, kind: str
                      ) -> web.StreamResponse:
        method = request.method
        if method in ("GET", "HEAD"):
            if not await offload.run(path.is_file):
                raise web.HTTPNotFound()
            return web.FileResponse(path)  # ranges, sendfile, off the loop
        if method == "POST":
            return await self._save(request, path, repo, kind)
        if method == "DELETE":
            if kind == "config":
                raise web.HTTPForbidden(text="a repository's config stays")
            try:
                await offload.run(path.unlink)
            except FileNotFoundError:
                raise web.HTTPNotFound() from None
            return web.Response()
        raise web.HTTPMethodNotAllowed(method, ["GET", "HEAD", "POST", "DELETE"])

    async def _save(self, request: web.Request, path: Path, repo: Path, kind: str
                    ) -> web.Response:
        """Write an object once, streamed to a temporary file (never whole in memory),
        its name checked against its SHA-256 (restic names every object so, but config),
        within the volume's free space and reserve."""
        if not await offload.run(repo.is_dir):  # made first by POST ?create=true
            raise web.HTTPNotFound(text="no repository here")
        size = request.content_length
        if size is None or size > MAX_OBJECT:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_OBJECT, actual_size=size or 0)
        if kind == "locks" and not await offload.run(self._room, repo):
            # DSM's "parallel backups": restic retries a refused lock, so a backup past
            # the limit waits for one of the others to finish
            raise web.HTTPServiceUnavailable(text="the Vault takes no more backups now")
        if not self.claim(size):
            raise web.HTTPInsufficientStorage(text="the Vault's volume is full")
        try:
            upload = await offload.run(_Upload, path)
            try:
                async for chunk in request.content.iter_chunked(1 << 20):
                    await offload.run(upload.write, chunk)
                written = await offload.run(upload.finish, kind != "config")
            finally:
                await offload.run(upload.discard)
        except OSError as exc:  # the disk filled meanwhile, or failed
            raise web.HTTPInsufficientStorage(text=f"cannot store: {exc.strerror}") from None
        finally:
            self.release(size)
        if written == "exists":
            raise web.HTTPForbidden(text="the object exists")
        if written == "mismatch":
            raise web.HTTPBadRequest(text="the object's content is not its name's")
        if kind == "snapshots":  # a backup's last write: a new version
            with contextlib.suppress(Exception):  # the object is stored whatever the log
                self.received(repo.parent.name, repo.name, f"version {path.name[:8]} received")
        return web.Response()

    def _room(self, repo: Path) -> bool:
        """Whether one more repository may be written (fresh locks held in fewer than the
        parallel backup limit of the others)."""
        limit = self.store.get(BackupVault).parallel_backup_limit
        fresh = time.time() - STALE_LOCK
        busy = 0
        for locks in self.root.glob("*/*/locks"):
            if locks.parent == repo:
                continue
            for lock in locks.iterdir():
                with contextlib.suppress(OSError):  # released meanwhile
                    if lock.stat().st_mtime > fresh:
                        busy += 1
                        break
        return busy < limit

    def repositories(self, sizes: bool = False) -> list[dict[str, Any]]:
        """Every repository on the Vault: a number, its account and name, and with `sizes`
        the bytes it holds and its versions (in a worker thread: it walks the volume)."""
        found: list[dict[str, Any]] = []
        for account in sorted(self.root.iterdir()) if self.root.is_dir() else []:
            for repo in sorted(account.iterdir()) if account.is_dir() else []:
                if not (repo / "config").is_file():
                    continue
                # a number that stays the repository's as others come and go
                entry: dict[str, Any] = {
                    "target_id": zlib.crc32(f"{account.name}/{repo.name}".encode()) >> 1,
                    "account": account.name, "name": repo.name}
                if sizes:
                    entry["used_size"] = sum(size for kind in TYPES
                                             for _, size in _listing(repo / kind))
                    entry["versions"] = len(_listing(repo / "snapshots"))
                found.append(entry)
        return found


def _place(kind: str, name: str) -> str:
    """Where an object lives: data in 256 subfolders, as restic's local layout."""
    return f"data/{name[:2]}/{name}" if kind == "data" else f"{kind}/{name}"


def _create(repo: Path) -> None:
    for kind in TYPES:
        (repo / kind).mkdir(mode=0o700, parents=True, exist_ok=True)
    for n in range(256):
        (repo / "data" / f"{n:02x}").mkdir(mode=0o700, exist_ok=True)


def _listing(folder: Path) -> list[tuple[str, int]]:
    found = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            if OBJECT.fullmatch(name):
                with contextlib.suppress(FileNotFoundError):  # pruned meanwhile
                    found.append((name, (Path(root) / name).stat().st_size))
    return found


class _Upload:
    """An object being received: a temporary file beside its place, hashed as it grows
    (each step in a worker thread)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = path
        self.temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        self.out = open(self.temporary, "xb")  # noqa: SIM115 (closed by finish/discard)
        self.digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.out.write(chunk)
        self.digest.update(chunk)

    def finish(self, named_by_content: bool) -> str:
        """"stored", "exists" (restic never rewrites an object) or "mismatch"."""
        if named_by_content and self.digest.hexdigest() != self.path.name:
            return "mismatch"
        self.out.flush()
        os.fsync(self.out.fileno())
        try:
            os.link(self.temporary, self.path)  # fails if it exists, whoever wrote it
        except FileExistsError:
            return "exists"
        return "stored"

    def discard(self) -> None:
        self.out.close()
        with contextlib.suppress(FileNotFoundError):
            self.temporary.unlink()
