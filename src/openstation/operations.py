"""What the command line asks of a device, in one table.

The same operations serve a running device (the CLI sends `{"op", "args"}` over the control
socket, and the device runs them on its own services) and a stopped one (the CLI opens it
with `local.opened`, under the data directory's lock, and runs them itself). Either way
they go through the services, so validation, audit and events are the same as the Web
API's.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, cast

from openstation import offload, settings
from openstation.accounts.service import AccountService, UserChanges
from openstation.backup.engine import BackupEngine
from openstation.backup.keys import password_from_key_file
from openstation.backup.service import TaskRequest
from openstation.config.sections import BackupTask, Ports, Share, User
from openstation.config.store import ConfigStore
from openstation.errors import NotFoundError, UserInputError
from openstation.fileserv.service import FileServicesService
from openstation.lifecycle.reset import RESET_ACTION
from openstation.lifecycle.restore_engine import ConfigBackups
from openstation.network.service import NetworkService
from openstation.security.service import SecurityService
from openstation.storage.service import StorageService
from openstation.webapi.shares import share_json

ACTOR = "cli"


class Node(Protocol):
    """A device the operations can work on: running, or opened while stopped."""

    running: bool  # mounts and listeners exist only in a running device

    @property
    def store(self) -> ConfigStore | None: ...

    @property
    def accounts(self) -> AccountService: ...

    @property
    def network(self) -> NetworkService: ...

    @property
    def security(self) -> SecurityService: ...

    @property
    def storage(self) -> StorageService: ...

    @property
    def backups(self) -> ConfigBackups: ...

    async def change_ports(self, actor: str, http: int, https: int) -> dict[str, int]: ...

    @property
    def file_services(self) -> FileServicesService: ...

    def file_service_status(self) -> dict[str, Any]: ...

    async def settle(self) -> None: ...


Operation = Callable[[Node, dict[str, Any]], Awaitable[Any]]
OPERATIONS: dict[str, Operation] = {}


def operation(name: str) -> Callable[[Operation], Operation]:
    def add(function: Operation) -> Operation:
        OPERATIONS[name] = function
        return function
    return add


async def run(node: Node, name: str, args: dict[str, Any]) -> Any:
    """Run operation `name`; its errors are the services' (OpenStationError)."""
    found = OPERATIONS.get(name)
    if found is None:
        raise NotFoundError(f"no operation {name!r}")
    if node.store is None:
        raise UserInputError("the device is rebooting; try again in a moment")
    return await found(node, args)


def _store(node: Node) -> ConfigStore:
    assert node.store is not None  # run() checked
    return node.store


# --- users ----------------------------------------------------------------------------------

@operation("user.list")
async def user_list(node: Node, _args: dict[str, Any]) -> list[dict[str, Any]]:
    admins = node.accounts.administrators()
    return [{"name": u.name, "uid": u.uid, "status": "Disabled" if u.disabled else "Normal",
             "administrator": u.name in admins, "description": u.description,
             "email": u.email, "two_step": bool(u.otp_secret)}
            for u in _store(node).records(User)]


@operation("user.create")
async def user_create(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    user = await node.accounts.create_user(
        str(args["name"]), str(args["password"]), actor=ACTOR,
        administrator=bool(args.get("admin")), description=str(args.get("description", "")),
        email=str(args.get("email", "")))
    return {"name": user.name, "uid": user.uid}


@operation("user.set")
async def user_set(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    fields = {key: args[key] for key in ("new_name", "password", "description", "email",
                                         "disabled") if args.get(key) is not None}
    user = await node.accounts.set_user(str(args["name"]), UserChanges(**fields), actor=ACTOR)
    return {"name": user.name, "uid": user.uid}


@operation("user.delete")
async def user_delete(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    node.accounts.delete_user(str(args["name"]), actor=ACTOR)
    return {}


# --- settings ------------------------------------------------------------------------------

@operation("config.get")
async def config_get(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    return settings.read(_store(node), str(args["section"]))


@operation("config.set")
async def config_set(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    section, values = str(args["section"]), {k: str(v) for k, v in args["values"].items()}
    store = _store(node)
    if section == "ports":
        current = store.get(Ports)
        typed = settings.convert(Ports, values)
        await node.change_ports(ACTOR, typed.get("http", current.http),
                                typed.get("https", current.https))
        return settings.read(store, section)
    return settings.apply(store, node.accounts, node.network, node.security, section, values,
                          ACTOR)


# --- configuration backup ------------------------------------------------------------------

def _file(args: dict[str, Any], name: str = "file") -> bytes:
    try:
        return base64.b64decode(str(args.get(name, "")), validate=True)
    except ValueError:
        raise UserInputError(f"the {name.replace('_', ' ')} is not valid base64") from None


@operation("backup.export")
async def backup_export(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    body = await node.backups.backup(args.get("passphrase") or None)
    return {"file": base64.b64encode(body).decode()}


@operation("backup.preview")
async def backup_preview(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    return await node.backups.preview(_file(args), args.get("passphrase") or None,
                                      args.get("sections") or None)


@operation("backup.restore")
async def backup_restore(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    changes = await node.backups.restore(_file(args), args.get("passphrase") or None,
                                         args.get("sections") or None, ACTOR)
    return {"changes": changes}


# --- shared folders ------------------------------------------------------------------------

def _shares(node: Node) -> list[dict[str, Any]]:
    return [share_json(node.storage, share) for share in _store(node).records(Share)]


def _running(node: Node, what: str) -> None:
    if not node.running:
        raise UserInputError(f"`share {what}` needs the device running (`openstation run`)")


@operation("share.list")
async def share_list(node: Node, _args: dict[str, Any]) -> list[dict[str, Any]]:
    return _shares(node)


@operation("share.create")
async def share_create(node: Node, args: dict[str, Any]) -> list[dict[str, Any]]:
    _running(node, "create")
    await node.storage.create_share(
        str(args["name"]), actor=ACTOR, encrypted=bool(args.get("encrypted")),
        passphrase=args.get("passphrase"), description=str(args.get("description", "")))
    return _shares(node)


@operation("share.delete")
async def share_delete(node: Node, args: dict[str, Any]) -> list[dict[str, Any]]:
    _running(node, "delete")
    await node.storage.delete_share(str(args["name"]), actor=ACTOR,
                                    confirm=bool(args.get("confirm")))
    return _shares(node)


@operation("share.mount")
async def share_mount(node: Node, args: dict[str, Any]) -> list[dict[str, Any]]:
    _running(node, "mount")
    key = args.get("key_file")
    await node.storage.mount(str(args["name"]), passphrase=args.get("passphrase"),
                             key_file=base64.b64decode(key) if key else None)
    return _shares(node)


@operation("share.unmount")
async def share_unmount(node: Node, args: dict[str, Any]) -> list[dict[str, Any]]:
    _running(node, "unmount")
    await node.storage.unmount(str(args["name"]))
    return _shares(node)


@operation("share.export_key")
async def share_export_key(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    body = await node.storage.export_key(str(args["name"]), str(args["passphrase"]))
    return {"file": base64.b64encode(body).decode()}


# --- file services ---------------------------------------------------------------------------

# SFTP and rsync (over SSH) share the SSH port.
SERVICES = {"smb": ("smb_enabled", "smb_port"), "sftp": ("sftp_enabled", "sftp_port"),
            "rsync": ("rsync_enabled", "sftp_port"), "webdav": ("webdav_enabled", "webdav_port")}


@operation("service.list")
async def service_list(node: Node, _args: dict[str, Any]) -> dict[str, Any]:
    return node.file_service_status()


@operation("service.set")
async def service_set(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    name = str(args.get("service", ""))
    if name not in SERVICES:
        raise UserInputError(f"no service {name!r}; services: {', '.join(SERVICES)}")
    enabled, port = SERVICES[name]
    changes: dict[str, Any] = {enabled: args.get("enabled"), port: args.get("port")}
    if name == "smb":
        changes["workgroup"] = args.get("workgroup")
    if name == "webdav":
        changes["webdav_https_port"] = args.get("https_port")
    node.file_services.set(ACTOR, **changes)
    await node.settle()  # the service has started, moved or stopped when this answers
    return node.file_service_status()


# --- Hyper Backup ----------------------------------------------------------------------------

def _hyper(node: Node) -> BackupEngine:
    engine = getattr(node, "hyper_backup", None)
    if not node.running or engine is None:
        raise UserInputError("Hyper Backup needs the device running (`openstation run`)")
    return cast(BackupEngine, engine)


def _task_json(engine: BackupEngine, task: BackupTask) -> dict[str, Any]:
    return {"task_id": task.task_id, "name": task.name, "sources": task.sources,
            "include_config": task.include_config, "destination": task.destination,
            "repository": task.repository, "rotation": task.rotation.value,
            "keep_versions": task.keep_versions, "schedule_days": task.schedule_days,
            "schedule_time": f"{task.schedule_hour:02d}:{task.schedule_minute:02d}",
            **{k: v for k, v in engine.status(task.task_id).items()
               if k not in ("task_id", "name")}}


@operation("hyperbackup.list")
async def hyperbackup_list(node: Node, _args: dict[str, Any]) -> list[dict[str, Any]]:
    engine = _hyper(node)
    return [_task_json(engine, task) for task in engine.service.tasks()]


@operation("hyperbackup.create")
async def hyperbackup_create(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    engine = _hyper(node)
    fields = {k: args[k] for k in ("sources", "include_config", "schedule_days",
                                   "schedule_hour", "schedule_minute", "rotation",
                                   "keep_versions", "remote_user", "remote_password",
                                   "remote_fingerprint", "check_days", "check_hour",
                                   "check_read_data", "key_passphrase")
              if args.get(k) is not None}
    password = str(args.get("password") or "")
    if args.get("key_file"):  # an exported key opens the repository instead
        password = password_from_key_file(_file(args, "key_file"))
    task = await engine.create(ACTOR, TaskRequest(
        name=str(args.get("name", "")), destination=str(args.get("destination", "")),
        password=password, **fields))
    return _task_json(engine, task)


@operation("hyperbackup.status")
async def hyperbackup_status(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    engine = _hyper(node)
    return _task_json(engine, engine.service.by_name(str(args.get("task", ""))))


@operation("hyperbackup.run")
async def hyperbackup_run(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    engine = _hyper(node)
    task = engine.service.by_name(str(args.get("task", "")))
    engine.backup(task.task_id)
    return _task_json(engine, task)


@operation("hyperbackup.cancel")
async def hyperbackup_cancel(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    engine = _hyper(node)
    task = engine.service.by_name(str(args.get("task", "")))
    engine.cancel(task.task_id)
    await engine.wait(task.task_id)
    return _task_json(engine, task)


@operation("hyperbackup.check")
async def hyperbackup_check(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    engine = _hyper(node)
    task = engine.service.by_name(str(args.get("task", "")))
    engine.check(task.task_id, read_data=bool(args.get("read_data")))
    return _task_json(engine, task)


@operation("hyperbackup.versions")
async def hyperbackup_versions(node: Node, args: dict[str, Any]) -> list[dict[str, Any]]:
    engine = _hyper(node)
    task = engine.service.by_name(str(args.get("task", "")))
    if args.get("version"):
        return await engine.files(task.task_id, str(args["version"]),
                                  str(args.get("folder") or "/"))
    return await engine.versions(task.task_id)


@operation("hyperbackup.restore")
async def hyperbackup_restore(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    engine = _hyper(node)
    task = engine.service.by_name(str(args.get("task", "")))
    version = str(args.get("version") or "latest")
    if args.get("config"):
        sections = args.get("sections") or None
        preview = await engine.restore_config(ACTOR, task.task_id, version, sections,
                                              preview=bool(args.get("preview")))
        return {"config": preview}
    return await engine.restore(ACTOR, task.task_id, version,
                                paths=list(args.get("paths") or []) or None,
                                target=args.get("target") or None,
                                conflict=str(args.get("conflict") or "overwrite"))


@operation("hyperbackup.vault")
async def hyperbackup_vault(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    engine = _hyper(node)
    if args.get("enabled") is not None:
        engine.service.set_vault(ACTOR, enabled=bool(args["enabled"]))
    vault = getattr(node, "vault", None)
    return {"enabled": engine.service.vault().enabled,
            "repositories": await offload.run(vault.repositories) if vault else []}


@operation("hyperbackup.export_key")
async def hyperbackup_export_key(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    engine = _hyper(node)
    task = engine.service.by_name(str(args.get("task", "")))
    return {"file": base64.b64encode(await engine.export_key(ACTOR, task.task_id)).decode()}


@operation("hyperbackup.key_manager")
async def hyperbackup_key_manager(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    engine = _hyper(node)
    task = engine.service.by_name(str(args.get("task", "")))
    await engine.keep_in_key_manager(ACTOR, task.task_id, str(args.get("passphrase") or ""))
    return _task_json(engine, task)


@operation("hyperbackup.delete")
async def hyperbackup_delete(node: Node, args: dict[str, Any]) -> dict[str, Any]:
    engine = _hyper(node)
    task = engine.delete(ACTOR, engine.service.by_name(str(args.get("task", ""))).task_id)
    return {"deleted": task.name, "repository": task.repository}


# --- Log Center ------------------------------------------------------------------------------

@operation("log")
async def log(node: Node, args: dict[str, Any]) -> list[dict[str, Any]]:
    resets = bool(args.get("resets"))
    entries = _store(node).audit_log(limit=int(args.get("limit", 50)),
                                     section="system" if resets else args.get("section"))
    if resets:
        entries = [e for e in entries if e.action == RESET_ACTION]
    return [{"id": e.id, "at": e.at, "actor": e.actor, "source": e.source,
             "action": e.action, "section": e.section, "key": e.key, "detail": e.detail}
            for e in entries]
