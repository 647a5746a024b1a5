"""File Station over the Web API: SYNO.FileStation.Info, List, CreateFolder, Rename,
Upload, Download, CheckPermission, VirtualFolder and Thumb (background tasks live in
`filestation_tasks.py`, links and favourites in `filestation_links.py`).

Parameters come as DSM's clients send them: a value, a JSON string or array, or a comma
list (`\\,` for a comma in a name); `additional` also as repeated parameters. Storage errors
become File Station codes in one place (`filestation/codes.py`); an operation on several
paths answers its summary code with an `errors` list of each path's own code.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
import mimetypes
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import BodyPartReader, web

from openstation import offload
from openstation.config.sections import General, Share
from openstation.errors import (
    AlreadyExistsError,
    ApiError,
    BusyError,
    IntegrityError,
    OpenStationError,
)
from openstation.filestation import codes, describe
from openstation.filestation.archives import zip_stream
from openstation.filestation.codes import FILE_ERRORS, STORAGE_ERRORS, PathErrors
from openstation.filestation.describe import FILE_FIELDS, SHARE_FIELDS, Owners, wanted
from openstation.filestation.listing import FILETYPES, SORT_KEYS, arrange, page
from openstation.filestation.service import FileStation, FileTimes, Item
from openstation.filestation.station import Station
from openstation.filestation.thumbs import SIZES, NotAnImage, thumbnail
from openstation.webapi import envelope
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Registry

FIELD_LIMIT = 4096  # bytes of an upload's non-file form field
UPLOAD_API = "SYNO.FileStation.Upload"
PATH_PARAMS = frozenset({"path", "folder_path", "dest_folder_path", "file_path",
                         "dest_file_path"})
THUMBNAILS = offload.Gate(concurrency=2, waiting=32)  # decoding images takes memory
MAX_FIELDS = 32  # form fields an upload may carry beside its file
DRAIN_LIMIT = 64 << 20  # bytes of a refused upload still read, so its answer arrives
DRAIN_SECONDS = 5.0
SANDBOX = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}
LOOKUP_FAILURES: tuple[type[Exception], ...] = (*FILE_ERRORS, ApiError)
THUMB_FAILURES: tuple[type[Exception], ...] = (*LOOKUP_FAILURES, NotAnImage)

Handler = Callable[[ApiCall], Awaitable[Any]]


def file_errors(failure: int | None = None) -> Callable[[Handler], Handler]:
    """Map storage errors to File Station codes (the one place this mapping lives)."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def mapped(call: ApiCall) -> Any:
            try:
                return await handler(call)
            except FILE_ERRORS as exc:
                code = codes.code_of(exc) if isinstance(exc, STORAGE_ERRORS) or not failure \
                    else failure
                raise ApiError(code, errors={"reason": codes.reason(exc)}) from None

        return mapped

    return wrap


def values(call: ApiCall, name: str, *, required: bool = True) -> list[str]:
    """One or more paths or names: a JSON array or string, or a comma list in which "\\,"
    is a comma and "\\\\" a backslash (as DSM's API guide says)."""
    text = call.params.get(name)
    if text is None or text == "":
        if required:
            raise ApiError(envelope.MISSING_PARAMETER, errors={name: "missing"})
        return []
    stripped = text.strip()
    if stripped.startswith(("[", '"')):
        try:
            raw = json.loads(stripped)
        except ValueError:
            raw = None
        if isinstance(raw, str):
            return [raw]
        if isinstance(raw, list) and raw and all(isinstance(p, str) for p in raw):
            return list(raw)
        if raw is not None or stripped.startswith("["):
            raise ApiError(envelope.INVALID_PARAMETER, errors={name: "a path or a list"})
    parts = _split_commas(text)
    if name in PATH_PARAMS and len(parts) > 1 and not all(p.startswith("/") for p in parts):
        return [text]  # "/photos,2024" is one path with a comma, never "/photos" and more
    return parts


def _split_commas(text: str) -> list[str]:
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p]


def one(call: ApiCall, name: str) -> str:
    found = values(call, name)
    if len(found) != 1:
        raise ApiError(envelope.INVALID_PARAMETER, errors={name: "exactly one"})
    return found[0]


def boolean(raw: str | None) -> bool | None:
    """A true/false value as clients send it, also JSON-quoted or "overwrite"/"skip" (DSM
    7's words); None: absent, empty or neither."""
    lowered = (raw or "").strip().strip('"').lower()
    if lowered in ("true", "1", "yes", "overwrite"):
        return True
    if lowered in ("false", "0", "no", "skip"):
        return False
    return None


def flag(call: ApiCall, name: str, default: bool | None = None) -> bool | None:
    """A true/false parameter (`default` when absent or empty; anything else → 120)."""
    raw = call.params.get(name)
    if raw is None or raw.strip().strip('"') == "":
        return default
    value = boolean(raw)
    if value is None:
        raise ApiError(envelope.INVALID_PARAMETER, errors={name: "true or false"})
    return value


def number(call: ApiCall, name: str) -> int | None:
    """An integer or an epoch time, also a JSON-quoted float ("1704067200.0")."""
    raw = call.params.get(name)
    if raw is None or raw.strip('"') == "":
        return None
    try:
        value = float(raw.strip().strip('"'))
        if not math.isfinite(value) or abs(value) > 2**62:
            raise ValueError
        return int(value)
    except ValueError:
        raise ApiError(envelope.INVALID_PARAMETER, errors={name: "a number"}) from None


def choice(call: ApiCall, name: str, allowed: tuple[str, ...] | dict[str, Any],
           default: str) -> str:
    raw = (call.params.get(name) or default).strip().strip('"').lower()
    if raw not in allowed:
        raise ApiError(envelope.INVALID_PARAMETER, errors={name: f"one of {list(allowed)}"})
    return raw


def paging(call: ApiCall) -> tuple[int, int]:
    offset = call.int_param("offset", 0)
    limit = call.int_param("limit", 0, low=-1)
    return offset, limit


def descending(call: ApiCall) -> bool:
    return choice(call, "sort_direction", ("asc", "desc"), "asc") == "desc"


def additional(call: ApiCall, known: frozenset[str]) -> frozenset[str]:
    raw = call.params.get("additional")
    if raw is None:
        return frozenset()
    try:
        return wanted(json.loads(raw), known)
    except ValueError:
        return wanted(raw, known)


def user(call: ApiCall) -> str:
    return str(call.session.user)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end) of a single "bytes=a-b" range, end exclusive; None: the whole file."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].partition("-")
    if not (first.isdigit() or first == "") or not (last.isdigit() or last == "") \
            or first == last == "":
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    if first == "":
        length = int(last)
        if length == 0:
            raise web.HTTPRequestRangeNotSatisfiable(
                headers={"Content-Range": f"bytes */{size}"})
        return max(0, size - length), size
    start = int(first)
    end = int(last) + 1 if last else size
    if start >= size or end <= start:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    return start, min(end, size)


class Describer:
    """Builds `files` answers: owners looked up once, the JSON made off the loop."""

    def __init__(self, station: Station) -> None:
        self.station = station

    async def files(self, items: list[Item], fields: frozenset[str]) -> list[dict[str, Any]]:
        owners = Owners.of(self.station.files.storage.store, (i.info for i in items)) \
            if "owner" in fields else None
        return await offload.run(lambda: [describe.file_json(i, fields, owners)
                                          for i in items])


def register(registry: Registry, station: Station) -> None:
    files, storage = station.files, station.files.storage
    describer = Describer(station)

    async def info(call: ApiCall) -> dict[str, Any]:
        account_groups = storage.principals(user(call))
        return {"hostname": storage.store.get(General).server_name,
                "is_manager": call.session.administrator,
                "support_sharing": True, "support_virtual_protocol": [],
                "support_vfs": False, "support_file_request": False,
                "enable_list_usergrp": call.session.administrator,
                "uid": account_groups[0] if account_groups else 0,
                "items": [{"gid": g} for g in (account_groups[1] if account_groups else [])],
                "system_codepage": "enu"}

    @file_errors()
    async def list_share(call: ApiCall) -> dict[str, Any]:
        offset, limit = paging(call)
        fields = additional(call, SHARE_FIELDS)
        only_writable = flag(call, "onlywritable", False)
        name = call.session.user
        principals = storage.principals(name)  # once, not once per share
        items = []
        for share in storage.store.records(Share):
            try:
                item = files.stat(name, f"/{share.name}", principals)
            except OpenStationError:
                continue  # no access, or an encrypted share that is not mounted
            if only_writable and not item.at.writable:
                continue
            items.append(item)
        ordered = arrange(items, sort_by=choice(call, "sort_by", SORT_KEYS, "name"),
                          descending=descending(call))
        shown = page(ordered, offset, limit)
        owners = Owners.of(storage.store, (i.info for i in shown)) if "owner" in fields \
            else None
        usage = shutil.disk_usage(storage.volume)
        return {"offset": offset, "total": len(ordered), "shares": [
            describe.share_json(i, fields, owners, (usage.free, usage.total))
            for i in shown]}

    @file_errors()
    async def list_dir(call: ApiCall) -> dict[str, Any]:
        offset, limit = paging(call)
        fields = additional(call, FILE_FIELDS)
        folder = files.locate(user(call), one(call, "folder_path"))
        sort_by = choice(call, "sort_by", SORT_KEYS, "name")
        filetype = choice(call, "filetype", FILETYPES, "all")
        pattern, desc = call.params.get("pattern"), descending(call)

        def listed() -> tuple[int, list[Item]]:
            items = arrange(files.children(folder), sort_by=sort_by, descending=desc,
                            pattern=pattern, filetype=filetype)
            return len(items), page(items, offset, limit)

        total, shown = await offload.run(listed)  # a folder of 100,000 entries takes a while
        return {"offset": offset, "total": total,
                "files": await describer.files(shown, fields)}

    @file_errors()
    async def getinfo(call: ApiCall) -> dict[str, Any]:
        fields = additional(call, FILE_FIELDS)
        found: list[dict[str, Any]] = []
        failed = PathErrors(codes.NO_SUCH_FILE)
        for path in values(call, "path"):
            try:
                item = files.stat(user(call), path)
            except FILE_ERRORS as exc:
                failed.add(path, exc)
                found.append(failed.entries[-1])  # DSM answers a missing one in its place
                continue
            found.extend(await describer.files([item], fields))
        if len(failed.entries) == len(found):  # nothing to show: an error
            raise ApiError(failed.entries[0]["code"], errors=failed.entries)
        return {"files": found}

    async def create_folder(call: ApiCall) -> dict[str, Any]:
        folders, names = values(call, "folder_path"), values(call, "name")
        if len(folders) == 1 and len(names) > 1:
            folders = folders * len(names)
        if len(folders) != len(names):
            raise ApiError(envelope.INVALID_PARAMETER, errors={"name": "one per folder_path"})
        parents = flag(call, "force_parent", False)
        made, errors = [], PathErrors(codes.CREATE_FOLDER_FAILED)
        for folder, name in zip(folders, names, strict=True):
            try:
                made.append(files.mkdir(user(call), folder, name, bool(parents)))
            except AlreadyExistsError as exc:
                path = f"{folder.rstrip('/')}/{name}"
                try:
                    existing = files.stat(user(call), path) if parents else None
                except FILE_ERRORS:
                    existing = None
                if existing is None or not existing.is_dir:
                    errors.add(path, exc if parents else codes.FILE_EXISTS)
                else:
                    made.append(existing)
            except FILE_ERRORS as exc:
                errors.add(f"{folder.rstrip('/')}/{name}", exc)
        errors.raise_any()
        return {"folders": await describer.files(made, additional(call, FILE_FIELDS))}

    async def rename(call: ApiCall) -> dict[str, Any]:
        paths, names = values(call, "path"), values(call, "name")
        if len(paths) != len(names):
            raise ApiError(envelope.INVALID_PARAMETER, errors={"name": "one per path"})
        done, errors = [], PathErrors(codes.RENAME_FAILED)
        for path, name in zip(paths, names, strict=True):
            try:
                done.append(files.rename(user(call), path, name))
            except FILE_ERRORS as exc:
                errors.add(path, exc)
        errors.raise_any()
        return {"files": await describer.files(done, additional(call, FILE_FIELDS))}

    async def upload(call: ApiCall) -> dict[str, Any]:
        if call.request.content_type != "multipart/form-data":
            raise ApiError(envelope.INVALID_PARAMETER, errors={"reason": "multipart upload"})
        try:
            reader = await call.request.multipart()
        except (ValueError, AssertionError):
            raise ApiError(codes.UPLOAD_LOST) from None
        fields: dict[str, str] = dict(call.params)
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if not part.filename:  # a form field; the file is the part with a file name
                if len(fields) >= MAX_FIELDS + len(call.params):
                    raise ApiError(envelope.INVALID_PARAMETER, errors={"reason":
                                                                       "too many fields"})
                fields[part.name or ""] = await _small_field(part)
                continue
            if "path" not in fields:
                raise ApiError(envelope.MISSING_PARAMETER, errors={"path": "missing"})

            async def chunks(body: BodyPartReader = part) -> AsyncIterator[bytes]:
                try:
                    while block := await body.read_chunk(1 << 16):
                        yield block
                except (ConnectionError, ValueError) as exc:
                    raise ApiError(codes.UPLOAD_LOST, errors={"reason": str(exc)}) from None

            # aiohttp's clients (Home Assistant's library among them) percent-quote the
            # name; others (requests) send it as it is.
            name = part.filename
            if "aiohttp" in call.request.headers.get("User-Agent", ""):
                name = unquote(name)
            overwrite = boolean(fields.get("overwrite"))
            folder = fields["path"].strip().strip('"')
            try:
                entry = await _drained_on_error(call.request, files.upload(
                    user(call), folder, name, chunks(), overwrite=overwrite is True,
                    create_parents=boolean(fields.get("create_parents")) is True,
                    expected=call.request.content_length, times=_times(fields)))
            except AlreadyExistsError:
                if overwrite is False:  # "skip": the file stays as it was
                    return {"blSkip": True, "file": name, "pid": os.getpid(), "progress": 1}
                raise ApiError(codes.UPLOAD_EXISTS if overwrite is None
                               else codes.FILE_EXISTS) from None
            except STORAGE_ERRORS as exc:
                raise ApiError(codes.code_of(exc), errors={"reason": str(exc)}) from None
            except OSError as exc:
                raise ApiError(codes.IO_ERROR, errors={"reason": codes.reason(exc)}
                               ) from None
            return {"blSkip": False, "file": entry.name, "pid": os.getpid(), "progress": 1}
        raise ApiError(1802, errors={"file": "no file part"})

    async def _small_field(part: BodyPartReader) -> str:
        """A form field beside the file: read in bounded steps, refused past 4 KiB (the
        upload's body is unbounded, so its parts must be bounded here)."""
        data = bytearray()
        while block := await part.read_chunk(FIELD_LIMIT + 1):
            data += block
            if len(data) > FIELD_LIMIT:
                raise ApiError(envelope.INVALID_PARAMETER,
                               errors={part.name or "field": f"over {FIELD_LIMIT} bytes"})
        return data.decode("utf-8", "replace")

    @file_errors()
    async def download(call: ApiCall) -> web.StreamResponse:
        mode = (call.params.get("mode") or "open").strip('"').lower()
        try:
            paths = values(call, "path")
            items = [files.stat(user(call), p) for p in paths]
        except LOOKUP_FAILURES as exc:
            if mode != "download":  # DSM: mode=open fails with a plain 404
                raise web.HTTPNotFound(text=str(exc)) from None
            if isinstance(exc, ApiError):
                raise
            raise ApiError(codes.code_of(exc), errors={"reason": codes.reason(exc)}) from None
        if len(items) == 1 and not items[0].is_dir:
            return await send_file(call.request, files, items[0], mode)
        name = f"{items[0].name}.zip" if len(items) == 1 else "download.zip"
        response = web.StreamResponse(headers={
            "Content-Type": "application/zip", **SANDBOX,
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}"})
        blocks = zip_stream(files, items)
        first = await offload.run(next, blocks, b"")  # an unreadable start: a JSON error
        await response.prepare(call.request)
        await send_blocks(call.request, response, first, blocks)
        return response

    async def check_permission(call: ApiCall) -> dict[str, Any]:
        folder = one(call, "path")
        name = one(call, "filename")
        overwrite = flag(call, "overwrite")
        try:
            located = files.check_write(user(call), folder, name,
                                        overwrite=True if overwrite is not None else None)
        except AlreadyExistsError:
            raise ApiError(codes.FILE_EXISTS if flag(call, "create_only") else
                           codes.UPLOAD_EXISTS) from None
        except FILE_ERRORS as exc:
            raise ApiError(codes.code_of(exc), errors={"reason": codes.reason(exc)}) from None
        exists = located.real.exists()
        if exists and flag(call, "create_only"):
            raise ApiError(codes.FILE_EXISTS)
        return {"blSkip": exists and overwrite is False}

    async def virtual_folders(call: ApiCall) -> dict[str, Any]:
        offset, _ = paging(call)
        choice(call, "type", ("cifs", "nfs", "iso"), "cifs")
        return {"offset": offset, "total": 0, "folders": []}  # no remote or ISO mounts

    async def thumb(call: ApiCall) -> web.Response:
        size = choice(call, "size", SIZES, "small")
        rotate = call.int_param("rotate", 0, high=4)
        try:
            item = files.stat(user(call), one(call, "path"))
            if item.is_dir:
                raise web.HTTPNotFound(text="a folder has no thumbnail")
            image, kind = await THUMBNAILS.run(thumbnail, files, item, size, rotate)
        except BusyError:
            raise web.HTTPServiceUnavailable(text="busy making thumbnails") from None
        except THUMB_FAILURES:
            raise web.HTTPNotFound(text="no thumbnail") from None  # DSM: plain HTTP codes
        return web.Response(body=image, content_type=kind,
                            headers={"Cache-Control": "private, max-age=600"})

    registry.add(Api("SYNO.FileStation.Info", "entry.cgi", 1, 2, {"get": info}))
    registry.add(Api("SYNO.FileStation.List", "entry.cgi", 1, 2, {
        "list_share": list_share, "list": list_dir, "getinfo": getinfo}))
    registry.add(Api("SYNO.FileStation.CreateFolder", "entry.cgi", 1, 2,
                     {"create": create_folder}, changes=frozenset({"create"})))
    registry.add(Api("SYNO.FileStation.Rename", "entry.cgi", 1, 2, {"rename": rename},
                     changes=frozenset({"rename"})))
    registry.add(Api(UPLOAD_API, "entry.cgi", 1, 2, {"upload": upload},
                     changes=frozenset({"upload"})))
    registry.add(Api("SYNO.FileStation.Download", "entry.cgi", 1, 2,
                     {"download": download}))
    registry.add(Api("SYNO.FileStation.CheckPermission", "entry.cgi", 1, 3,
                     {"write": check_permission}))
    registry.add(Api("SYNO.FileStation.VirtualFolder", "entry.cgi", 1, 2,
                     {"list": virtual_folders}))
    registry.add(Api("SYNO.FileStation.Thumb", "entry.cgi", 1, 2, {"get": thumb}))


async def send_file(request: web.Request, files: FileStation, item: Item, mode: str
                    ) -> web.StreamResponse:
    """Send one file (a byte range if asked), read and decrypted off the loop. A file
    shown inline is sandboxed: an uploaded page never runs as the device's own."""
    size = item.size
    wanted_range = parse_range(request.headers.get("Range"), size)
    start, end = wanted_range or (0, size)
    quoted = quote(item.name, safe="")
    if mode == "download":
        kind, disposition = "application/octet-stream", "attachment"
    else:
        kind = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
        disposition = "inline"
    response = web.StreamResponse(status=206 if wanted_range else 200, headers={
        "Content-Type": kind, "Accept-Ranges": "bytes", **SANDBOX,
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quoted}"})
    if wanted_range:
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    response.content_length = end - start
    blocks = files.read_range(item.at, start, end)
    # Blocks of up to 1 MiB are read (and decrypted) off the event loop.
    first = await offload.run(next, blocks, b"")  # an unreadable start: a JSON error
    await response.prepare(request)
    await send_blocks(request, response, first, blocks)
    return response


async def send_blocks(request: web.Request, response: web.StreamResponse, first: bytes,
                      blocks: Iterator[bytes]) -> None:
    """Write a prepared response's blocks, each read off the loop."""
    await response.write(first)
    try:
        while block := await offload.run(next, blocks, b""):
            await response.write(block)
    except (IntegrityError, OSError, ApiError):
        # Mid-stream: the headers are gone; cut the connection so the client sees an
        # incomplete download, never garbage.
        if request.transport is not None:
            request.transport.abort()
        return
    await response.write_eof()


async def _drained_on_error(request: web.Request, upload: Awaitable[Item]) -> Item:
    """The upload; if it is refused, the rest of a moderate body is read first, so that the
    client (still sending) gets the answer instead of a reset connection."""
    try:
        return await upload
    except Exception:
        if (request.content_length or 0) <= DRAIN_LIMIT:  # a huge one is cut off instead
            with contextlib.suppress(Exception):
                await asyncio.wait_for(_drain(request), DRAIN_SECONDS)
        raise


async def _drain(request: web.Request) -> None:
    left = DRAIN_LIMIT
    while left > 0 and (block := await request.content.read(min(left, 1 << 16))):
        left -= len(block)


def _times(fields: dict[str, str]) -> FileTimes | None:
    """The times an upload asks for (milliseconds since the epoch)."""
    found: dict[str, float] = {}
    for name in ("mtime", "atime", "crtime"):
        raw = fields.get(name, "").strip().strip('"')
        if raw:
            try:
                found[name] = float(raw) / 1000
                if not math.isfinite(found[name]) or not 0 <= found[name] < 2**33:
                    raise ValueError
            except ValueError:
                raise ApiError(envelope.INVALID_PARAMETER, errors={name: "milliseconds"}
                               ) from None
    return FileTimes(**found) if found else None
