"""SMB: the device's own smbd (Samba), configured from the store and supervised.

An applier: every change to the sections Samba's files come from renders them again (off
the loop: opening 10,000 sealed NT hashes is real work); if they changed, smbd restarts,
so a changed password, a disabled account or a right taken away ends that session at
once. A change of Auto Block's list only makes smbd read its configuration again
(`hosts deny`). smbd's logs are followed: its JSON sign-in log feeds the rate limit and Auto
Block, its full_audit lines HA replication.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import pwd
import shutil
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from openstation import offload
from openstation.config.sections import AutoBlock, FileServices, General, Group, Share, User
from openstation.config.store import ConfigStore
from openstation.errors import StoreError
from openstation.events import ConfigChanged
from openstation.files import write_atomic
from openstation.fileserv import samba_conf
from openstation.fileserv.daemon import Event, Spec, Supervisor
from openstation.security.machine_key import SMB, MachineKey
from openstation.security.service import address_problem
from openstation.storage.quota import Quotas

SECTIONS = ("file_services", "users", "groups", "shares", "general", "autoblock",
            "ha_cluster")
NSS_WRAPPER = ("/usr/lib/x86_64-linux-gnu/libnss_wrapper.so",
               "/usr/lib/aarch64-linux-gnu/libnss_wrapper.so", "/usr/lib/libnss_wrapper.so",
               "/usr/lib64/libnss_wrapper.so")
AUTH_POLL = 0.5  # seconds between reads of smbd's sign-in log

# (source address, account) of a failed sign-in → whether that source is now refused (the
# sign-in rate limit or Auto Block)
Failed = Callable[[str, str], bool]
THROTTLE = 60.0  # seconds a refused source stays in `hosts deny` (the rate limit's window)
AUDIT_OPS = frozenset({"openat", "close", "renameat", "unlinkat", "mkdirat"})


@dataclass(frozen=True)
class Files:
    """Samba's rendered files."""

    config: str
    smbpasswd: str
    passwd: str
    group: str


STATUS_TIMEOUT = 10.0  # seconds smbstatus may take


def free_port(host: str) -> int:
    """A port free on `host` now (smbd cannot be handed a socket, nor report one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def parse_auth(line: str) -> tuple[str, str, bool] | None:
    """(address, account, succeeded) from one line of smbd's JSON sign-in log; None for
    anything else. The log is a file of its own and its strings are JSON-escaped: what a
    client sends (account, workstation) cannot forge a line or another address."""
    try:
        event = json.loads(line)
        auth = event["Authentication"]
        kind, _, rest = str(auth["remoteAddress"]).partition(":")
        address = rest.rsplit(":", 1)[0].strip("[]")
        ip = str(ipaddress.ip_address(address))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if kind not in ("ipv4", "ipv6"):
        return None
    return ip, str(auth.get("clientAccount") or ""), auth.get("status") == "NT_STATUS_OK"


class Changes:
    """smbd's full_audit lines (`share|op|ok|…|path`) → what changed on the volume: a file
    opened for writing is changed when it is closed; a rename, a deletion and a new folder
    at once."""

    def __init__(self, changed: Callable[[Path], None],
                 renamed: Callable[[Path, Path], None]) -> None:
        self.changed = changed
        self.renamed = renamed
        self.writing: set[str] = set()

    def read(self, line: str) -> bool:
        """Act on one line; whether it was an audit line."""
        fields = line.split("|")
        if len(fields) < 4 or fields[1] not in AUDIT_OPS or fields[2] != "ok":
            return False
        op, rest = fields[1], fields[3:]
        if op == "openat" and len(rest) == 2:
            if rest[0] == "w":
                self.writing.add(rest[1])
        elif op == "close" and len(rest) == 1:
            if rest[0] in self.writing:
                self.writing.discard(rest[0])
                self.changed(Path(rest[0]))
        elif op == "renameat" and len(rest) == 2:
            self.renamed(Path(rest[0]), Path(rest[1]))
            if rest[0] in self.writing:  # renamed while open for writing: its close names
                self.writing.discard(rest[0])  # the new path
                self.writing.add(rest[1])
        elif op in ("unlinkat", "mkdirat") and len(rest) == 1:
            self.changed(Path(rest[0]))
        if len(self.writing) > 10_000:  # opens whose close never came (a killed smbd)
            self.writing.clear()
        return True


def parse_status(text: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """smbstatus --json: (sessions, open files) as the device shows them (pure). A session
    is one smbd child process: its id names that process."""
    try:
        status = json.loads(text)
    except ValueError:
        return [], []
    if not isinstance(status, dict):
        return [], []

    def entries(key: str) -> list[dict[str, Any]]:
        found = status.get(key)
        return [v for v in found.values() if isinstance(v, dict)] \
            if isinstance(found, dict) else []
    connected: dict[str, str] = {}
    for tcon in entries("tcons"):
        held, at = str(tcon.get("session_id", "")), str(tcon.get("connected_at", ""))
        if at and (held not in connected or at < connected[held]):
            connected[held] = at
    sessions = []
    for session in entries("sessions"):
        server = session.get("server_id")
        pid = str(server.get("pid", "")) if isinstance(server, dict) else ""
        if not pid.isdigit() or not session.get("username"):
            continue
        at = connected.get(str(session.get("session_id")), "")
        sessions.append({"id": f"smb-{pid}", "who": str(session["username"]),
                         "from": str(session.get("remote_machine", "")), "connected_at": at,
                         "type": "SMB", "dialect": str(session.get("session_dialect", "")),
                         "pid": int(pid)})
    files: list[dict[str, object]] = [
             {"path": f"{entry.get('service_path', '')}/{entry.get('filename', '')}",
              "share": str(entry.get("service_path", "")).rsplit("/", 1)[-1],
              "name": str(entry.get("filename", "")),
              "opened_by": [str(o.get("username", "")) for o in
                            (entry.get("opens") or {}).values() if isinstance(o, dict)]
              if isinstance(entry.get("opens"), dict) else []}
             for entry in entries("open_files")]
    return sessions, files


def missing_parts() -> str | None:
    """Why this machine cannot run SMB, or None."""
    if shutil.which("smbd") is None and not Path("/usr/sbin/smbd").exists():
        return "Samba is not installed (Debian: apt-get install samba libnss-wrapper)"
    if nss_wrapper() is None:
        return "nss_wrapper is not installed (Debian: apt-get install libnss-wrapper)"
    if os.geteuid() != 0:
        return "smbd changes to each account as it serves it: the device must run as root"
    return None


def nss_wrapper() -> str | None:
    return next((path for path in NSS_WRAPPER if Path(path).exists()), None)


class SmbService:
    """Runs smbd while SMB is on."""

    def __init__(self, store: ConfigStore, machine_key: MachineKey, system: Path,
                 volume: Path, hosts: list[str], port: int | None, on_failed: Failed,
                 on_event: Event, clock: Callable[[], float], changes: Changes,
                 is_mounted: Callable[[Share], bool] = lambda _share: True,
                 quotas: Quotas | None = None) -> None:
        self.store = store
        self.quotas = quotas  # a share at its quota is read only; its size is its quota
        self.is_mounted = is_mounted  # an encrypted share is served only while mounted
        self.machine_key = machine_key
        self.layout = samba_conf.Layout(system / "smb")
        self.volume = volume
        self.hosts = hosts
        self.port_override = port  # `run --smb-port`: 0 picks a free port
        self.on_failed = on_failed
        self.changes = changes  # what clients change, for HA replication
        self.clock = clock
        self.throttled: dict[str, float] = {}  # address → until when smbd refuses it
        self._lift: asyncio.TimerHandle | None = None  # re-applies when a throttle ends
        self._tail: asyncio.Task[None] | None = None
        # The bus, a throttle and its end all apply: one at a time, or two restarts cross.
        self._applying = asyncio.Lock()
        self.port = 0
        self.missing = missing_parts()
        smbd = shutil.which("smbd") or "/usr/sbin/smbd"
        self.supervisor = Supervisor(
            Spec("smbd", [smbd, "--foreground", "--no-process-group",
                          "-s", str(self.layout.config)],
                 {"LD_PRELOAD": nss_wrapper() or "",
                  "NSS_WRAPPER_PASSWD": str(self.layout.passwd),
                  "NSS_WRAPPER_GROUP": str(self.layout.group)}),
            on_event, clock)
        self._written: Files | None = None
        self._quota_files = threading.Lock()

    def status(self) -> dict[str, object]:
        enabled = self.store.get(FileServices).smb_enabled
        if not enabled:
            return {"enabled": False, "state": "stopped", "port": None, "why": ""}
        if self.missing is not None:
            return {"enabled": True, "state": "unavailable", "port": None, "why": self.missing}
        if self._passive():
            return {"enabled": True, "state": "stopped", "port": None,
                    "why": "this server is the passive of a High Availability pair"}
        return {"enabled": True, "port": self.port or None, **self.supervisor.status()}

    async def start(self) -> None:
        """At boot: smbd is started, not waited for (boot does not pay its start-up)."""
        async with self._applying:
            await self._apply(wait=False)

    async def apply(self, _event: ConfigChanged | None = None) -> None:
        """Make smbd match the configuration (the applier: it returns once smbd serves, so
        `settle` means what it says)."""
        async with self._applying:
            await self._apply(wait=True)

    async def _apply(self, wait: bool) -> None:
        settings = self.store.get(FileServices)
        if not settings.smb_enabled or self.missing is not None or self._passive():
            await self._stop()
            return
        if self._tail is None:
            self._tail = asyncio.get_running_loop().create_task(self._follow_logs(),
                                                                name="smbd logs")
        self.port = self._choose_port(settings)
        files = await offload.run(self._render, settings, self.port)
        before = self._written
        if files != before:
            await offload.run(self._write, files)
            self._written = files
        if self.supervisor.state in ("stopped", "failed"):
            self.supervisor.start()
        elif before is not None and files != before:
            if _only_blocked_moved(before, files):
                self.supervisor.signal(signal.SIGHUP)  # `hosts deny` is read at connect
                return
            await self.supervisor.restart()
        else:
            return
        if wait:
            await self._serving()

    async def _serving(self, timeout: float = 10.0) -> None:
        """Wait until smbd accepts connections (or gives up)."""
        host = self.hosts[0] if self.hosts[0] != "0.0.0.0" else "127.0.0.1"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and self.supervisor.state in ("starting", "running",
                                                                    "restarting"):
            try:
                _reader, writer = await asyncio.open_connection(host, self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return

    def _passive(self) -> bool:
        """An HA passive serves no SMB: what smbd wrote there would never reach the
        active (SFTP asks File Station, which refuses its writes)."""
        return self.store.writes_refused("storage") is not None

    async def status_now(self) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        """The SMB sessions and open files now (smbstatus, a child: off the loop)."""
        if self.supervisor.pid is None or shutil.which("smbstatus") is None:
            return [], []
        proc = await asyncio.create_subprocess_exec(
            "smbstatus", "-s", str(self.layout.config), "--json",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, **self.supervisor.spec.env})
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), STATUS_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return [], []
        return await offload.run(parse_status, out.decode(errors="replace"))

    async def kick(self, conn_id: str) -> bool:
        """End one SMB session: its smbd child process (only a child of this smbd)."""
        pid = conn_id.removeprefix("smb-")
        main = self.supervisor.pid
        if not pid.isdigit() or main is None:
            return False
        sessions, _ = await self.status_now()
        if conn_id not in {session["id"] for session in sessions}:
            return False  # only a client's process: never smbd's own helpers
        try:
            child = psutil.Process(int(pid))
            if child.ppid() != main:
                return False
            child.terminate()
        except psutil.Error:
            return False
        return True

    async def end_sessions(self) -> None:
        """A reset: every SMB session ends."""
        await self.supervisor.restart()

    async def close(self) -> None:
        await self._stop()

    async def _stop(self) -> None:
        """smbd stops and the NT hashes it was given leave the disk."""
        await self.supervisor.stop()
        if self._tail is not None:
            self._tail.cancel()
            self._tail = None
        if self._lift is not None:
            self._lift.cancel()
            self._lift = None
        await offload.run(_remove, self.layout.smbpasswd)
        self._written = None

    async def _follow_logs(self) -> None:
        """Follow smbd's logs (read off the loop): its sign-ins (the rate limit and Auto
        Block), and its log (what clients change, for HA; its last lines, for a failure's
        reason)."""
        logs = (self.layout.sign_ins, self.layout.log)
        _, offsets = await offload.run(_new_lines, logs, None)  # from now on: not history
        while True:
            await asyncio.sleep(AUTH_POLL)
            (sign_ins, log), offsets = await offload.run(_new_lines, logs, offsets)
            for line in log:
                self._line(line)
            for line in sign_ins:
                parsed = parse_auth(line.strip())
                if parsed is not None and not parsed[2] and self.on_failed(parsed[0],
                                                                           parsed[1]):
                    await self._throttle(parsed[0])

    async def _throttle(self, ip: str) -> None:
        """A refused source: smbd refuses its new connections and drops the open ones (a
        connection could otherwise go on guessing)."""
        fresh = ip not in self.throttled
        self.throttled[ip] = self.clock() + THROTTLE
        if fresh:
            await self.apply()
            smbcontrol = shutil.which("smbcontrol")
            if smbcontrol is not None:
                with contextlib.suppress(OSError):
                    killing = await asyncio.create_subprocess_exec(
                        smbcontrol, "-s", str(self.layout.config), "smbd", "kill-client-ip",
                        ip, stdout=asyncio.subprocess.DEVNULL,
                        stderr=asyncio.subprocess.DEVNULL)
                    await killing.wait()
            if self._lift is not None:
                self._lift.cancel()
            self._lift = asyncio.get_running_loop().call_later(
                THROTTLE + 1, lambda: asyncio.ensure_future(self.apply()))

    def _choose_port(self, settings: FileServices) -> int:
        if self.port_override is None:
            return settings.smb_port
        if self.port_override:
            return self.port_override
        return self.port or free_port(self.hosts[0] if self.hosts[0] != "0.0.0.0" else "127.0.0.1")

    def _render(self, settings: FileServices, port: int) -> Files:
        """Samba's files from the store (a worker thread)."""
        me = pwd.getpwuid(os.getuid())
        users = self.store.records(User)
        groups = self.store.records(Group)
        shares = [share for share in self.store.records(Share) if self.is_mounted(share)]
        hashes: dict[str, str] = {}
        for user in users:
            if user.smb_hash and not user.disabled:
                with contextlib.suppress(StoreError):  # sealed by another machine key
                    hashes[user.name] = self.machine_key.open(user.smb_hash, SMB)
        server = samba_conf.Server(
            hosts=tuple(self.hosts), port=port,
            server_name=self.store.get(General).server_name, volume=self.volume,
            owner=me.pw_name, owner_uid=me.pw_uid, owner_gid=me.pw_gid,
            blocked=self._blocked(),
            full=self.quotas.full if self.quotas is not None else frozenset())
        return Files(
            config=samba_conf.smb_conf(settings, server, self.layout, shares, users, groups),
            smbpasswd=samba_conf.smbpasswd(users, hashes),
            passwd=samba_conf.passwd(users, server),
            group=samba_conf.group(groups, users, server))

    def _blocked(self) -> tuple[str, ...]:
        """Auto Block's addresses and the sources the rate limit refuses now (checked
        addresses only: nothing else reaches `hosts deny`)."""
        now = self.clock()
        for ip in [ip for ip, until in self.throttled.items() if until <= now]:
            del self.throttled[ip]
        wanted = [entry.address for entry in self.store.get(AutoBlock).block]
        return tuple(sorted({a for a in [*wanted, *self.throttled]
                             if address_problem(a) is None}))

    def _write(self, files: Files) -> None:
        for directory in self.layout.directories():
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(self.layout.smbpasswd, files.smbpasswd.encode(), 0o600)
        write_atomic(self.layout.passwd, files.passwd.encode(), 0o644)
        write_atomic(self.layout.group, files.group.encode(), 0o644)
        write_atomic(self.layout.config, files.config.encode(), 0o644)
        self._write_quotas()

    def _write_quotas(self) -> None:
        """What smbd's dfree script reads: each quota share's size and free space."""
        if self.quotas is None or not self.layout.quotas.is_dir():
            return
        with self._quota_files:  # an apply and a walk's end, each in a worker thread
            self._write_quota_files(self.quotas)

    def _write_quota_files(self, quotas: Quotas) -> None:
        wanted = {share.uuid: samba_conf.quota_line(share.quota_mb,
                                                     quotas.used.get(share.name, 0))
                  for share in self.store.records(Share) if share.quota_mb}
        for entry in self.layout.quotas.iterdir():
            if not entry.name.startswith(".") and \
                    entry.name.removesuffix(".sh") not in wanted:
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
        for uuid, line in wanted.items():
            numbers = self.layout.quotas / uuid
            if not _same(numbers, line):
                write_atomic(numbers, line.encode(), 0o644)
            script = samba_conf.dfree_script(numbers)
            if not _same(numbers.with_suffix(".sh"), script):
                write_atomic(numbers.with_suffix(".sh"), script.encode(), 0o755)

    async def quotas_scanned(self) -> None:
        if self.store.get(FileServices).smb_enabled:
            await offload.run(self._write_quotas)

    def _line(self, line: str) -> None:
        """One line of smbd's log: an audit line, or one kept as a possible reason."""
        text = line.strip()
        if not self.changes.read(text) and text and not text.startswith("["):
            self.supervisor.tail.append(text)


def _new_lines(paths: tuple[Path, ...], offsets: list[int] | None
               ) -> tuple[list[list[str]], list[int]]:
    """(A worker thread.) Whole lines appended to each of `paths` since its offset (from
    the start again if it was rotated or truncated), and the new offsets. Without offsets:
    no lines, and the files' ends."""
    found: list[list[str]] = []
    ends: list[int] = []
    for path, offset in zip(paths, offsets or [-1] * len(paths), strict=True):
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            found.append([])
            ends.append(0)
            continue
        if offset < 0:
            found.append([])
            ends.append(size)
            continue
        offset = 0 if size < offset else offset
        with path.open("rb") as log:
            log.seek(offset)
            data = log.read(min(size - offset, 4 << 20))
        end = data.rfind(b"\n") + 1
        found.append(data[:end].decode(errors="replace").splitlines())
        ends.append(offset + end)
    return found, ends


def _same(path: Path, text: str) -> bool:
    try:
        return path.read_text() == text
    except OSError:
        return False


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _only_blocked_moved(before: Files, after: Files) -> bool:
    """Whether only Auto Block's list differs (a reload, not a restart, is enough)."""
    return (before.smbpasswd, before.passwd, before.group) == \
        (after.smbpasswd, after.passwd, after.group) and \
        _without_deny(before.config) == _without_deny(after.config)


def _without_deny(config: str) -> str:
    return "\n".join(line for line in config.splitlines()
                     if not line.strip().startswith("hosts deny"))
