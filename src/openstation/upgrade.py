"""Control Panel > Update & Restore: the running version, whether an update exists, and the
update settings (checked, committed with their audit entry, published).

Nothing is flashed. openstation is updated as a package of its host; the check compares
the running DSM version with the newest the local catalog knows for the model, so it says
"no update available" truthfully and never reaches the internet."""

from __future__ import annotations

from openstation.catalog import DEFAULT_VERSION, DsmVersion
from openstation.config.changes import SectionService
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


class UpgradeService(SectionService[UpgradeSettings]):
    """Reads and changes the update settings; answers the update check."""

    section, enums = UpgradeSettings, {"auto_update": AutoUpdate}

    def __init__(self, store: ConfigStore, running: DsmVersion = DEFAULT_VERSION) -> None:
        super().__init__(store)
        self.running = running

    def problems(self, settings: UpgradeSettings) -> dict[str, str]:
        return problems_of(settings)

    def available(self) -> DsmVersion | None:
        return newest(self.running)
