"""Turn section dataclasses into JSON-able dicts and back, following their type hints.

Decoders are compiled once per class (a field of a plain type costs nothing to decode), so
listing thousands of records stays cheap.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar, cast

T = TypeVar("T")
Decoder = Callable[[Any], Any]

_PLAIN = (str, int, float, bool, type(None), Any)


def to_dict(value: Any) -> dict[str, Any]:
    """A dataclass instance as a plain dict (nested dataclasses included)."""
    return dataclasses.asdict(value)


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build `cls` from `data`; missing fields take their defaults, unknown keys are dropped."""
    kwargs: dict[str, Any] = {}
    for name, decode in _decoders(cast(Any, cls)):
        if name in data:
            value = data[name]
            kwargs[name] = value if decode is None else decode(value)
    return cls(**kwargs)


@functools.cache
def _decoders(cls: Any) -> tuple[tuple[str, Decoder | None], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((field.name, _decoder(hints[field.name])) for field in dataclasses.fields(cls))


def _decoder(hint: Any) -> Decoder | None:
    """A function decoding JSON into `hint`, or None when the JSON value is already right."""
    if hint in _PLAIN:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        target = cast(Any, hint)
        return lambda value: from_dict(target, value) if isinstance(value, dict) else value
    if origin in (list, tuple):
        found = _decoder(args[0]) if args else None
        build: Any = list if origin is list else tuple
        if found is None:
            return None if origin is list else tuple
        item: Decoder = found
        return lambda value: build(item(v) for v in value) if isinstance(value, list) else value
    if origin is dict:
        found = _decoder(args[1]) if len(args) == 2 else None
        if found is None:
            return None
        entry: Decoder = found
        return lambda value: ({k: entry(v) for k, v in value.items()}
                              if isinstance(value, dict) else value)
    if origin in (typing.Union, types.UnionType):
        real = [option for option in args if option is not type(None)]
        found = _decoder(real[0]) if len(real) == 1 else None
        if found is None:
            return None
        some: Decoder = found
        return lambda value: None if value is None else some(value)
    return None
