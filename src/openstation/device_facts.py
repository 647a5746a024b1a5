"""What `openstation status` shows of a device, running or stopped (kept light: the CLI
imports it on every call)."""

from __future__ import annotations

from typing import Any

from openstation import catalog
from openstation.config.sections import General, Lifecycle, Ports
from openstation.config.store import ConfigStore
from openstation.datadir import DataDir
from openstation.errors import UserInputError
from openstation.hardware import Hardware, load_or_create
from openstation.lifecycle.status import Status
from openstation.security.tls import fingerprint
from openstation.storage.volume import volume_initialised


def describe(hardware: Hardware, store: ConfigStore | None, status: Status,
             ports: dict[str, int] | None = None) -> dict[str, Any]:
    """The facts `openstation status` shows, for a running or a stopped device."""
    model = hardware.model
    configured = store.get(Ports) if store else Ports()
    server_name = (store.get(General).server_name if store
                   else model.line.default_server_name)
    return {
        "status": status.label,
        "status_code": status.code,
        "model": model.name,
        "product_line": model.line.value,
        "serial": hardware.serial,
        "mac": hardware.mac,
        "macs": list(hardware.macs),
        "server_name": server_name,
        "version": catalog.DEFAULT_VERSION.display,
        "http_port": configured.http,
        "https_port": configured.https,
        "listening": ports or {},
    }


def initial_state(data_dir: DataDir) -> str:
    """For a new config.db: a volume with a prior install means Configuration lost."""
    if volume_initialised(data_dir.volume_marker):
        return Status.CONFIGURATION_LOST.persisted
    return Status.NOT_INSTALLED.persisted


def stopped(data_dir: DataDir) -> dict[str, Any]:
    """The facts of a device that is not running, read from its data directory (a
    read-only look: it writes nothing)."""
    if not data_dir.hardware_file.exists():
        raise UserInputError(f"{data_dir.root} holds no device (run `openstation run` first)")
    hardware = load_or_create(data_dir.hardware_file, None)
    if data_dir.config_db.exists():
        store = ConfigStore.open_readonly(data_dir.config_db, hardware)
        try:
            facts = describe(hardware, store, Status.from_persisted(store.get(Lifecycle).state))
        finally:
            store.close()
    else:
        facts = describe(hardware, None, Status.from_persisted(initial_state(data_dir)))
    facts["running"] = False
    facts["certificate_fingerprint"] = fingerprint(data_dir.tls_cert)
    return facts
