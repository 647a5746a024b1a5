"""Paths inside a shared folder: every user-supplied path is checked here (pure).

A path is share-relative ("/photos/2024/cat.jpg" -> share "photos", parts ["2024",
"cat.jpg"]). Refused: paths over 4095 bytes (Linux's PATH_MAX), NUL bytes, "." and ".."
components, empty components, names over 255 bytes, names starting with "@" (the device's
own entries, as on DSM), and lookalike names (names.py). Names being created are
NFC-normalised; existing entries are looked up by their exact name (a file put on the volume
another way keeps its own form).
"""

from __future__ import annotations

from openstation.errors import IllegalPathError
from openstation.names import lookalike_problem

MAX_NAME = 255
MAX_PATH = 4095  # bytes, as Linux's PATH_MAX (4096 with the NUL)


def name_problem(name: str) -> str | None:
    if not name or name in (".", ".."):
        return "an empty, '.' or '..' name"
    if "\x00" in name or "/" in name or "\\" in name:
        return "a name with NUL, '/' or '\\\\'"
    if len(name.encode()) > MAX_NAME:
        return f"a name over {MAX_NAME} bytes"
    if name.startswith("@"):
        return "a name starting with '@' (reserved)"
    return lookalike_problem(name)


def split(path: str) -> tuple[str, list[str]]:
    """(share, components) of a File Station path; IllegalPathError for anything unsafe."""
    if not path.startswith("/"):
        raise IllegalPathError(f"{path!r}: paths start with /<shared folder>")
    if len(path.encode(errors="surrogateescape")) > MAX_PATH:
        raise IllegalPathError(f"{path[:64]!r}…: a path over {MAX_PATH} bytes")
    parts = path.split("/")[1:]
    if parts and parts[-1] == "":
        parts = parts[:-1]  # a trailing slash
    if not parts:
        raise IllegalPathError("no shared folder in the path")
    for part in parts:
        if (why := name_problem(part)) is not None:
            raise IllegalPathError(f"{path!r}: {why}")
    return parts[0], parts[1:]
