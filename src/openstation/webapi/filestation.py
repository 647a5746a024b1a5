"""File Station over the Web API (SYNO.FileStation.Info, .List, .CreateFolder, .Rename,
.Delete, .Upload, .Download) and shared folders (SYNO.Core.Share create/get/set/delete,
.Crypto, .KeyManager). Domain errors become DSM's File Station codes in `file_errors`."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from openstation import offload
from openstation.errors import (
    AlreadyExistsError,
    ApiError,
    IllegalPathError,
    IntegrityError,
    NoSpaceError,
    NotFoundError,
    NotMountedError,
    PermissionDeniedError,
)
from openstation.storage.filestation import FileStation
from openstation.storage.service import StorageService
from openstation.webapi import envelope
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Registry

# DSM's File Station codes.
FIELD_LIMIT = 4096  # bytes of an upload's non-file form field
NO_PERMISSION, NO_SUCH_FILE, FILE_EXISTS, NO_SPACE, IO_ERROR, ILLEGAL_PATH = (
    407, 408, 414, 416, 417, 418)
FAILED_CREATE_FOLDER, FAILED_RENAME, FAILED_DELETE = 1100, 1200, 900
UPLOAD_API = "SYNO.FileStation.Upload"

Handler = Callable[[ApiCall], Awaitable[Any]]


# Storage errors -> File Station codes, first match wins.
FILE_CODES: tuple[tuple[tuple[type[Exception], ...], int], ...] = (
    ((PermissionDeniedError, NotMountedError), NO_PERMISSION),
    ((NotFoundError,), NO_SUCH_FILE),
    ((AlreadyExistsError,), FILE_EXISTS),
    ((NoSpaceError,), NO_SPACE),
    ((IllegalPathError,), ILLEGAL_PATH),
    ((IntegrityError,), IO_ERROR),
)
STORAGE_ERRORS = tuple(kind for kinds, _ in FILE_CODES for kind in kinds)


def file_errors(failure: int | None = None) -> Callable[[Handler], Handler]:
    """Map storage errors to File Station codes (the one place this mapping lives)."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def mapped(call: ApiCall) -> Any:
            try:
                return await handler(call)
            except STORAGE_ERRORS as exc:
                code = next(code for kinds, code in FILE_CODES if isinstance(exc, kinds))
                raise ApiError(code, errors={"reason": str(exc)}) from None
            except OSError as exc:
                raise ApiError(failure or IO_ERROR, errors={"reason": exc.strerror or ""}
                               ) from None

        return mapped

    return wrap


def paths_param(call: ApiCall, name: str = "path") -> list[str]:
    """One path or name, or a JSON list of them (DSM accepts both)."""
    text = call.params.get(name)
    if text is None:
        raise ApiError(envelope.MISSING_PARAMETER)
    if not text.lstrip().startswith(("[", '"')):
        return [text]
    raw = call.json_param(name)
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(p, str) for p in raw):
        return list(raw)
    raise ApiError(envelope.MISSING_PARAMETER if raw is None else envelope.INVALID_PARAMETER)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end) of a single "bytes=a-b" range, end exclusive; None: the whole file."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].partition("-")
    try:
        if first == "":
            length = int(last)
            return max(0, size - length), size
        start = int(first)
        end = int(last) + 1 if last else size
    except ValueError:
        return None
    if start >= size or end <= start:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    return start, min(end, size)


def register(registry: Registry, storage: StorageService) -> None:
    files = FileStation(storage)

    def user(call: ApiCall) -> str:
        return str(call.session.user)

    async def info(call: ApiCall) -> dict[str, Any]:
        return {"hostname": "openstation", "is_manager": call.session.administrator,
                "support_sharing": False, "support_virtual_protocol": [],
                "uid": 0, "system_codepage": "enu"}

    @file_errors()
    async def list_dir(call: ApiCall) -> dict[str, Any]:
        path = call.param("folder_path")
        offset = call.int_param("offset", 0)
        limit = call.int_param("limit", 0)
        entries = files.list_dir(user(call), path)
        page = entries[offset:offset + limit] if limit else entries[offset:]
        return {"offset": offset, "total": len(entries), "files": [e.to_json() for e in page]}

    @file_errors()
    async def getinfo(call: ApiCall) -> dict[str, Any]:
        return {"files": [files.stat(user(call), p).to_json() for p in paths_param(call)]}

    @file_errors(FAILED_CREATE_FOLDER)
    async def create_folder(call: ApiCall) -> dict[str, Any]:
        folders, names = paths_param(call, "folder_path"), paths_param(call, "name")
        if len(folders) != len(names):
            raise ApiError(envelope.INVALID_PARAMETER)
        parents = call.bool_param("force_parent") or False
        made = [files.mkdir(user(call), f, n, parents) for f, n in zip(folders, names,
                                                                         strict=True)]
        return {"folders": [e.to_json() for e in made]}

    @file_errors(FAILED_RENAME)
    async def rename(call: ApiCall) -> dict[str, Any]:
        paths, names = paths_param(call), paths_param(call, "name")
        if len(paths) != len(names):
            raise ApiError(envelope.INVALID_PARAMETER)
        done = [files.rename(user(call), p, n) for p, n in zip(paths, names, strict=True)]
        return {"files": [e.to_json() for e in done]}

    @file_errors(FAILED_DELETE)
    async def delete(call: ApiCall) -> dict[str, Any]:
        for path in paths_param(call):
            await files.delete(user(call), path)
        return {}

    @file_errors()
    async def upload(call: ApiCall) -> dict[str, Any]:
        if call.request.content_type != "multipart/form-data":
            raise ApiError(envelope.INVALID_PARAMETER, errors={"reason": "multipart upload"})
        reader = await call.request.multipart()
        fields: dict[str, str] = dict(call.params)
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name != "file":
                fields[part.name or ""] = await _small_field(part)
                continue
            if "path" not in fields or not part.filename:
                raise ApiError(envelope.MISSING_PARAMETER)

            async def chunks(body: BodyPartReader = part) -> AsyncIterator[bytes]:
                while block := await body.read_chunk(1 << 16):
                    yield block

            # aiohttp's clients (Home Assistant's library among them) percent-quote the name.
            entry = await files.upload(
                user(call), fields["path"], unquote(part.filename), chunks(),
                overwrite=fields.get("overwrite", "").lower() in ("true", "overwrite"),
                create_parents=fields.get("create_parents", "").lower() == "true",
                expected=call.request.content_length)
            return {"file": entry.to_json()}
        raise ApiError(envelope.MISSING_PARAMETER, errors={"file": "no file part"})

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
        path = paths_param(call)[0]
        located, size = files.open_download(user(call), path)
        wanted = parse_range(call.request.headers.get("Range"), size)
        start, end = wanted or (0, size)
        name = path.rsplit("/", 1)[-1]
        response = web.StreamResponse(status=206 if wanted else 200, headers={
            "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes",
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(name)}"})
        if wanted:
            response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        response.content_length = end - start
        blocks = files.read_range(located, start, end)
        # Blocks of up to 1 MiB are read (and decrypted) off the event loop.
        first = await offload.run(next, blocks, b"")  # an unreadable start: a JSON error
        await response.prepare(call.request)
        await response.write(first)
        try:
            while block := await offload.run(next, blocks, b""):
                await response.write(block)
        except IntegrityError:
            # Mid-stream: the headers are gone; cut the connection so the client sees an
            # incomplete download, never garbage.
            if call.request.transport is not None:
                call.request.transport.abort()
            return response
        await response.write_eof()
        return response

    registry.add(Api("SYNO.FileStation.Info", "entry.cgi", 1, 2, {"get": info}))
    listing = registry.get("SYNO.FileStation.List")
    assert listing is not None
    listing.methods.update({"list": list_dir, "getinfo": getinfo})
    registry.add(Api("SYNO.FileStation.CreateFolder", "entry.cgi", 1, 2,
                     {"create": create_folder}, changes=frozenset({"create"})))
    registry.add(Api("SYNO.FileStation.Rename", "entry.cgi", 1, 2, {"rename": rename},
                     changes=frozenset({"rename"})))
    registry.add(Api("SYNO.FileStation.Delete", "entry.cgi", 1, 2,
                     {"delete": delete, "start": delete}, changes=frozenset({"delete",
                                                                             "start"})))
    registry.add(Api(UPLOAD_API, "entry.cgi", 1, 3, {"upload": upload},
                     changes=frozenset({"upload"})))
    registry.add(Api("SYNO.FileStation.Download", "entry.cgi", 1, 2,
                     {"download": download}))


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
