"""Hyper Backup's tasks and their results in the store: checked, committed with their audit
entries, published (the Web API, the pages and the CLI change them only here)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openstation.backup import plan
from openstation.config.sections import (
    BackupKey,
    BackupResult,
    BackupState,
    BackupTask,
    BackupVault,
    Rotation,
    Share,
)
from openstation.config.store import ConfigStore
from openstation.errors import IllegalPathError, NotFoundError, ValidationError
from openstation.security.machine_key import MachineKey
from openstation.security.tls import fingerprint_bytes
from openstation.storage.paths import name_problem, split

BACKUP = "backup"  # the machine key's purpose for repository passwords
ACTOR = "hyperbackup"
MAX_NAME = 64
MAX_PASSWORD = 512


@dataclasses.dataclass
class TaskRequest:
    """What a user asks for when making a task."""

    name: str
    destination: str
    password: str = dataclasses.field(repr=False)
    sources: list[str] = dataclasses.field(default_factory=list)
    include_config: bool = False
    schedule_days: list[int] = dataclasses.field(default_factory=list)
    schedule_hour: int = 3
    schedule_minute: int = 0
    rotation: str = Rotation.ALL.value
    keep_versions: int = 256
    check_days: list[int] = dataclasses.field(default_factory=list)
    check_hour: int = 4
    check_read_data: bool = False
    key_passphrase: str = dataclasses.field(default="", repr=False)  # Key Manager's
    remote_user: str = ""  # a Vault's account …
    remote_password: str = dataclasses.field(default="", repr=False)
    remote_fingerprint: str = ""  # … and its certificate's SHA-256


class BackupService:
    """Backup tasks and the state their runs leave."""

    def __init__(self, store: ConfigStore, machine_key: MachineKey, volume: Path,
                 system: Path, clock: Callable[[], float]) -> None:
        self.store = store
        self.machine_key = machine_key
        self.volume = volume
        self.system = system
        self.clock = clock

    # --- reading -------------------------------------------------------------------------

    def tasks(self) -> list[BackupTask]:
        return sorted(self.store.records(BackupTask), key=lambda t: int(t.task_id))

    def task(self, task_id: str | int) -> BackupTask:
        found = self.store.record(BackupTask, str(task_id))
        if found is None:
            raise NotFoundError(f"no backup task {task_id}")
        return found

    def by_name(self, name: str) -> BackupTask:
        for task in self.tasks():
            if task.name == name or task.task_id == name:
                return task
        raise NotFoundError(f"no backup task {name!r}")

    def state(self, task_id: str) -> BackupState:
        return self.store.record(BackupState, task_id) or BackupState(task_id=task_id)

    def password(self, task: BackupTask) -> str:
        return self.machine_key.open(task.password, BACKUP)

    def remote_password(self, task: BackupTask) -> str:
        return self.machine_key.open(task.remote_password, BACKUP) \
            if task.remote_password else ""

    # --- checking ------------------------------------------------------------------------

    def problems(self, request: TaskRequest) -> dict[str, str]:
        """Every problem of a new task at once (the repository itself is checked by the
        engine, which opens or makes it)."""
        problems: dict[str, str] = {}
        if (why := name_problem(request.name)) is not None or len(request.name) > MAX_NAME:
            problems["name"] = why or f"at most {MAX_NAME} characters"
        elif any(t.name.casefold() == request.name.casefold() for t in self.tasks()):
            problems["name"] = "another backup task has this name"
        if not request.sources and not request.include_config:
            problems["sources"] = "choose a shared folder, a folder or the system configuration"
        for n, source in enumerate(request.sources):
            if (why := self.source_problem(source)) is not None:
                problems[f"sources[{n}]"] = why
        if len(set(request.sources)) != len(request.sources):
            problems["sources"] = "a folder is named twice"
        if (why := self.destination_problem(request.destination, request.sources)) is not None:
            problems["destination"] = why
        if request.destination.startswith(("rest:", "webdav:")):
            problems.update(remote_problems(request))
        if not request.password or len(request.password) > MAX_PASSWORD:
            problems["password"] = f"1 to {MAX_PASSWORD} characters"
        if any(not 0 <= day <= 6 for day in request.schedule_days):
            problems["schedule_days"] = "days are 0 (Monday) to 6 (Sunday)"
        if any(not 0 <= day <= 6 for day in request.check_days):
            problems["check_days"] = "days are 0 (Monday) to 6 (Sunday)"
        if not 0 <= request.check_hour <= 23:
            problems["check_hour"] = "0 to 23"
        if not 0 <= request.schedule_hour <= 23:
            problems["schedule_hour"] = "0 to 23"
        if not 0 <= request.schedule_minute <= 59:
            problems["schedule_minute"] = "0 to 59"
        if request.rotation not in {r.value for r in Rotation}:
            problems["rotation"] = "all, newest or smart"
        if not 1 <= request.keep_versions <= 65535:
            problems["keep_versions"] = "1 to 65535"
        return problems

    def source_problem(self, source: str) -> str | None:
        """Why `source` ("share" or "share/folder/…") cannot be backed up, or None."""
        try:
            share, parts = split("/" + source)
        except IllegalPathError as error:
            return str(error)
        if "/".join([share, *parts]) != source:
            return "write it as share/folder, without a leading or trailing slash"
        if self.store.record(Share, share) is None:
            return f"no shared folder {share!r}"
        return None

    def destination_problem(self, destination: str, sources: list[str]) -> str | None:
        """Why `destination` cannot hold the task's repository, or None. A local folder is
        absolute: outside the data directory (a USB disk), or a folder in a shared folder
        that the task does not back up; never the device's own (@) folders. Resolving it
        touches the disk: call this off the event loop."""
        if plan.is_remote(destination):
            if "@" in destination.split("://", 1)[-1].split("/", 1)[0]:
                return "no credentials in the URL"
            return None
        if not destination.startswith("/") or "\x00" in destination:
            return ("an absolute folder (a USB disk, a shared folder), a Vault "
                    "(rest:https://…) or a WebDAV folder (webdav:https://…)")
        try:
            target = Path(destination).resolve()
            data = self.volume.parent.resolve()
            volume = self.volume.resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of links
            return f"cannot be reached: {exc}"
        if target == data or data in target.parents or target in data.parents:
            if not target.is_relative_to(volume) or target == volume:
                return "not the device's data directory: a shared folder's folder, or a disk"
            inside = str(target.relative_to(volume))
            try:
                share, _ = split("/" + inside)
            except IllegalPathError:
                return "not one of the device's own (@) folders"
            if self.store.record(Share, share) is None:
                return f"no shared folder {share!r}"
            for source in sources:
                if inside == source or inside.startswith(source + "/") or \
                        source.startswith(inside + "/"):
                    return f"not inside {source!r}, which the task backs up"
        return None

    # --- changing ------------------------------------------------------------------------

    def add(self, actor: str, request: TaskRequest, remote_cert: str = "") -> BackupTask:
        """Store a new task (its repository already made or found by the engine; a
        Vault's certificate already checked against the fingerprint given)."""
        problems = self.problems(request)
        if problems:
            raise ValidationError(problems)
        now = self.clock()
        with self.store.transaction(actor, "backup_tasks") as tx:
            highest = max((int(t.task_id) for t in tx.records(BackupTask)), default=0)
            task = BackupTask(
                task_id=str(highest + 1), name=request.name,
                sources=list(request.sources), include_config=request.include_config,
                destination=request.destination,
                repository=plan.repository_of(request.destination, request.name),
                password=self.machine_key.seal(request.password, BACKUP),
                schedule_enabled=bool(request.schedule_days),
                schedule_days=sorted(set(request.schedule_days)),
                schedule_hour=request.schedule_hour, schedule_minute=request.schedule_minute,
                rotation=Rotation(request.rotation), keep_versions=request.keep_versions,
                check_days=sorted(set(request.check_days)), check_hour=request.check_hour,
                check_read_data=request.check_read_data,
                remote_user=request.remote_user, remote_cert=remote_cert,
                remote_password=self.machine_key.seal(request.remote_password, BACKUP)
                if request.remote_password else "",
                created=now, modified=now)
            tx.put_record(task)
            tx.put_record(BackupState(task_id=task.task_id))
        return task

    def set_schedule(self, actor: str, task_id: str, *, days: list[int] | None = None,
                     hour: int | None = None, minute: int | None = None,
                     rotation: str | None = None, keep_versions: int | None = None
                     ) -> BackupTask:
        task = self.task(task_id)
        request = TaskRequest(
            name=task.name, destination=task.destination, password="x",
            sources=task.sources, include_config=task.include_config,
            schedule_days=task.schedule_days if days is None else days,
            schedule_hour=task.schedule_hour if hour is None else hour,
            schedule_minute=task.schedule_minute if minute is None else minute,
            rotation=(rotation or task.rotation.value),
            keep_versions=task.keep_versions if keep_versions is None else keep_versions)
        problems = {k: v for k, v in self.problems(request).items()
                    if k not in ("name", "destination") and not k.startswith("sources")}
        if problems:
            raise ValidationError(problems)
        changed = dataclasses.replace(
            task, schedule_enabled=bool(request.schedule_days),
            schedule_days=sorted(set(request.schedule_days)),
            schedule_hour=request.schedule_hour, schedule_minute=request.schedule_minute,
            rotation=Rotation(request.rotation), keep_versions=request.keep_versions,
            modified=self.clock())
        with self.store.transaction(actor, "backup_tasks") as tx:
            tx.put_record(changed)
        return changed

    def delete(self, actor: str, task_id: str) -> BackupTask:
        """Forget a task; its repository and every version in it stay where they are."""
        task = self.task(task_id)
        with self.store.transaction(actor, "backup_tasks") as tx:
            tx.delete_record(BackupTask, task.task_id)
            if tx.record(BackupState, task.task_id) is not None:
                tx.delete_record(BackupState, task.task_id)
        return task

    def record(self, task_id: str, **changes: Any) -> BackupState:
        """Store what a run or a check left (its audit entry is the Hyper Backup log)."""
        state = dataclasses.replace(self.state(task_id), **changes)
        with self.store.transaction(ACTOR, "backup_state") as tx:
            if tx.record(BackupTask, task_id) is None:
                return state  # deleted while it ran: nothing to keep
            tx.put_record(state)
        return state

    def keep_key(self, actor: str, task: BackupTask, header: str) -> BackupKey:
        """Key Manager: keep the task's repository password, wrapped by the key-store
        passphrase (`header`), under the repository's name."""
        entry = BackupKey(repository=task.repository, task=task.name, header=header,
                          created=self.clock())
        with self.store.transaction(actor, "backup_keys") as tx:
            tx.put_record(entry)
        return entry

    def key_for(self, repository: str) -> BackupKey:
        found = self.store.record(BackupKey, repository)
        if found is None:
            raise NotFoundError(f"Key Manager keeps no password for {repository}")
        return found

    def vault(self) -> BackupVault:
        return self.store.get(BackupVault)

    def set_vault(self, actor: str, enabled: bool | None = None,
                  parallel: int | None = None) -> BackupVault:
        """Switch the Hyper Backup Vault role on or off (its repositories stay), and how
        many backups it takes at once."""
        current = self.vault()
        if parallel is not None and not 1 <= parallel <= 64:
            raise ValidationError({"parallel_backup_limit": "1 to 64"})
        with self.store.transaction(actor, "backup_vault") as tx:
            tx.put(dataclasses.replace(
                current, enabled=current.enabled if enabled is None else enabled,
                parallel_backup_limit=current.parallel_backup_limit if parallel is None
                else parallel))
        return self.vault()

    def vault_received(self, account: str, repository: str, what: str) -> None:
        """The Vault's log: a repository made, a version received (from `account`)."""
        with self.store.transaction(account, "backup_vault") as tx:
            tx.audit("received", "backup_vault", f"{account}/{repository}", {"event": what})

    def log(self, actor: str, action: str, task_id: str, detail: dict[str, Any]) -> None:
        """An entry in the Hyper Backup log that changes no setting (a restore)."""
        with self.store.transaction(actor, "backup_tasks") as tx:
            tx.audit(action, "backup_tasks", task_id, detail)

    def interrupted(self) -> list[str]:
        """At boot: runs the device stopped in the middle of are Partially completed (the
        next run backs up what they did not)."""
        stopped = [s for s in self.store.records(BackupState) if s.running]
        for state in stopped:
            self.record(state.task_id, running=False, last_result=BackupResult.PARTIAL,
                        last_end=self.clock(), stale_lock=True,
                        last_error="the device stopped during the backup")
        return [s.task_id for s in stopped]


def remote_problems(request: TaskRequest) -> dict[str, str]:
    """What a remote destination (a Vault: rest:https://host:port/hyperbackup-vault/
    <account>/; a WebDAV folder: webdav:https://host:port/path) needs besides its URL:
    the account, its password, the fingerprint of the server's certificate."""
    problems: dict[str, str] = {}
    if not request.destination.startswith(("rest:https://", "webdav:https://")):
        problems["destination"] = "a remote destination is reached over HTTPS"
    if not request.remote_user or "/" in request.remote_user or ":" in request.remote_user:
        problems["remote_user"] = "the Vault account to sign in as"
    if not request.remote_password:
        problems["remote_password"] = "the Vault account's password"
    if fingerprint_bytes(request.remote_fingerprint) is None:
        problems["remote_fingerprint"] = ("the SHA-256 fingerprint of the Vault's "
                                          "certificate (`openstation status` on it)")
    return problems
