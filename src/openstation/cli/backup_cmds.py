"""`openstation backup …`: Hyper Backup from the command line (a running device)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from openstation.cli.common import (
    DataDirOption,
    JsonOption,
    app,
    err,
    operate,
    out,
    write_private,
)
from openstation.datadir import DEFAULT_DATA_DIR

backup_app = typer.Typer(
    no_args_is_help=True,
    help="Hyper Backup: tasks that back up shared folders and the configuration with "
         "restic (create, list, run, cancel, status, versions, restore, check, delete).")
app.add_typer(backup_app, name="backup")

TaskArg = Annotated[str, typer.Argument(help="The task's name (or number).")]
DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def _when(epoch: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch)) if epoch else "-"


def _show(tasks: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(tasks))
        return
    from rich.table import Table

    table = Table("task", "name", "sources", "destination", "last result", "last backup",
                  "next", "check")
    for task in tasks:
        sources = [*task["sources"], *(["(configuration)"] if task["include_config"] else [])]
        result = task["last_result"] + (f": {task['last_error']}" if task["last_error"]
                                         else "")
        table.add_row(task["task_id"], task["name"], ", ".join(sources), task["destination"],
                      "running" if task["running"] else result, _when(task["last_end"]),
                      _when(task["next_run"]), task["check_result"] or "-")
    out.print(table)


def _days(text: str | None) -> list[int] | None:
    if not text:
        return None
    if text == "daily":
        return list(range(7))
    try:
        return sorted({DAYS[day.strip().lower()[:3]] for day in text.split(",")})
    except KeyError:
        raise typer.BadParameter("daily, or days such as mon,wed,fri") from None


@backup_app.command("create")
def backup_create(
    name: Annotated[str, typer.Argument(help="The task's name.")],
    destination: Annotated[str, typer.Option(
        help="A folder (a USB disk, a shared folder's path), rest:https://… of a Hyper "
             "Backup Vault, or webdav:https://… of a WebDAV folder.")],
    source: Annotated[list[str] | None, typer.Option(
        help="A shared folder, or share/folder (repeat for more).")] = None,
    config: Annotated[bool, typer.Option("--config/--no-config",
                                         help="Back up the system configuration too.")] = False,
    password: Annotated[str | None, typer.Option(
        envvar="OPENSTATION_BACKUP_PASSWORD",
        help="The repository's password (asked when left out, unless --key-file). Keep "
             "it: without it (or an exported key) no version can be restored after a "
             "Mode 2 reset.")] = None,
    key_file: Annotated[Path | None, typer.Option(
        help="Open an existing repository with a key exported by `backup export-key`.")
    ] = None,
    key_manager_passphrase: Annotated[str | None, typer.Option(
        envvar="OPENSTATION_KEY_PASSPHRASE",
        help="Open an existing repository with the password Key Manager keeps for it "
             "(`backup key-manager`), under this key-store passphrase.")] = None,
    schedule: Annotated[str | None, typer.Option(
        help="daily, or days such as mon,thu (with --at).")] = None,
    at: Annotated[str, typer.Option(help="The scheduled time, HH:MM.")] = "03:00",
    keep: Annotated[int | None, typer.Option(help="Keep the newest N versions.")] = None,
    smart: Annotated[bool, typer.Option(
        "--smart-recycle", help="Smart Recycle: hourly for a day, daily for a month, "
                                "weekly after (up to --keep versions).")] = False,
    check: Annotated[str | None, typer.Option(
        "--check-schedule", help="Check integrity on these days too (daily, mon,thu …).")
    ] = None,
    check_at: Annotated[int, typer.Option(help="The check's hour (0-23).")] = 4,
    check_read_data: Annotated[bool, typer.Option(
        "--check-read-data", help="Scheduled checks read every byte back.")] = False,
    vault_user: Annotated[str | None, typer.Option(
        help="With a Vault or WebDAV destination: the account there.")] = None,
    vault_password: Annotated[str | None, typer.Option(
        envvar="OPENSTATION_VAULT_PASSWORD",
        help="That account's password (or in OPENSTATION_VAULT_PASSWORD, out of `ps`).")
    ] = None,
    vault_fingerprint: Annotated[str | None, typer.Option(
        help="The SHA-256 fingerprint of its certificate (`openstation status` on an "
             "openstation device): the certificate is pinned to it.")] = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    as_json: JsonOption = False,
) -> None:
    """Make a task; an existing repository at the destination is opened with the password
    (a backup made before a reset), otherwise one is made. A Vault is named
    rest:https://HOST:5001/hyperbackup-vault/ACCOUNT/ with --vault-user, --vault-password
    and --vault-fingerprint."""
    hour, _, minute = at.partition(":")
    if not (hour.isdigit() and minute.isdigit()):
        raise typer.BadParameter("HH:MM", param_hint="--at")
    rotation = "smart" if smart else "newest" if keep else "all"
    key = base64.b64encode(key_file.read_bytes()).decode() if key_file else None
    if password is None and key is None and key_manager_passphrase is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    task = operate(data_dir, "hyperbackup.create", name=name, destination=destination,
                   password=password, key_file=key, key_passphrase=key_manager_passphrase,
                   sources=source or [],
                   include_config=config,
                   schedule_days=_days(schedule), schedule_hour=int(hour),
                   schedule_minute=int(minute), rotation=rotation,
                   keep_versions=keep, check_days=_days(check), check_hour=check_at,
                   check_read_data=check_read_data, remote_user=vault_user,
                   remote_password=vault_password, remote_fingerprint=vault_fingerprint)
    _show([task], as_json)


@backup_app.command("list")
def backup_list(data_dir: DataDirOption = DEFAULT_DATA_DIR,
                as_json: JsonOption = False) -> None:
    """Every task, with its last result and next run."""
    _show(operate(data_dir, "hyperbackup.list"), as_json)


@backup_app.command("status")
def backup_status(task: TaskArg, data_dir: DataDirOption = DEFAULT_DATA_DIR,
                  as_json: JsonOption = False) -> None:
    """One task: its last result, or how far the running backup is."""
    answer = operate(data_dir, "hyperbackup.status", task=task)
    if as_json:
        out.print_json(json.dumps(answer))
        return
    _show([answer], False)
    if answer["running"]:
        running = answer["running"]
        out.print(f"{running['kind']}: {running['progress']} % — {running['processed_files']} "
                  f"of {running['total_files']} files, {running['processed_size']} of "
                  f"{running['total_size']} bytes, ETA {running['eta_seconds'] or '?'} s")


def _follow(data_dir: Any, task: str) -> dict[str, Any]:
    """A progress bar until the task's run ends; Ctrl-C stops watching, not the run."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    answer: dict[str, Any] = operate(data_dir, "hyperbackup.status", task=task)
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  TextColumn("{task.fields[files]}"), TimeRemainingColumn(),
                  console=err, transient=True) as bar:
        shown = bar.add_task(answer["name"], total=None, files="")
        while answer["running"]:
            running = answer["running"]
            bar.update(shown, total=running["total_size"] or None,
                       completed=running["processed_size"],
                       files=f"{running['processed_files']}/{running['total_files']} files")
            time.sleep(0.5)
            answer = operate(data_dir, "hyperbackup.status", task=task)
    return answer


@backup_app.command("run")
def backup_run(task: TaskArg, data_dir: DataDirOption = DEFAULT_DATA_DIR,
               wait: Annotated[bool, typer.Option(
                   "--wait/--no-wait", help="Show progress until it ends.")] = True,
               as_json: JsonOption = False) -> None:
    """Back up now. The backup belongs to the device: leaving (Ctrl-C) does not stop it."""
    answer = operate(data_dir, "hyperbackup.run", task=task)
    if wait:
        try:
            answer = _follow(data_dir, task)
        except KeyboardInterrupt:
            err.print("stopped watching; the backup goes on (`openstation backup status`)")
            return
    _show([answer], as_json)
    if wait and answer["last_result"] not in ("done", "partial"):
        raise typer.Exit(1)


@backup_app.command("cancel")
def backup_cancel(task: TaskArg, data_dir: DataDirOption = DEFAULT_DATA_DIR,
                  as_json: JsonOption = False) -> None:
    """Stop a running backup or integrity check."""
    _show([operate(data_dir, "hyperbackup.cancel", task=task)], as_json)


@backup_app.command("check")
def backup_check(task: TaskArg, data_dir: DataDirOption = DEFAULT_DATA_DIR,
                 read_data: Annotated[bool, typer.Option(
                     "--read-data", help="Read every byte back too (slow).")] = False,
                 as_json: JsonOption = False) -> None:
    """Check the repository's integrity (restic check) and wait for the result."""
    operate(data_dir, "hyperbackup.check", task=task, read_data=read_data)
    answer = _follow(data_dir, task)
    _show([answer], as_json)
    if answer["check_result"] != "ok":
        raise typer.Exit(1)


@backup_app.command("versions")
def backup_versions(
    task: TaskArg, data_dir: DataDirOption = DEFAULT_DATA_DIR,
    version: Annotated[str | None, typer.Option(help="Browse this version's files.")] = None,
    folder: Annotated[str, typer.Option(help="The folder to list in it.")] = "/",
    as_json: JsonOption = False,
) -> None:
    """The task's versions, or the files of one."""
    found = operate(data_dir, "hyperbackup.versions", task=task, version=version,
                    folder=folder)
    if as_json:
        out.print_json(json.dumps(found))
        return
    from rich.table import Table

    if version:
        table = Table("path", "type", "size", "modified")
        for entry in found:
            table.add_row(entry["path"], entry["type"], str(entry["size"] or ""),
                          entry["mtime"][:19])
    else:
        table = Table("version", "time", "folders")
        for entry in found:
            table.add_row(entry["short_id"], entry["time"][:19], ", ".join(entry["paths"]))
    out.print(table)


@backup_app.command("restore")
def backup_restore(
    task: TaskArg, data_dir: DataDirOption = DEFAULT_DATA_DIR,
    version: Annotated[str, typer.Option(help="A version's id, or latest.")] = "latest",
    path: Annotated[list[str] | None, typer.Option(
        help="Only this share, folder or file (share/…; repeat for more).")] = None,
    target: Annotated[str | None, typer.Option(
        help="Into this folder (share/folder) instead of where they were.")] = None,
    conflict: Annotated[str, typer.Option(
        help="Where a file exists: overwrite, skip or keep_both.")] = "overwrite",
    config: Annotated[bool, typer.Option(
        "--config", help="Restore the system configuration instead of files.")] = False,
    section: Annotated[list[str] | None, typer.Option(
        help="With --config: only this section (repeat for more).")] = None,
    preview: Annotated[bool, typer.Option(
        "--preview", help="With --config: show what would change, change nothing.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Restore files or folders of a version, or its configuration."""
    answer = operate(data_dir, "hyperbackup.restore", task=task, version=version,
                     paths=path or [], target=target, conflict=conflict, config=config,
                     sections=section or None, preview=preview)
    if as_json:
        out.print_json(json.dumps(answer))
    elif config:
        out.print_json(json.dumps(answer["config"]))
    else:
        out.print(f"restored {answer['restored']} files, skipped {answer['skipped']}, "
                  f"kept both for {answer['renamed']}")


@backup_app.command("export-key")
def backup_export_key(
    task: TaskArg,
    output: Annotated[Path, typer.Option("-o", "--output", help="The key file to write.")],
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
) -> None:
    """Export a key that opens the task's repository without its password (a new restic
    key in it). Keep the file apart from the device: with it, a reinstalled device reaches
    the versions again (`backup create … --key-file FILE`)."""
    answer = operate(data_dir, "hyperbackup.export_key", task=task)
    write_private(output, base64.b64decode(answer["file"]))
    out.print(f"key written to {output} (only you can read it)")


@backup_app.command("key-manager")
def backup_key_manager(
    task: TaskArg,
    passphrase: Annotated[str, typer.Option(
        prompt=True, hide_input=True, confirmation_prompt=True,
        help="The key-store passphrase (8+ characters; asked when left out).")],
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
) -> None:
    """Keep the task's repository password in Key Manager, under a passphrase: it travels
    in configuration backups and the daily snapshot on volume1, so after a Mode 2 reset
    (`install --restore-latest`) `backup create … --key-manager-passphrase` opens it."""
    operate(data_dir, "hyperbackup.key_manager", task=task, passphrase=passphrase)
    out.print("kept in Key Manager; today's configuration snapshot on volume1 carries it")


@backup_app.command("delete")
def backup_delete(task: TaskArg, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Delete the task; its repository and versions stay at the destination."""
    answer = operate(data_dir, "hyperbackup.delete", task=task)
    out.print(f"deleted task {answer['deleted']}; its versions stay in {answer['repository']}")


@backup_app.command("vault")
def backup_vault(
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    on: Annotated[bool | None, typer.Option(
        "--on/--off", help="Be (or stop being) other devices' backup destination.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Hyper Backup Vault: this device as a destination of other devices' tasks, over
    HTTPS at /hyperbackup-vault/ACCOUNT/, each account in repositories of its own."""
    answer = operate(data_dir, "hyperbackup.vault", enabled=on)
    if as_json:
        out.print_json(json.dumps(answer))
        return
    out.print(f"Hyper Backup Vault: {'on' if answer['enabled'] else 'off'}")
    for repo in answer["repositories"]:
        out.print(f"  {repo['account']}/{repo['name']}")
