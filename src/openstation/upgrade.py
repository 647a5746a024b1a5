"""Control Panel > Update & Restore: the running version, whether an update exists, and the
update settings (checked, committed with their audit entry, published).

Nothing is flashed. openstation is updated as a package of its host; the check compares
the running DSM version with the newest the local catalog knows for the model, so it says
"no update available" truthfully and never reaches the internet."""

from __future__ import annotations

from typing import Any

from openstation.catalog import DEFAULT_VERSION, DsmVersion
from openstation.config.changes import changed
from openstation.config.sections import AutoUpdate, UpgradeSettings
from openstation.config.store import ConfigStore

KNOWN_RELEASES: tuple[DsmVersion, ...] = (DEFAULT_VERSION,)  # the local catalog, newest last


def newest(running: DsmVersion, releases: tuple[DsmVersion, ...] = KNOWN_RELEASES
           ) -> DsmVersion | None:
    """The newest release after `running`, or None: it is up to date (pure)."""
    def order(v: DsmVersion) -> tuple[int, ...]:
        return (v.major, v.minor, v.micro, v.build, v.update)
    later = [v for v in releases if order(v) > order(running)]
    return max(later, key=order) if later else None


def problems_of(settings: UpgradeSettings) -> dict[str, str]:
    """What is wrong with the update settings (pure)."""
    problems: dict[str, str] = {}
    for name, high in (("hour", 23), ("minute", 59)):
        value = getattr(settings, name)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
            problems[name] = f"0 to {high}"
    if not isinstance(settings.check_automatically, bool):
        problems["check_automatically"] = "true or false"
    return problems


class UpgradeService:
    """Reads and changes the update settings; answers the update check."""

    def __init__(self, store: ConfigStore, running: DsmVersion = DEFAULT_VERSION) -> None:
        self.store = store
        self.running = running

    def settings(self) -> UpgradeSettings:
        return self.store.get(UpgradeSettings)

    def available(self) -> DsmVersion | None:
        return newest(self.running)

    def set(self, actor: str, **changes: Any) -> UpgradeSettings:
        """Change some fields (None leaves one as it is); every problem at once."""
        settings = changed(self.settings(), changes, problems_of,
                           {"auto_update": AutoUpdate})
        with self.store.transaction(actor, "upgrade") as tx:
            tx.put(settings)
        return settings
