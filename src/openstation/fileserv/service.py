"""Control Panel > File Services: each protocol on or off, with its port (one place for the
Web API, the pages and the CLI; checked, committed with its audit entry, published)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from openstation.config.sections import FileServices, Ports
from openstation.config.store import ConfigStore
from openstation.errors import ValidationError

# NetBIOS names: up to 15 characters, no spaces or the characters Windows refuses.
WORKGROUP = re.compile(r"[A-Za-z0-9!@#$%^&'()_{}.~-]{1,15}")
FIELDS = frozenset(f.name for f in dataclasses.fields(FileServices))
PORTS = ("smb_port", "sftp_port", "webdav_port", "webdav_https_port")


def problems_of(settings: FileServices, ui_ports: Ports) -> dict[str, str]:
    """Every problem of `settings` (pure): ports in range, distinct from each other and
    from the management ports; a valid workgroup name."""
    problems: dict[str, str] = {}
    taken = {ui_ports.http: "the HTTP management port", ui_ports.https:
             "the HTTPS management port"}
    for name in PORTS:
        port = getattr(settings, name)
        if not 1 <= port <= 65535:
            problems[name] = "a port from 1 to 65535"
        elif port in taken:
            problems[name] = f"already {taken[port]}"
        else:
            taken[port] = name.replace("_", " ")
    if not WORKGROUP.fullmatch(settings.workgroup):
        problems["workgroup"] = "1 to 15 letters, digits or !@#$%^&'()_{}.~-"
    return problems


class FileServicesService:
    """Reads and changes the file-services section."""

    def __init__(self, store: ConfigStore) -> None:
        self.store = store

    def settings(self) -> FileServices:
        return self.store.get(FileServices)

    def set(self, actor: str, **changes: Any) -> FileServices:
        """Change some fields (None leaves a field as it is); every problem is reported
        together and nothing changes."""
        unknown = sorted(set(changes) - FIELDS)
        if unknown:
            raise ValidationError({name: "no such setting" for name in unknown})
        settings = dataclasses.replace(
            self.settings(), **{k: v for k, v in changes.items() if v is not None})
        problems = problems_of(settings, self.store.get(Ports))
        if problems:
            raise ValidationError(problems)
        with self.store.transaction(actor, "file_services") as tx:
            tx.put(settings)
        return settings
