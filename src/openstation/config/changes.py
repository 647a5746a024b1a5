"""One way for the settings services to take a change of a section (pure): fields left as
None stay as they are, unknown fields and bad enum values are refused (all of those at
once), then the section's own checks run on the result (all of those at once); nothing is
changed while there is a problem."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from openstation.config.sections import Section
from openstation.errors import ValidationError

if TYPE_CHECKING:
    from openstation.config.store import ConfigStore

S = TypeVar("S")
Sec = TypeVar("Sec", bound="Section")


def changed(current: S, changes: Mapping[str, Any], check: Callable[[S], dict[str, str]],
            enums: Mapping[str, type[enum.Enum]] | None = None) -> S:
    """`current` with `changes` made (a copy), or ValidationError naming every problem."""
    fields = {f.name for f in dataclasses.fields(current)}  # type: ignore[arg-type]
    wanted = {k: v for k, v in changes.items() if v is not None}
    problems = {name: "no such setting" for name in sorted(set(wanted) - fields)}
    for name, kind in (enums or {}).items():
        if name not in wanted:
            continue
        value = wanted[name]
        try:
            wanted[name] = [kind(v) for v in value] if isinstance(value, list) else kind(value)
        except ValueError:
            problems[name] = ", ".join(str(v.value) for v in kind)
    if problems:
        raise ValidationError(problems)
    result: S = dataclasses.replace(current, **wanted)  # type: ignore[type-var]
    if problems := check(result):
        raise ValidationError(problems)
    return result


class SectionService(Generic[Sec]):
    """A settings section read and changed through `changed`, committed with its audit
    entry (the store publishes it). Subclasses name the section, its checks and its enums."""

    section: type[Sec]
    enums: Mapping[str, type[enum.Enum]] = {}

    def __init__(self, store: ConfigStore) -> None:
        self.store = store

    def problems(self, settings: Sec) -> dict[str, str]:
        raise NotImplementedError

    def settings(self) -> Sec:
        return self.store.get(self.section)

    def set(self, actor: str, **changes: Any) -> Sec:
        """Change some fields (None leaves one as it is); every problem at once."""
        settings = changed(self.settings(), changes, self.problems, self.enums)
        with self.store.transaction(actor, self.section.section) as tx:
            tx.put(settings)
        return settings
