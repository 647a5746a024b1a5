"""File Station's background tasks over the Web API: SYNO.FileStation.CopyMove, Delete
(and its blocking `delete`), Search, DirSize, MD5, Compress, Extract and BackgroundTask.

`start` checks what it can at once (paths, rights) and answers a task id; the work runs in
a task thread (`filestation/tasks.py`) and `status` reports it. A task that failed answers
its status with the summary code and each failing path's code, as DSM does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from openstation import offload
from openstation.config.sections import Group, User
from openstation.errors import ApiError, BusyError
from openstation.filestation import archives, codes, jobs
from openstation.filestation.archives import LEVELS, ExtractOptions
from openstation.filestation.codes import FILE_ERRORS, PathErrors
from openstation.filestation.describe import FILE_FIELDS
from openstation.filestation.listing import FILETYPES, SORT_KEYS, arrange, page
from openstation.filestation.service import Item, Located
from openstation.filestation.station import Station
from openstation.filestation.tasks import Task
from openstation.webapi import envelope
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.filestation import (
    Describer,
    additional,
    choice,
    descending,
    file_errors,
    flag,
    number,
    one,
    paging,
    user,
    values,
)
from openstation.webapi.registry import Api, Registry

LISTED_APIS = {"SYNO.FileStation.CopyMove", "SYNO.FileStation.Delete",
               "SYNO.FileStation.Extract", "SYNO.FileStation.Compress"}


def task_ids(call: ApiCall) -> list[str]:
    """Task ids as clients send them: plain, JSON-quoted, or a list."""
    return [t.strip().strip('"') for t in values(call, "taskid")]


def guarded(summary: int, errors: PathErrors, work: Callable[[Task], dict[str, Any]],
            where: str) -> Callable[[Task], dict[str, Any]]:
    """The task's work, whose failures become per-path errors under `summary`."""

    def run(task: Task) -> dict[str, Any]:
        try:
            result = work(task)
        except FILE_ERRORS as exc:
            errors.add(where, exc)
            result = {}
        except ApiError as exc:
            if exc.code >= 1000 or exc.code == summary:
                raise
            errors.add(where, exc.code)
            result = {}
        if errors:
            raise errors.error()
        return result

    return run


def register(registry: Registry, station: Station) -> None:
    files, board = station.files, station.tasks
    describer = Describer(station)

    def locate_all(call: ApiCall, name: str, errors: PathErrors, *, write: bool = False
                   ) -> list[Located]:
        found = []
        for path in values(call, name):
            try:
                found.append(files.locate(user(call), path, write=write))
            except FILE_ERRORS as exc:
                errors.add(path, exc)
        return found

    def items_of(call: ApiCall, name: str, errors: PathErrors, *, write: bool = False
                 ) -> list[Item]:
        found = []
        for located in locate_all(call, name, errors, write=write):
            try:
                found.append(located.item())
            except FILE_ERRORS as exc:
                errors.add(located.path, exc)
        return found

    def started(call: ApiCall, work: Callable[[Task], dict[str, Any]],
                **params: Any) -> dict[str, Any]:
        try:
            task = board.start(user(call), call.api.name, call.version, call.method, params,
                               work, files.storage)
        except BusyError as exc:
            raise ApiError(codes.BUSY, errors={"reason": str(exc)}) from None
        return {"taskid": task.id}

    def status_of(call: ApiCall) -> Task:
        try:
            return board.get(user(call), one(call, "taskid").strip().strip('"'))
        except FILE_ERRORS:
            raise ApiError(codes.NO_SUCH_TASK) from None

    def reported(task: Task, **extra: Any) -> dict[str, Any]:
        if task.finished and task.error is not None:
            raise task.error
        return {**task.status, **extra, "finished": task.finished}

    def each_task(call: ApiCall, action: Callable[[str, str], Any]) -> dict[str, Any]:
        for task_id in task_ids(call):
            try:
                action(user(call), task_id)
            except FILE_ERRORS:
                raise ApiError(codes.NO_SUCH_TASK) from None
        return {}

    async def stop(call: ApiCall) -> dict[str, Any]:
        return each_task(call, board.stop)

    # --- copy and move ----------------------------------------------------------------------

    async def copy_start(call: ApiCall) -> dict[str, Any]:
        move = bool(flag(call, "remove_src", False))
        summary = codes.MOVE_FAILED if move else codes.COPY_FAILED
        errors = PathErrors(summary)
        dest_path = one(call, "dest_folder_path")
        try:
            dest = files.locate(user(call), dest_path, write=True)
        except FILE_ERRORS as exc:
            raise ApiError(codes.DESTINATION_FAILED, errors=[
                {"code": codes.code_of(exc), "path": dest_path}]) from None
        sources = locate_all(call, "path", errors, write=move)
        overwrite, room = flag(call, "overwrite"), jobs.room(files, dest.share.name)

        def work(task: Task) -> dict[str, Any]:
            return jobs.CopyMove(files, task, overwrite, move, room).run(sources, dest, errors)

        return started(call, guarded(summary, errors, work, dest_path),
                       path=values(call, "path"), dest_folder_path=dest_path,
                       overwrite=flag(call, "overwrite"), remove_src=move,
                       accurate_progress=flag(call, "accurate_progress", True))

    async def copy_status(call: ApiCall) -> dict[str, Any]:
        task = status_of(call)
        return reported(task, dest_folder_path=task.params.get("dest_folder_path", ""))

    # --- delete -------------------------------------------------------------------------------

    def delete_work(call: ApiCall) -> tuple[Callable[[Task], dict[str, Any]], list[str]]:
        errors = PathErrors(codes.DELETE_FAILED)
        recursive = bool(flag(call, "recursive", True))
        items = []
        paths = values(call, "path")
        for path in paths:
            try:
                items.append(files.removable(user(call), path))
            except FILE_ERRORS as exc:
                errors.add(path, exc)

        def work(task: Task) -> dict[str, Any]:
            return jobs.delete(files, task, items, recursive, errors)

        return guarded(codes.DELETE_FAILED, errors, work, paths[0]), paths

    async def delete_start(call: ApiCall) -> dict[str, Any]:
        work, paths = delete_work(call)
        return started(call, work, path=paths,
                       accurate_progress=flag(call, "accurate_progress", True),
                       recursive=flag(call, "recursive", True))

    async def delete_now(call: ApiCall) -> dict[str, Any]:
        """The blocking `delete`: the same work, waited for (off the loop)."""
        work, paths = delete_work(call)
        task = board.start(user(call), call.api.name, call.version, call.method,
                           {"path": paths}, work, files.storage)
        await task.done.wait()
        board.forget(user(call), task.id)
        if task.error is not None:
            raise task.error
        return {}

    async def delete_status(call: ApiCall) -> dict[str, Any]:
        return reported(status_of(call))

    # --- search -------------------------------------------------------------------------------

    async def search_start(call: ApiCall) -> dict[str, Any]:
        errors = PathErrors(codes.UNKNOWN)
        folders = locate_all(call, "folder_path", errors)
        errors.raise_any()
        owner, group = call.params.get("owner"), call.params.get("group")
        criteria = jobs.SearchFilter(
            pattern=(call.params.get("pattern") or "").strip('"').replace(" ", ",") or None,
            extensions=tuple(e for e in (call.params.get("extension") or "").strip('"')
                             .split(",") if e.strip()),
            filetype=choice(call, "filetype", FILETYPES, "all"),
            size_from=number(call, "size_from"), size_to=number(call, "size_to"),
            mtime_from=number(call, "mtime_from"), mtime_to=number(call, "mtime_to"),
            crtime_from=number(call, "crtime_from"), crtime_to=number(call, "crtime_to"),
            atime_from=number(call, "atime_from"), atime_to=number(call, "atime_to"),
            owner=_id_of(station, "user", owner), group=_id_of(station, "group", group))
        recursive = bool(flag(call, "recursive", True))

        def work(task: Task) -> dict[str, Any]:
            return jobs.search(files, task, folders, recursive, criteria)

        answer = started(call, work, folder_path=[f.path for f in folders])
        return {**answer, "has_not_index_share": True}

    async def search_list(call: ApiCall) -> dict[str, Any]:
        task = status_of(call)
        offset, limit = paging(call)
        sort_by, desc = choice(call, "sort_by", SORT_KEYS, "name"), descending(call)
        pattern, filetype = call.params.get("pattern"), choice(call, "filetype", FILETYPES,
                                                               "all")

        def arranged() -> list[Item]:  # a snapshot: the search may still be adding to it
            return arrange(list(task.found), sort_by=sort_by, descending=desc,
                           pattern=pattern, filetype=filetype)

        ordered = await offload.run(arranged)  # 100,000 results sort in a while
        shown = page(ordered, offset, limit)
        return {"offset": offset, "total": len(ordered), "finished": task.finished,
                "files": await describer.files(shown, additional(call, FILE_FIELDS))}

    async def search_clean(call: ApiCall) -> dict[str, Any]:
        return each_task(call, board.forget)

    # --- folder size and MD5 -----------------------------------------------------------------

    async def dir_size_start(call: ApiCall) -> dict[str, Any]:
        errors = PathErrors(codes.UNKNOWN)
        items = items_of(call, "path", errors)
        errors.raise_any()
        return started(call, lambda task: jobs.dir_size(files, task, items),
                       path=values(call, "path"))

    async def dir_size_status(call: ApiCall) -> dict[str, Any]:
        task = status_of(call)
        return reported(task, **{k: task.status.get(k, 0)
                                 for k in ("num_dir", "num_file", "total_size")})

    @file_errors()
    async def md5_start(call: ApiCall) -> dict[str, Any]:
        item = files.stat(user(call), one(call, "file_path"))
        if item.is_dir:
            raise ApiError(codes.NO_SUCH_FILE, errors={"reason": "a folder has no MD5"})
        return started(call, lambda task: jobs.md5(files, task, item), file_path=item.path)

    async def md5_status(call: ApiCall) -> dict[str, Any]:
        return reported(status_of(call))

    # --- compress and extract -----------------------------------------------------------------

    @file_errors()
    async def compress_start(call: ApiCall) -> dict[str, Any]:
        errors = PathErrors(codes.COMPRESS_FAILED)
        items = items_of(call, "path", errors)
        errors.raise_any()
        dest_path = one(call, "dest_file_path")
        if choice(call, "format", ("zip", "7z"), "zip") != "zip":
            raise ApiError(codes.COMPRESS_FAILED, errors={"reason": "only zip archives"})
        if (call.params.get("password") or "").strip('"'):
            raise ApiError(codes.COMPRESS_FAILED, errors={
                "reason": "password-protected archives are not supported"})
        level = LEVELS[choice(call, "level", LEVELS, "moderate")]
        folder, _, name = dest_path.rstrip("/").rpartition("/")
        dest = files.target(user(call), folder, name)
        room = jobs.room(files, dest.share.name)

        def work(task: Task) -> dict[str, Any]:
            return archives.compress(files, task, items, dest, level, room)

        return started(call, guarded(codes.COMPRESS_FAILED, errors, work, dest_path),
                       path=values(call, "path"), dest_file_path=dest.path,
                       level=call.params.get("level", ""), format="zip",
                       mode=call.params.get("mode", ""))

    async def compress_status(call: ApiCall) -> dict[str, Any]:
        task = status_of(call)
        return reported(task, dest_file_path=task.params.get("dest_file_path", ""))

    def archive_item(call: ApiCall) -> Item:
        item = files.stat(user(call), one(call, "file_path"))
        if item.is_dir:
            raise ApiError(codes.NOT_AN_ARCHIVE)
        return item

    @file_errors()
    async def extract_start(call: ApiCall) -> dict[str, Any]:
        errors = PathErrors(codes.EXTRACT_FAILED)
        source = archive_item(call)
        dest_path = one(call, "dest_folder_path")
        dest = files.locate(user(call), dest_path, write=True)
        ids = call.params.get("item_id")
        options = ExtractOptions(
            overwrite=bool(flag(call, "overwrite", False)),
            keep_dir=bool(flag(call, "keep_dir", True)),
            create_subfolder=bool(flag(call, "create_subfolder", False)),
            password=(call.params.get("password") or "").strip('"') or None,
            item_ids=frozenset(_ints(ids)) if ids and ids.strip('"') not in ("", "-1")
            else None)
        room = jobs.room(files, dest.share.name)

        def work(task: Task) -> dict[str, Any]:
            return archives.extract(files, task, source, dest, options, room, errors)

        return started(call, guarded(codes.EXTRACT_FAILED, errors, work, source.path),
                       file_path=[source.path], dest_folder_path=dest.path,
                       overwrite=options.overwrite, keep_dir=options.keep_dir,
                       create_subfolder=options.create_subfolder)

    async def extract_status(call: ApiCall) -> dict[str, Any]:
        task = status_of(call)
        return reported(task, dest_folder_path=task.params.get("dest_folder_path", ""))

    @file_errors()
    async def extract_list(call: ApiCall) -> dict[str, Any]:
        source = archive_item(call)
        offset, limit = paging(call)
        members = await offload.run(archives.listing, files, source,
                                    (call.params.get("password") or "").strip('"') or None)
        key = choice(call, "sort_by", ("name", "size", "pack_size", "mtime"), "name")
        members.sort(key=lambda m: getattr(m, {"pack_size": "packed"}.get(key, key)),
                     reverse=descending(call))
        return {"total": len(members), "offset": offset,
                "items": [m.to_json() for m in page(members, offset, limit)]}

    # --- the background task list -------------------------------------------------------------

    async def task_list(call: ApiCall) -> dict[str, Any]:
        offset, limit = paging(call)
        wanted = set(values(call, "api_filter", required=False)) & LISTED_APIS or LISTED_APIS
        tasks = board.of(user(call), wanted)
        if choice(call, "sort_by", ("crtime", "finished"), "crtime") == "finished":
            tasks.sort(key=lambda t: t.finished)
        if descending(call):
            tasks.reverse()
        return {"offset": offset, "total": len(tasks),
                "tasks": [_task_json(t) for t in page(tasks, offset, limit)]}

    async def clear_finished(call: ApiCall) -> dict[str, Any]:
        ids = [t.strip().strip('"') for t in values(call, "taskid", required=False)]
        board.clear_finished(user(call), ids or None)
        return {}

    def task_api(name: str, max_version: int, methods: dict[str, Any],
                 changes: frozenset[str] = frozenset({"start", "stop"})) -> None:
        registry.add(Api(f"SYNO.FileStation.{name}", "entry.cgi", 1, max_version, methods,
                         changes=changes))

    task_api("CopyMove", 3, {"start": copy_start, "status": copy_status, "stop": stop})
    task_api("Delete", 2, {"start": delete_start, "status": delete_status, "stop": stop,
                           "delete": delete_now}, frozenset({"start", "stop", "delete"}))
    task_api("Search", 2, {"start": search_start, "list": search_list, "stop": stop,
                           "clean": search_clean}, frozenset({"start", "stop", "clean"}))
    task_api("DirSize", 2, {"start": dir_size_start, "status": dir_size_status,
                            "stop": stop})
    task_api("MD5", 2, {"start": md5_start, "status": md5_status, "stop": stop})
    task_api("Compress", 3, {"start": compress_start, "status": compress_status,
                             "stop": stop})
    task_api("Extract", 2, {"start": extract_start, "status": extract_status, "stop": stop,
                            "list": extract_list})
    task_api("BackgroundTask", 3, {"list": task_list, "clear_finished": clear_finished},
             frozenset({"clear_finished"}))


def _ints(raw: str) -> list[int]:
    text = raw.strip().strip('"')
    try:
        parsed = json.loads(text) if text.startswith("[") else text.split(",")
        return [int(v) for v in parsed]
    except (ValueError, TypeError, OverflowError):
        raise ApiError(envelope.INVALID_PARAMETER, errors={"item_id": "numbers"}) from None


def _id_of(station: Station, kind: str, name: str | None) -> int | None:
    """The uid or gid of the account or group a search names (-1: none such)."""
    if not name or not name.strip('"'):
        return None
    name = name.strip('"')
    record = station.files.storage.store.record(User if kind == "user" else Group, name)
    if record is None:
        return -1
    return int(getattr(record, "uid" if kind == "user" else "gid"))


def _task_json(task: Task) -> dict[str, Any]:
    paths = task.params.get("path") or task.params.get("file_path") or []
    body: dict[str, Any] = {
        "api": task.api, "version": task.version, "method": task.method,
        "taskid": task.id, "crtime": int(task.started), "finished": task.finished,
        "params": task.params, "path": paths[0] if paths else "",
        "processing_path": task.status.get("processing_path", paths[0] if paths else ""),
        "progress": task.status.get("progress", 0), "total": task.status.get("total", -1)}
    if "processed_size" in task.status:
        body["processed_size"] = task.status["processed_size"]
    if "processed_num" in task.status:
        body["processed_num"] = task.status["processed_num"]
    if task.error is not None:
        body["error"] = {"code": task.error.code, **task.error.extra}
    return body
