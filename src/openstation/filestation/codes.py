"""DSM's File Station error codes, and the one mapping of storage errors onto them.

A multi-path operation that fails answers its summary code (900 for delete, 1000 for copy,
…) with an `errors` list holding each path and its own code, as DSM's API guide says.
"""

from __future__ import annotations

import errno
from typing import Any

from openstation.errors import (
    AlreadyExistsError,
    ApiError,
    IllegalPathError,
    IntegrityError,
    NoSpaceError,
    NotFoundError,
    NotMountedError,
    PassiveServerError,
    PermissionDeniedError,
)

INVALID_PARAMETER, UNKNOWN, BUSY = 400, 401, 402
NO_PERMISSION, NO_SUCH_FILE, FILE_EXISTS = 407, 408, 414
NO_SPACE, IO_ERROR, ILLEGAL_PATH, ILLEGAL_NAME = 416, 417, 418, 419
NO_SUCH_TASK = 599
FAVORITE_EXISTS, FAVORITE_NAME_CONFLICT, TOO_MANY_FAVORITES = 800, 801, 802
DELETE_FAILED = 900
COPY_FAILED, MOVE_FAILED, DESTINATION_FAILED, NEED_OVERWRITE, FILE_OVER_FOLDER = (
    1000, 1001, 1002, 1003, 1004)
CREATE_FOLDER_FAILED, RENAME_FAILED = 1100, 1200
COMPRESS_FAILED, ARCHIVE_NAME_TOO_LONG = 1300, 1301
EXTRACT_FAILED, NOT_AN_ARCHIVE, ARCHIVE_UNREADABLE, WRONG_ARCHIVE_PASSWORD = (
    1400, 1401, 1402, 1403)
NO_SUCH_ITEM = 1405
UPLOAD_LOST, UPLOAD_EXISTS = 1800, 1805
NO_SUCH_LINK, TOO_MANY_LINKS, LINK_FAILED = 2000, 2001, 2002

# Storage errors -> File Station codes, first match wins.
FILE_CODES: tuple[tuple[tuple[type[Exception], ...], int], ...] = (
    ((PermissionDeniedError, NotMountedError, PassiveServerError), NO_PERMISSION),
    ((NotFoundError,), NO_SUCH_FILE),
    ((AlreadyExistsError,), FILE_EXISTS),
    ((NoSpaceError,), NO_SPACE),
    ((IllegalPathError,), ILLEGAL_PATH),
    ((IntegrityError,), IO_ERROR),
)
STORAGE_ERRORS: tuple[type[Exception], ...] = tuple(
    kind for kinds, _ in FILE_CODES for kind in kinds)
FILE_ERRORS: tuple[type[Exception], ...] = (*STORAGE_ERRORS, OSError)  # what a path can fail with
OS_CODES = {errno.ENOENT: NO_SUCH_FILE, errno.EEXIST: FILE_EXISTS, errno.ENOSPC: NO_SPACE,
            errno.EDQUOT: NO_SPACE, errno.EACCES: NO_PERMISSION, errno.EPERM: NO_PERMISSION,
            errno.ENAMETOOLONG: ILLEGAL_NAME, errno.ENOTEMPTY: DELETE_FAILED}


def code_of(exc: Exception) -> int:
    """The File Station code of a storage error or an OSError (else the unknown one)."""
    if isinstance(exc, ApiError):
        return exc.code
    if isinstance(exc, STORAGE_ERRORS):
        return next(code for kinds, code in FILE_CODES if isinstance(exc, kinds))
    if isinstance(exc, OSError):
        return OS_CODES.get(exc.errno or 0, IO_ERROR)
    return UNKNOWN


def reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, STORAGE_ERRORS):
        return exc.strerror or type(exc).__name__
    return str(exc)


class PathErrors:
    """Per-path failures of a multi-path operation, and its summary code."""

    def __init__(self, summary: int) -> None:
        self.summary = summary
        self.entries: list[dict[str, Any]] = []

    def add(self, path: str, exc: Exception | int) -> None:
        code = exc if isinstance(exc, int) else code_of(exc)
        self.entries.append({"code": code, "path": path})

    def __bool__(self) -> bool:
        return bool(self.entries)

    def error(self) -> ApiError:
        return ApiError(self.summary, errors=list(self.entries))

    def raise_any(self) -> None:
        if self.entries:
            raise self.error()
