"""Control Panel > Hyper Backup: tasks with their last result, progress and next run;
make one, back up now, cancel, check, restore files of a version, delete; the Vault role."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from openstation.accounts.sessions import Session
from openstation.backup.engine import BackupEngine
from openstation.backup.service import TaskRequest
from openstation.config.sections import Share
from openstation.errors import OpenStationError, UserInputError
from openstation.ui.kit import Messages, PageKit, problems

ROUTES = (("GET", "/panel/hyperbackup", "page"),
          ("POST", "/panel/hyperbackup/create", "create"),
          ("POST", "/panel/hyperbackup/task", "act"),
          ("POST", "/panel/hyperbackup/restore", "restore"),
          ("POST", "/panel/hyperbackup/vault", "vault"))
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def shown(epoch: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch)) if epoch else "—"


class HyperBackupPages:
    """`/panel/hyperbackup`."""

    def __init__(self, kit: PageKit, engine: BackupEngine) -> None:
        self.kit = kit
        self.engine = engine

    def routes(self, app: web.Application) -> None:
        self.kit.add_admin_pages(app, self, ROUTES)

    async def page(self, request: web.Request, session: Session,
                   messages: Messages | None = None, versions_of: str = "",
                   watch: bool = False) -> web.Response:
        """The tasks; with `watch` (or ?watch=1) the page follows a run, reloading every
        2 s until no task runs (not otherwise: a reload would empty the forms)."""
        service = self.engine.service
        tasks = [{**self.engine.status(t.task_id), "sources": t.sources,
                  "include_config": t.include_config, "destination": t.destination,
                  "rotation": t.rotation.value, "keep": t.keep_versions,
                  "schedule": ", ".join(DAYS[d] for d in t.schedule_days) +
                  (f" at {t.schedule_hour:02d}:{t.schedule_minute:02d}"
                   if t.schedule_days else "")}
                 for t in service.tasks()]
        versions: list[dict[str, Any]] = []
        chosen = versions_of or request.query.get("versions", "")
        if chosen:
            try:
                versions = list(reversed(await self.engine.versions(chosen)))
            except OpenStationError as exc:
                messages = [*(messages or []), *problems(exc)]
                chosen = ""
        return self.kit.render(
            "hyper_backup.html", request, session, messages, title="Hyper Backup",
            tasks=tasks, shown=shown, shares=[s.name for s in service.store.records(Share)],
            days=DAYS, vault=service.vault().enabled, versions=versions, chosen=chosen,
            watch=(watch or request.query.get("watch") == "1")
            and any(t["running"] for t in tasks))

    async def create(self, request: web.Request, session: Session) -> web.Response:
        async def apply(form: Any) -> None:
            keep = str(form.get("keep", "")).strip()
            await self.engine.create(session.user, TaskRequest(
                name=str(form.get("name", "")).strip(),
                destination=str(form.get("destination", "")).strip(),
                password=str(form.get("password", "")),
                sources=[str(s) for s in form.getall("source", [])] + [
                    f.strip("/") for f in str(form.get("folders", "")).split(",")
                    if f.strip("/")],
                include_config=form.get("include_config") == "1",
                schedule_days=[int(str(d)) for d in form.getall("day", [])],
                schedule_hour=int(str(form.get("at", "03:00")).partition(":")[0] or 0),
                schedule_minute=int(str(form.get("at", "03:00")).partition(":")[2] or 0),
                rotation=str(form.get("rotation", "all")),
                keep_versions=int(keep) if keep else 256,
                remote_user=str(form.get("remote_user", "")).strip(),
                remote_password=str(form.get("remote_password", "")),
                remote_fingerprint=str(form.get("remote_fingerprint", "")).strip()))

        return await self.kit.apply(request, session, self.page, apply, "Task created.")

    async def act(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        task_id, action = str(form.get("task", "")), str(form.get("action", ""))
        try:
            if action == "backup":
                self.engine.backup(task_id)
                done = "Backing up."
            elif action == "cancel":
                self.engine.cancel(task_id)
                await self.engine.wait(task_id)
                done = "Cancelled."
            elif action == "check":
                self.engine.check(task_id, read_data=form.get("read_data") == "1")
                done = "Checking the backup's integrity."
            elif action == "delete":
                task = self.engine.delete(session.user, task_id)
                done = f"Task deleted; its versions stay in {task.repository}."
            elif action == "versions":
                return await self.page(request, session, versions_of=task_id)
            else:
                raise UserInputError(f"no action {action!r}")
        except OpenStationError as exc:
            return await self.page(request, session, problems(exc))
        return await self.page(request, session, [("ok", done)],
                               watch=action in ("backup", "check"))

    async def restore(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        task_id = str(form.get("task", ""))
        try:
            counts = await self.engine.restore(
                session.user, task_id, str(form.get("version", "latest")),
                paths=[p.strip() for p in str(form.get("paths", "")).split(",") if p.strip()],
                target=str(form.get("target", "")).strip() or None,
                conflict=str(form.get("conflict", "overwrite")))
        except OpenStationError as exc:
            return await self.page(request, session, problems(exc), versions_of=task_id)
        return await self.page(request, session, [(
            "ok", f"Restored {counts['restored']} files (skipped {counts['skipped']}, kept "
                  f"both for {counts['renamed']}).")], versions_of=task_id)

    async def vault(self, request: web.Request, session: Session) -> web.Response:
        async def apply(form: Any) -> None:
            self.engine.service.set_vault(session.user, enabled=form.get("enabled") == "1")

        return await self.kit.apply(request, session, self.page, apply)
