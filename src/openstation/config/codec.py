"""Turn section dataclasses into JSON-able dicts and back, following their type hints."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, TypeVar, cast

T = TypeVar("T")


def to_dict(value: Any) -> dict[str, Any]:
    """A dataclass instance as a plain dict (nested dataclasses included)."""
    return dataclasses.asdict(value)


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build `cls` from `data`; missing fields take their defaults, unknown keys are dropped."""
    hints = _hints(cast(Any, cls))
    kwargs: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name in data:
            kwargs[field.name] = _decode(hints[field.name], data[field.name])
    return cls(**kwargs)


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return from_dict(hint, value)  # type: ignore[arg-type]
    if origin in (list, tuple) and isinstance(value, list):
        inner = args[0] if args else Any
        items = [_decode(inner, item) for item in value]
        return items if origin is list else tuple(items)
    if origin is dict and isinstance(value, dict):
        inner = args[1] if len(args) == 2 else Any
        return {key: _decode(inner, item) for key, item in value.items()}
    if origin in (typing.Union, types.UnionType):
        for option in args:
            if option is type(None) and value is None:
                return None
        real = [option for option in args if option is not type(None)]
        return _decode(real[0], value) if len(real) == 1 else value
    return value
