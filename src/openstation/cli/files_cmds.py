"""`openstation files …`: File Station for scripts, through the running device's Web API
(signed in as a user, with that user's rights: the CLI is one more client of the device).

The device is the one whose data directory is given (its loopback port is read from
`system/running.json`) or any `--url`. The password comes from `--password`, the
OPENSTATION_PASSWORD environment variable, or a prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import aiohttp
import typer

from openstation.cli.common import DataDirOption, JsonOption, app, out
from openstation.datadir import DEFAULT_DATA_DIR, DataDir
from openstation.errors import DeviceNotRunningError, PeerError, UserInputError
from openstation.remote import normalise_url

files_app = typer.Typer(no_args_is_help=True,
                        help="File Station: ls, get, put, cp, mv, rm, find, link (as a user).")
app.add_typer(files_app, name="files")

UrlOption = Annotated[str | None, typer.Option(help="The device's address (default: the "
                                                    "running device of --data-dir).")]
UserOption = Annotated[str, typer.Option("--user", envvar="OPENSTATION_USER",
                                         help="The account to act as.")]
PasswordOption = Annotated[str | None, typer.Option(
    envvar="OPENSTATION_PASSWORD", help="Its password (else asked for).")]
OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="Replace what exists.")]
CHUNK = 1 << 20
MESSAGES = {105: "no permission", 106: "session timed out", 119: "not signed in",
            400: "invalid parameter", 402: "the device is busy", 407: "not permitted",
            408: "no such file or folder", 414: "it already exists", 416: "no space left",
            418: "illegal name or path", 599: "no such task", 1003: "it already exists "
            "(use --overwrite)", 1004: "a folder of that name exists", 1805: "it already "
            "exists (use --overwrite)", 2000: "no such link"}


class Files:
    """A signed-in File Station session over HTTP."""

    def __init__(self, base: str, http: aiohttp.ClientSession) -> None:
        self.base, self.http, self.sid = base, http, ""

    async def sign_in(self, user: str, password: str) -> None:
        answer = await self.call("SYNO.API.Auth", "login", 6, account=user, passwd=password,
                                 format="sid")
        self.sid = answer["sid"]

    async def call(self, api: str, method: str, version: int = 2, **params: Any) -> Any:
        fields = {"api": api, "method": method, "version": str(version),
                  **{k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}}
        if self.sid:
            fields["_sid"] = self.sid
        async with self.http.post(f"{self.base}/webapi/entry.cgi", data=fields) as response:
            answer = await response.json(content_type=None)
        if not answer.get("success"):
            raise UserInputError(explain(answer.get("error") or {}))
        return answer.get("data") or {}

    async def task(self, api: str, **params: Any) -> dict[str, Any]:
        """Start a background task and wait for its end."""
        started = await self.call(f"SYNO.FileStation.{api}", "start", 2, **params)
        while True:
            status: dict[str, Any] = await self.call(f"SYNO.FileStation.{api}", "status", 2,
                                                     taskid=started["taskid"])
            if status.get("finished"):
                return status
            await asyncio.sleep(0.1)

    async def upload(self, local: Path, folder: str, overwrite: bool) -> None:
        if not overwrite:  # asked first, as DSM's own uploader does: no body sent in vain
            try:
                await self.call("SYNO.FileStation.CheckPermission", "write", 3, path=folder,
                                filename=local.name)
            except UserInputError as exc:
                if "no such file" not in str(exc):  # a folder still to be made is fine
                    raise UserInputError(f"{local}: {exc}") from None

        async def body() -> AsyncIterator[bytes]:
            with open(local, "rb") as handle:
                while block := await asyncio.to_thread(handle.read, CHUNK):
                    yield block

        form = aiohttp.FormData()
        form.add_field("path", folder)
        form.add_field("create_parents", "true")
        form.add_field("overwrite", "true" if overwrite else "")
        form.add_field("file", body(), filename=local.name,
                       content_type="application/octet-stream")
        async with self.http.post(f"{self.base}/webapi/entry.cgi", params={
                "api": "SYNO.FileStation.Upload", "version": "2", "method": "upload",
                "_sid": self.sid}, data=form) as response:
            answer = await response.json(content_type=None)
        if not answer.get("success"):
            raise UserInputError(f"{local}: {explain(answer.get('error') or {})}")

    async def download(self, path: str, local: Path) -> int:
        params = {"api": "SYNO.FileStation.Download", "version": "2", "method": "download",
                  "mode": "download", "path": path, "_sid": self.sid}
        async with self.http.get(f"{self.base}/webapi/entry.cgi", params=params) as response:
            if response.content_type == "application/json":
                raise UserInputError(f"{path}: {explain((await response.json())['error'])}")
            written = 0
            with open(local, "wb") as sink:
                async for block in response.content.iter_chunked(CHUNK):
                    await asyncio.to_thread(sink.write, block)
                    written += len(block)
            return written


def explain(error: dict[str, Any]) -> str:
    inner = error.get("errors")
    details = inner if isinstance(inner, list) else []
    parts = [f"{d.get('path', d.get('id', ''))}: {MESSAGES.get(d.get('code', 0), d.get('code'))}"
             for d in details if isinstance(d, dict)]
    code = error.get("code", 0)
    head = MESSAGES.get(code, f"DSM error {code}")
    if isinstance(inner, dict) and inner.get("reason"):
        head += f" ({inner['reason']})"
    return head + (": " + "; ".join(parts) if parts else "")


def device_url(data_dir: Path, url: str | None) -> str:
    if url:
        return normalise_url(url)
    try:
        running = json.loads(DataDir(data_dir).runtime_file.read_text())
        return f"http://127.0.0.1:{running['ports']['http']}"
    except (OSError, ValueError, KeyError):
        raise DeviceNotRunningError(f"no device runs on {data_dir}: start it, or give "
                                    "--url") from None


def session(data_dir: Path, url: str | None, user: str, password: str | None,
            work: Any) -> Any:
    """Sign in, run `work(files)`, sign out."""
    base = device_url(data_dir, url)
    secret = password if password is not None else typer.prompt(f"Password of {user}",
                                                                 hide_input=True)

    async def run() -> Any:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=300)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            files = Files(base, http)
            try:
                await files.sign_in(user, secret)
                return await work(files)
            except (aiohttp.ClientError, OSError) as exc:
                raise PeerError(f"cannot reach {base}: {exc}") from None
            finally:
                if files.sid:
                    with contextlib.suppress(aiohttp.ClientError, UserInputError):
                        await files.call("SYNO.API.Auth", "logout", 6)

    return asyncio.run(run())


def remote(path: str) -> str:
    return "/" + path.strip("/")


@files_app.command("ls")
def files_ls(path: Annotated[str, typer.Argument(help="A folder, e.g. /photos/2024 "
                                                      "(/ lists the shared folders).")] = "/",
             data_dir: DataDirOption = DEFAULT_DATA_DIR, url: UrlOption = None,
             user: UserOption = "admin", password: PasswordOption = None,
             as_json: JsonOption = False) -> None:
    """List a folder, or the shared folders."""
    async def work(files: Files) -> list[dict[str, Any]]:
        if path.strip("/") == "":
            shares = await files.call("SYNO.FileStation.List", "list_share", 2,
                                      additional=["time"])
            return list(shares["shares"])
        listed = await files.call("SYNO.FileStation.List", "list", 2,
                                  folder_path=remote(path), additional=["size", "time"])
        return list(listed["files"])

    entries = session(data_dir, url, user, password, work)
    if as_json:
        out.print_json(json.dumps(entries))
        return
    for entry in entries:
        extra = entry.get("additional") or {}
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(
            (extra.get("time") or {}).get("mtime", 0)))
        size = "<dir>" if entry["isdir"] else str(extra.get("size", ""))
        out.print(f"{size:>14}  {when}  {entry['name']}{'/' if entry['isdir'] else ''}")


@files_app.command("get")
def files_get(path: str, target: Annotated[Path | None, typer.Argument(
                  help="Where to write it (default: its name here; a folder comes as .zip)."
              )] = None,
              data_dir: DataDirOption = DEFAULT_DATA_DIR, url: UrlOption = None,
              user: UserOption = "admin", password: PasswordOption = None) -> None:
    """Download a file, or a folder as a zip."""
    async def work(files: Files) -> tuple[Path, int]:
        info = await files.call("SYNO.FileStation.List", "getinfo", 2, path=remote(path))
        entry = info["files"][0]
        name = Path(entry["name"]).name + (".zip" if entry.get("isdir") else "")
        local = target if target is not None else Path(name)
        if local.is_dir():
            local = local / name
        return local, await files.download(remote(path), local)

    local, size = session(data_dir, url, user, password, work)
    out.print(f"{remote(path)} -> {local} ({size} bytes)")


@files_app.command("put")
def files_put(sources: Annotated[list[Path], typer.Argument(help="Local files.")],
              folder: Annotated[str, typer.Argument(help="The folder on the device.")],
              overwrite: OverwriteOption = False, data_dir: DataDirOption = DEFAULT_DATA_DIR,
              url: UrlOption = None, user: UserOption = "admin",
              password: PasswordOption = None) -> None:
    """Upload files into a folder (made if missing)."""
    for source in sources:
        if not source.is_file():
            raise UserInputError(f"{source} is not a file")

    async def work(files: Files) -> None:
        for source in sources:
            await files.upload(source, remote(folder), overwrite)
            out.print(f"{source} -> {remote(folder)}/{source.name}")

    session(data_dir, url, user, password, work)


def _transfer(sources: list[str], dest: str, overwrite: bool, move: bool, data_dir: Path,
              url: str | None, user: str, password: str | None) -> None:
    async def work(files: Files) -> dict[str, Any]:
        return await files.task("CopyMove", path=[remote(s) for s in sources],
                                dest_folder_path=remote(dest),
                                overwrite="true" if overwrite else "false",
                                remove_src="true" if move else "false")

    status = session(data_dir, url, user, password, work)
    out.print(f"{'moved' if move else 'copied'} {status.get('total', 0)} bytes to "
              f"{remote(dest)}")


@files_app.command("cp")
def files_cp(sources: Annotated[list[str], typer.Argument(help="Files or folders.")],
             dest: Annotated[str, typer.Argument(help="The destination folder.")],
             overwrite: OverwriteOption = False, data_dir: DataDirOption = DEFAULT_DATA_DIR,
             url: UrlOption = None, user: UserOption = "admin",
             password: PasswordOption = None) -> None:
    """Copy files or folders into a folder (existing ones are skipped unless --overwrite)."""
    _transfer(sources, dest, overwrite, False, data_dir, url, user, password)


@files_app.command("mv")
def files_mv(sources: Annotated[list[str], typer.Argument(help="Files or folders.")],
             dest: Annotated[str, typer.Argument(help="The destination folder.")],
             overwrite: OverwriteOption = False, data_dir: DataDirOption = DEFAULT_DATA_DIR,
             url: UrlOption = None, user: UserOption = "admin",
             password: PasswordOption = None) -> None:
    """Move files or folders into a folder."""
    _transfer(sources, dest, overwrite, True, data_dir, url, user, password)


@files_app.command("rm")
def files_rm(paths: Annotated[list[str], typer.Argument(help="Files or folders.")],
             data_dir: DataDirOption = DEFAULT_DATA_DIR, url: UrlOption = None,
             user: UserOption = "admin", password: PasswordOption = None) -> None:
    """Delete files or folders (with everything in them)."""
    async def work(files: Files) -> None:
        await files.call("SYNO.FileStation.Delete", "delete", 2,
                         path=[remote(p) for p in paths])

    session(data_dir, url, user, password, work)
    out.print(f"deleted {len(paths)} item(s)")


@files_app.command("find")
def files_find(folder: str, pattern: str, data_dir: DataDirOption = DEFAULT_DATA_DIR,
               url: UrlOption = None, user: UserOption = "admin",
               password: PasswordOption = None, as_json: JsonOption = False) -> None:
    """Search a folder and everything below it for names matching a pattern."""
    async def work(files: Files) -> list[dict[str, Any]]:
        started = await files.call("SYNO.FileStation.Search", "start", 2,
                                   folder_path=remote(folder), pattern=pattern)
        while True:
            found = await files.call("SYNO.FileStation.Search", "list", 2,
                                     taskid=started["taskid"], limit="-1",
                                     additional=["size"])
            if found["finished"]:
                await files.call("SYNO.FileStation.Search", "clean", 2,
                                 taskid=started["taskid"])
                return list(found["files"])
            await asyncio.sleep(0.1)

    found = session(data_dir, url, user, password, work)
    if as_json:
        out.print_json(json.dumps(found))
        return
    for entry in found:
        out.print(entry["path"] + ("/" if entry["isdir"] else ""))


@files_app.command("link")
def files_link(path: Annotated[str | None, typer.Argument(help="What to share.")] = None,
               link_password: Annotated[str | None, typer.Option(
                   "--link-password", help="Visitors must give it.")] = None,
               expires: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
               revoke: Annotated[str | None, typer.Option(help="A link id to revoke.")
                                 ] = None,
               data_dir: DataDirOption = DEFAULT_DATA_DIR, url: UrlOption = None,
               user: UserOption = "admin", password: PasswordOption = None,
               as_json: JsonOption = False) -> None:
    """Make a sharing link (PATH), list them (no PATH), or revoke one (--revoke ID)."""
    async def work(files: Files) -> Any:
        api = "SYNO.FileStation.Sharing"
        if revoke:
            return await files.call(api, "delete", 3, id=revoke)
        if path is None:
            return (await files.call(api, "list", 3))["links"]
        params: dict[str, str] = {"path": remote(path)}
        if link_password:
            params["password"] = link_password
        if expires:
            params["date_expired"] = expires
        made = (await files.call(api, "create", 3, **params))["links"][0]
        if made.get("error"):
            raise UserInputError(f"{path}: {explain({'code': made['error']})}")
        return [made]

    result = session(data_dir, url, user, password, work)
    if revoke:
        out.print(f"revoked {revoke}")
    elif as_json:
        out.print_json(json.dumps(result))
    else:
        for link in result:
            out.print(f"{link['id']}  {link['status']:<8} {link['path']}  {link['url']}")

