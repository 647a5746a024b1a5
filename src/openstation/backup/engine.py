"""Hyper Backup's runs: backups, integrity checks and restores, each a restic child the
device supervises, one at a time per task, with progress, cancel and a schedule.

A run belongs to the device, not to the request that started it: a client that goes
away leaves it running. A run the device stopped in the middle of (a restart, a kill) is
*Partially completed* at the next boot, and the next run backs up what it had not.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import logging
import os
import secrets
import shutil
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openstation import offload
from openstation.backup import keys, plan
from openstation.backup.placing import Placer, literal, path_problem
from openstation.backup.plan import Conflict, Progress
from openstation.backup.remote import PinnedCertificates, located, pinned_certificate
from openstation.backup.restic import (
    PARTIAL,
    Outcome,
    Repository,
    Restic,
    ResticError,
)
from openstation.backup.service import BackupService, TaskRequest
from openstation.config.sections import BackupResult, BackupTask, Share
from openstation.errors import (
    ConflictError,
    NotFoundError,
    OpenStationError,
    ValidationError,
)
from openstation.failpoints import failpoint
from openstation.files import write_atomic
from openstation.storage.paths import split

log = logging.getLogger(__name__)

STAGING = "@hyperbackup"  # on volume1: the configuration being backed up, restores
SCHEDULE_TICK = 20.0


@dataclass
class Run:
    """One backup, check or restore in progress."""

    kind: str  # "backup", "check" or "restore"
    task_id: str
    started: float
    restic: Restic
    progress: Progress = field(default_factory=Progress)
    cancelled: bool = False
    suspended: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "started": self.started, **self.progress.to_json()}


@dataclass
class Parts:
    """What the engine needs of its device."""

    service: BackupService
    is_reachable: Callable[[Share], bool]  # an encrypted share must be mounted
    config_file: Callable[[str], Awaitable[bytes]]  # a configuration backup, sealed
    restore_config: Callable[[bytes, str, list[str] | None, str], Awaitable[Any]]
    preview_config: Callable[[bytes, str, list[str] | None], Awaitable[Any]]
    spawn: Callable[[Coroutine[Any, Any, Any]], None]
    clock: Callable[[], float]
    writes_refused: Callable[[], str | None]  # an HA passive runs no task
    cache_dir: Path
    changed: Callable[[Path], None] = lambda _path: None  # a restored file (HA)
    snapshot_config: Callable[[], Awaitable[None]] = lambda: asyncio.sleep(0)


class BackupEngine:
    """Runs Hyper Backup tasks on restic."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.service = parts.service
        self.volume = parts.service.volume.absolute()  # restic runs in it
        self.runs: dict[str, Run] = {}
        self._schedule: asyncio.Task[None] | None = None
        self._closing = False
        self._markers = parts.cache_dir.with_name("hyperbackup-runs")  # one per run
        self.certs = PinnedCertificates(parts.cache_dir.with_name("hyperbackup-certs"))

    # --- tasks ---------------------------------------------------------------------------

    def repository(self, task: BackupTask, password: str | None = None) -> Repository:
        return self._repository(task.repository, password or self.service.password(task),
                                task.remote_user, self.service.remote_password(task),
                                task.remote_cert)

    def _repository(self, location: str, password: str, user: str = "",
                    user_password: str = "", cert: str = "") -> Repository:
        return located(location, password, self.parts.cache_dir, user, user_password,
                       self.certs.path(cert) if cert else None)

    async def create(self, actor: str, request: TaskRequest) -> BackupTask:
        """A new task: its repository is opened with the password if it exists (a backup
        made before a reset or by another device: "relink"), made otherwise."""
        location = plan.repository_of(request.destination, request.name)
        if not request.password and request.key_passphrase:  # Key Manager keeps it
            password = await offload.run(keys.unwrapped, self.service.key_for(location)
                                         .header, request.key_passphrase)
            request = dataclasses.replace(request, password=password)
        problems = await offload.run(self.service.problems, request)  # reads the disk
        if problems:
            raise ValidationError(problems)
        cert = ""
        if plan.is_remote(request.destination):
            cert = await offload.run(pinned_certificate, request.destination,
                                     request.remote_fingerprint)
            await offload.run(self.certs.write, [cert])
        restic = Restic(self._repository(location, request.password, request.remote_user,
                                         request.remote_password, cert))
        outcome = await restic.run("cat", "config", check=False)
        if outcome.code != 0:
            error = restic.error(outcome)
            if "there is no backup repository" not in str(error):
                raise error
            await restic.run("init")
        return await offload.run(self.service.add, actor, request, cert)

    async def export_key(self, actor: str, task_id: str) -> bytes:
        """A key file that opens the task's repository instead of its password: a new
        random key added to the repository (restic `key add`), for the day the device
        and its copy of the password are gone (a Mode 2 reset)."""
        task = self.service.task(task_id)
        run = self._begin("key", task)
        recovery = base64.b64encode(os.urandom(32)).decode()
        secret = self.parts.cache_dir.with_name("hyperbackup-keys") / task.task_id
        try:
            await offload.run(secret.parent.mkdir, 0o700, True, True)
            await offload.run(write_atomic, secret, recovery.encode(), 0o600)
            await run.restic.run("key", "add", "--new-password-file", str(secret.absolute()))
        finally:
            await offload.run(secret.unlink, True)
            self._end(run)
        self.service.log(actor, "export_key", task.task_id, {"repository": task.repository})
        return keys.key_file(task.name, task.repository, recovery)

    async def keep_in_key_manager(self, actor: str, task_id: str, passphrase: str) -> None:
        """Keep the repository's password in Key Manager under the key-store passphrase;
        today's configuration snapshot on volume1 is written again to carry it, so it
        survives a Mode 2 reset (`install --restore-latest`, then `backup create …
        --key-manager-passphrase`)."""
        if len(passphrase) < 8:
            raise ValidationError({"passphrase": "a key-store passphrase of 8+ characters"})
        task = self.service.task(task_id)
        header = await offload.run(keys.wrapped, self.service.password(task), passphrase)
        self.service.keep_key(actor, task, header)
        await self.parts.snapshot_config()

    def delete(self, actor: str, task_id: str) -> BackupTask:
        if task_id in self.runs:
            raise ConflictError("the task is running: cancel it first")
        return self.service.delete(actor, task_id)

    # --- runs ----------------------------------------------------------------------------

    def _begin(self, kind: str, task: BackupTask, password: str | None = None) -> Run:
        if self._closing:
            raise ConflictError("the device is stopping")
        if (why := self.parts.writes_refused()) is not None:
            raise ConflictError(why)
        if task.task_id in self.runs:
            raise ConflictError(f"task {task.name!r} is already running "
                                f"({self.runs[task.task_id].kind})")
        run = Run(kind, task.task_id, self.parts.clock(),
                  Restic(self.repository(task, password)))
        self.runs[task.task_id] = run
        try:  # stays if the device is killed: the boot then knows a lock may be left
            self._markers.mkdir(mode=0o700, parents=True, exist_ok=True)
            (self._markers / task.task_id).touch()
        except OSError as exc:
            self._end(run)
            raise ConflictError(f"cannot start: {exc.strerror}") from None
        return run

    def _end(self, run: Run) -> None:
        self.runs.pop(run.task_id, None)
        with contextlib.suppress(OSError):
            (self._markers / run.task_id).unlink()
        run.done.set()

    def backup(self, task_id: str) -> Run:
        """Start a backup of the task; it goes on whoever asked."""
        task = self.service.task(task_id)
        run = self._begin("backup", task)
        try:
            self.service.record(task.task_id, running=True, last_start=run.started,
                                last_result=BackupResult.RUNNING, last_error="")
            self.parts.spawn(self._backup(run, task))
        except BaseException:
            self._end(run)
            raise
        return run

    async def _backup(self, run: Run, task: BackupTask) -> None:
        outcome: Outcome | None = None
        error, staged = "", None
        try:
            paths = await offload.run(self._source_paths, task)
            if task.include_config:
                staged = await self._stage_config(task)
                paths.append(plan_config_path(task.task_id))
            await self._unlock(run)
            failpoint("hyperbackup-started")

            def on_line(line: dict[str, Any]) -> bool:
                if line.get("message_type") == "status":
                    run.progress = Progress.from_status(line)
                    return True
                return line.get("message_type") == "verbose_status"

            # "--": a share may be named like an option ("-n" would make a dry run)
            outcome = await run.restic.run(
                "backup", "--tag", f"task:{task.task_id}", "--host", "openstation", "--",
                *paths, cwd=self.volume, on_line=on_line, check=False)
            if _snapshot_of(outcome) and not run.restic.interrupted:
                await self._rotate(run, task)
        except OpenStationError as exc:
            error = str(exc)
        except OSError as exc:
            error = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
        finally:
            self._finish_backup(run, task, outcome, error)
            if staged is not None:
                await offload.run(shutil.rmtree, staged, True)

    def _finish_backup(self, run: Run, task: BackupTask, outcome: Outcome | None,
                       error: str) -> None:
        """Store how the run ended (before anything else is awaited: a second
        cancellation must not leave the task running) and let the next one start."""
        summary = next((line for line in outcome.lines
                        if line.get("message_type") == "summary"), {}) if outcome else {}
        snapshot = _snapshot_of(outcome)
        if self._closing:
            result = BackupResult.PARTIAL
            error = error or "the device stopped during the backup"
        elif run.cancelled:
            result = BackupResult.SUSPENDED if run.suspended else BackupResult.CANCELLED
        elif error or outcome is None:
            result = BackupResult.FAILED
        elif outcome.code == 0 and snapshot:
            result = BackupResult.DONE
        elif outcome.code == PARTIAL and snapshot:
            result, error = BackupResult.PARTIAL, "some files could not be read"
        else:
            result, error = BackupResult.FAILED, str(run.restic.error(outcome))
        if error and snapshot and result is BackupResult.FAILED:
            result = BackupResult.PARTIAL  # a version was made; what followed it failed
        now = self.parts.clock()
        success = {"last_success": now, "last_snapshot": snapshot,
                   "last_files": _count(summary, "total_files_processed"),
                   "last_bytes": _count(summary, "total_bytes_processed")} if snapshot else {}
        try:
            self.service.record(task.task_id, running=False, last_end=now,
                                last_result=result, last_error=error[:500], **success)
        except Exception:  # the store closed under a stopping device: the boot marks it
            log.exception("the result of backup task %s was not stored", task.task_id)
        finally:
            self._end(run)

    def _source_paths(self, task: BackupTask) -> list[str]:
        """The task's folders, relative to volume1 (restic keeps them so: /share/…);
        a missing share or folder, or an encrypted share not mounted, fails the run."""
        paths: list[str] = []
        for source in task.sources:
            share_name, _ = split("/" + source)
            share = self.service.store.record(Share, share_name)
            if share is None:
                raise NotFoundError(f"the shared folder {share_name!r} no longer exists")
            if not self.parts.is_reachable(share):
                raise ConflictError(f"the encrypted shared folder {share_name!r} is not mounted")
            if not (self.volume / source).is_dir():
                raise NotFoundError(f"the folder {source!r} no longer exists")
            paths.append(source)
        return paths

    async def _unlock(self, run: Run) -> None:
        """Remove the lock a run the device was killed in left: the task's repository is
        the device's own, and no other run of the task exists."""
        if self.service.state(run.task_id).stale_lock:
            await run.restic.run("unlock", "--remove-all")
            self.service.record(run.task_id, stale_lock=False)

    async def _stage_config(self, task: BackupTask) -> Path:
        """The configuration backup, sealed with the repository's password (so its
        secrets travel, and open wherever the repository does), where restic reads it."""
        raw = await self.parts.config_file(self.service.password(task))
        folder = self.volume / STAGING / task.task_id
        target = folder / plan.CONFIG_FOLDER / plan.CONFIG_FILE
        await offload.run(target.parent.mkdir, 0o700, True, True)
        await offload.run(write_atomic, target, raw, 0o600)
        return folder

    async def _rotate(self, run: Run, task: BackupTask) -> None:
        keep = plan.forget_args(task)
        if not keep:
            return
        outcome = await run.restic.run("forget", "--group-by", "", *keep)
        removed = sum(len(group.get("remove") or []) for group in outcome.lines)
        if removed:
            await run.restic.run("prune")

    def cancel(self, task_id: str, *, suspend: bool = False) -> None:
        run = self.runs.get(task_id)
        if run is None:
            raise ConflictError("the task is not running")
        run.cancelled, run.suspended = True, suspend
        run.restic.interrupt()

    def discard(self, actor: str, task_id: str) -> None:
        """A suspended backup is given up: it counts as cancelled."""
        if self.service.state(task_id).last_result is not BackupResult.SUSPENDED:
            raise ConflictError("the task is not suspended")
        self.service.record(task_id, last_result=BackupResult.CANCELLED)

    # --- versions, checks, restores ------------------------------------------------------

    async def versions(self, task_id: str) -> list[dict[str, Any]]:
        """Every version in the task's repository, oldest first."""
        task = self.service.task(task_id)
        outcome = await Restic(self.repository(task)).run("snapshots")
        def shown(path: str) -> str:  # restic records absolute paths; users see shares
            prefix = str(self.volume) + "/"
            return path[len(prefix):] if path.startswith(prefix) else path

        return [{"id": s.get("id", ""), "short_id": s.get("short_id", ""),
                 "time": s.get("time", ""), "tags": s.get("tags") or [],
                 "paths": sorted(shown(p) for p in s.get("paths") or []
                                 if not shown(p).startswith(STAGING))} for s in outcome.lines]

    async def files(self, task_id: str, version: str, folder: str = "/"
                    ) -> list[dict[str, Any]]:
        """Browse a version: the entries directly inside `folder`."""
        task = self.service.task(task_id)
        prefix = "/" + folder.strip("/") if folder.strip("/") else ""
        entries: list[dict[str, Any]] = []

        def take(line: dict[str, Any]) -> bool:
            path = line.get("path")
            if line.get("struct_type") == "node" and isinstance(path, str) and \
                    path.rpartition("/")[0] == prefix:
                entries.append({"path": path, "name": line.get("name", ""),
                                "type": line.get("type", ""), "size": line.get("size", 0),
                                "mtime": line.get("mtime", "")})
            return True

        await Restic(self.repository(task)).run("ls", _version(version),
                                                 *([prefix] if prefix else []), on_line=take)
        return entries

    def check(self, task_id: str, *, read_data: bool = False) -> Run:
        """Start an integrity check of the task's repository."""
        task = self.service.task(task_id)
        run = self._begin("check", task)
        self.parts.spawn(self._check(run, task, read_data))
        return run

    async def _check(self, run: Run, task: BackupTask, read_data: bool) -> None:
        result = "failed"
        try:
            await self._unlock(run)
            outcome = await run.restic.run("check", *(["--read-data"] if read_data else []),
                                           check=False)
            if run.cancelled:
                result = "cancelled"
            elif outcome.code == 0:
                result = "ok"
            else:
                found = [line for line in run.restic.redacted(outcome.stderr).splitlines()
                         if line.strip() and not line.startswith(("using temporary", "load "))]
                result = "failed: " + ("; ".join(found[-3:]) or f"restic exit {outcome.code}")
        except OpenStationError as exc:
            result = f"failed: {exc}"
        finally:
            with contextlib.suppress(OpenStationError):
                self.service.record(task.task_id, last_check=self.parts.clock(),
                                    check_result=result[:500])
            self._end(run)

    async def wait(self, task_id: str) -> None:
        run = self.runs.get(task_id)
        if run is not None:
            await run.done.wait()

    async def restore(self, actor: str, task_id: str, version: str, *,
                      paths: list[str] | None = None, target: str | None = None,
                      conflict: str = Conflict.OVERWRITE.value, password: str | None = None
                      ) -> dict[str, int]:
        """Restore a version, or some of its files or folders ("share/…"), to where they
        were or into a folder ("share/folder"); existing files follow `conflict`."""
        task = self.service.task(task_id)
        try:
            policy = Conflict(conflict)
        except ValueError:
            raise ValidationError({"conflict": "overwrite, skip or keep_both"}) from None
        wanted = [p.strip("/") for p in paths or []]
        problems = {f"paths[{n}]": why for n, p in enumerate(wanted)
                    if (why := path_problem(p)) is not None}
        into = target.strip("/") if target is not None else None
        if into is not None and (why := self.service.source_problem(into)):
            problems["target"] = why
        if problems:
            raise ValidationError(problems)
        if into is not None:
            self._reachable(into.split("/", 1)[0])
        run = self._begin("restore", task, password)
        staging = self.volume / STAGING / f"restore-{secrets.token_hex(6)}"
        try:
            await self._unlock(run)
            # restic reads --include as a pattern: the names are matched as they are
            await run.restic.run("restore", _version(version), "--target", str(staging),
                                 *[arg for p in wanted for arg in ("--include",
                                                                    "/" + literal(p))])
            counts = await offload.run(
                Placer(self.volume, self._reachable, self.parts.changed).place, staging, into,
                policy)
        except OSError as exc:  # e.g. the volume is full: what was moved stays moved
            raise ConflictError(f"the restore stopped: {exc.strerror or exc}") from None
        finally:
            self._end(run)
            await offload.run(shutil.rmtree, staging, True)
        self.service.log(actor, "restore", task.task_id,
                         {"version": version, "paths": wanted, "target": target or "",
                          "conflict": policy.value, **counts})
        return counts

    def _reachable(self, share_name: str) -> None:
        share = self.service.store.record(Share, share_name)
        if share is None:
            raise NotFoundError(f"the shared folder {share_name!r} does not exist: "
                                "restore into another folder")
        if not self.parts.is_reachable(share):
            raise ConflictError(f"the encrypted shared folder {share_name!r} is not mounted")

    async def restore_config(self, actor: str, task_id: str, version: str,
                             sections: list[str] | None, *, preview: bool) -> Any:
        """The configuration a version holds: previewed, or restored through the same
        sections as Configuration Backup."""
        task = self.service.task(task_id)
        password = self.service.password(task)
        restic = Restic(self.repository(task))
        snapshot = await self._snapshot(restic, version)
        tag = next((t for t in snapshot.get("tags") or [] if t.startswith("task:")), "")
        raw = await _dump(restic, snapshot["id"], "/" + plan_config_path(tag[len("task:"):]) +
                          "/" + plan.CONFIG_FILE)
        if preview:
            return await self.parts.preview_config(raw, password, sections)
        return await self.parts.restore_config(raw, password, sections, actor)

    async def _snapshot(self, restic: Restic, version: str) -> dict[str, Any]:
        outcome = await restic.run("snapshots")
        wanted = _version(version)
        found = [s for s in outcome.lines if wanted == "latest" or
                 str(s.get("id", "")).startswith(wanted)]
        if not found:
            raise NotFoundError(f"no version {version!r}")
        return found[-1]

    # --- status and schedule -------------------------------------------------------------

    def status(self, task_id: str) -> dict[str, Any]:
        task = self.service.task(task_id)
        state = self.service.state(task.task_id)
        run = self.runs.get(task.task_id)
        return {"task_id": task.task_id, "name": task.name,
                "running": run.to_json() if run else None,
                "last_result": state.last_result.value, "last_start": state.last_start,
                "last_end": state.last_end, "last_success": state.last_success,
                "last_error": state.last_error, "last_snapshot": state.last_snapshot,
                "last_files": state.last_files, "last_bytes": state.last_bytes,
                "last_check": state.last_check, "check_result": state.check_result,
                "next_run": self.next_run(task)}

    def summary(self) -> list[dict[str, Any]]:
        """Each task's last result, or its run's progress (`openstation status`)."""
        return [{"name": task.name, "last_result": self.service.state(task.task_id)
                 .last_result.value, "running": run.to_json() if (
                     run := self.runs.get(task.task_id)) else None}
                for task in self.service.tasks()]

    def next_run(self, task: BackupTask, after: float | None = None) -> float | None:
        """When the task's next scheduled backup is (local time)."""
        now = self.parts.clock() if after is None else after
        return plan.next_run(task, now, _wall(now))

    def next_check(self, task: BackupTask, after: float) -> float | None:
        return plan.next_check(task, after, _wall(after))

    paused = False  # powered off by the power schedule: no scheduled run starts

    def start(self) -> None:
        """At boot: runs the device stopped in the middle of are Partially completed, the
        pinned certificates are in place, a key export a crash interrupted is gone, and
        the schedule starts."""
        self.parts.spawn(offload.run(self._boot_files, [
            t.remote_cert for t in self.service.tasks() if t.remote_cert]))
        for task_id in self.service.interrupted():
            log.warning("backup task %s was interrupted: partially completed", task_id)
        for marker in self._markers.glob("*") if self._markers.is_dir() else []:
            if self.service.store.record(BackupTask, marker.name) is not None:
                self.service.record(marker.name, stale_lock=True)  # a check or restore
            marker.unlink()
        self._schedule = asyncio.get_running_loop().create_task(self._scheduled())

    def _boot_files(self, certs: list[str]) -> None:
        self.certs.write(certs)
        shutil.rmtree(self.parts.cache_dir.with_name("hyperbackup-keys"), True)

    async def _scheduled(self) -> None:
        checked = self.parts.clock()
        while True:
            await asyncio.sleep(SCHEDULE_TICK)
            now = self.parts.clock()
            try:
                for task in [] if self.paused else self.service.tasks():
                    due = self.next_run(task, checked)
                    if due is not None and due <= now and task.task_id not in self.runs:
                        self.backup(task.task_id)
                    due = self.next_check(task, checked)
                    if due is not None and due <= now and task.task_id not in self.runs:
                        self.check(task.task_id, read_data=task.check_read_data)
            except OpenStationError as exc:
                log.warning("a scheduled backup did not start: %s", exc)
            except Exception:  # the schedule must outlive any one task's trouble
                log.exception("the backup schedule failed a tick")
            checked = now

    async def close(self) -> None:
        """The device stops: each run is interrupted (a backup counts as partial) and
        waited for, so its result is stored before the store closes."""
        self._closing = True
        if self._schedule is not None:
            self._schedule.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._schedule
        for run in list(self.runs.values()):
            run.restic.interrupt()
        for run in list(self.runs.values()):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(run.done.wait(), 30)


def plan_config_path(task_id: str) -> str:
    """Where a version keeps its configuration, relative to volume1."""
    return f"{STAGING}/{task_id}/{plan.CONFIG_FOLDER}"


def _version(version: str) -> str:
    """A version id restic accepts: hex digits (at least 8), or "latest"."""
    if version == "latest" or (8 <= len(version) <= 64 and
                               all(c in "0123456789abcdef" for c in version)):
        return version
    raise ValidationError({"version": "a version id (8 to 64 hex digits) or latest"})


def _wall(epoch: float) -> tuple[int, int, int, int]:
    """Weekday, hour, minute and second of `epoch` in local time."""
    local = time.localtime(epoch)
    return local.tm_wday, local.tm_hour, local.tm_min, local.tm_sec


def _snapshot_of(outcome: Outcome | None) -> str:
    """The id of the version a `restic backup` made ("" for none)."""
    for line in outcome.lines if outcome else []:
        if line.get("message_type") == "summary" and isinstance(line.get("snapshot_id"), str):
            return str(line["snapshot_id"])
    return ""


def _count(summary: dict[str, Any], name: str) -> int:
    value = summary.get(name)
    return value if isinstance(value, int) and value >= 0 else 0


async def _dump(restic: Restic, snapshot: str, path: str) -> bytes:
    """One file of a version, through `restic dump` (its output is the file, not JSON)."""
    env = restic.repository.env()
    process = await asyncio.create_subprocess_exec(
        "restic", "dump", *restic.repository.cache_args(), snapshot, path, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    if process.returncode != 0:
        why = restic.redacted(err.decode(errors="replace")).strip().splitlines()
        raise ResticError("the version holds no configuration"
                          + (f" ({why[-1]})" if why else ""))
    return out
