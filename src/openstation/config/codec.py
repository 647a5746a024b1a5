"""Sections to JSON-able dicts and back, checked against their declarations.

Decoding uses msgspec: every field's type, every enum value and every declared range is
checked, missing fields take their defaults, unknown keys are dropped. A row of the wrong
shape — from a restored backup, a replicated change, or a damaged database — is refused with
a `ValidationError` that names the field (`users.bob.uid: Expected int, got str`).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

import msgspec

from openstation.errors import ValidationError

T = TypeVar("T")

_WHERE = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")


def to_dict(value: Any) -> dict[str, Any]:
    """A section or record as a plain dict (nested dataclasses included; enums stay
    `str` subclasses, so the JSON is plain strings)."""
    return dataclasses.asdict(value)


def from_dict(cls: type[T], data: Any, where: str = "") -> T:
    """`data` as a checked `cls`; ValidationError naming the field (prefixed by `where`)."""
    try:
        return msgspec.convert(data, cls)
    except msgspec.ValidationError as exc:
        match = _WHERE.match(str(exc))
        what = match["what"] if match else str(exc)
        path = (match["path"] or "") if match else ""
        field = (where.rstrip(".") + path).lstrip(".") or cls.__name__
        raise ValidationError({field: what.replace("`", "")}) from None
