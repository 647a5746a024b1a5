"""rsync over SSH, in rsync's daemon mode: `rsync -e 'ssh -p PORT' SRC alice@nas::share/`.

The SSH server (sftp.py) has signed the user in with their DSM password; the client then
asks to run `rsync --server --daemon .`, and the device runs Debian's rsync in daemon mode
with a configuration made for that user alone: one module per shared folder they may read,
read-only unless they may write. rsync's daemon mode keeps each transfer inside its
module (chroot where the device runs as root; symbolic links munged), and the device's `@`
entries are excluded. rsync's plain remote-shell mode (`host:/path`) is refused: it would
let the client name any path.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
from collections.abc import Callable, Iterable
from pathlib import Path

import asyncssh

from openstation.config.sections import Share
from openstation.files import write_atomic
from openstation.fileserv.samba_conf import servable
from openstation.storage.permissions import READ_WRITE

DAEMON_REQUEST = ("rsync", "--server", "--daemon")
TIMEOUT = 600  # seconds of silence before rsync gives up on a client


def is_daemon_request(command: str | None) -> bool:
    """Whether an SSH exec request asks for rsync's daemon mode (what `host::module`
    sends: `rsync --server --daemon .`)."""
    words = (command or "").split()
    return tuple(words[:3]) == DAEMON_REQUEST and words[3:] in ([], ["."])


def config(shares: Iterable[tuple[Share, str]], volume: Path, uid: int, gid: int,
           chroot: bool, log: Path) -> str:
    """rsyncd.conf for one user: (share, right) for each share they may read (pure)."""
    lines = [
        "# Made by openstation for one SSH session; removed when it ends.",
        # Each file received or deleted, for HA replication: "recv|module|path".
        f"log file = {log}", "transfer logging = yes", "log format = %o|%m|%f",
        f"uid = {uid}", f"gid = {gid}", "numeric ids = yes",
        f"use chroot = {'yes' if chroot else 'no'}", "munge symlinks = yes",
        "list = yes", f"timeout = {TIMEOUT}", "max verbosity = 1",
        "exclude = @* .@*",  # the device's own entries: never sent, changed or deleted
        # The daemon runs as root: device nodes, FIFOs and set-id bits a client sends are
        # kept as plain files and attributes (a block device on the volume is the host's
        # disk; a FIFO hangs whoever opens it).
        "fake super = yes", "incoming chmod = ugo-s",
        "refuse options = write-devices",
        "",
    ]
    for share, right in sorted(shares, key=lambda pair: pair[0].name):
        if not servable(share.name) or "]" in share.name:
            continue
        lines += [f"[{share.name}]", f"  path = {volume / share.name}",
                  f"  read only = {'no' if right == READ_WRITE else 'yes'}", ""]
    return "\n".join(lines) + "\n"


def changes(log_text: str, volume: Path) -> list[Path]:
    """The files a session received or deleted, from its transfer log (pure)."""
    found = []
    for line in log_text.splitlines():
        _, _, entry = line.partition("] ")
        op, _, rest = entry.partition("|")
        module, _, path = rest.partition("|")
        if op in ("recv", "del.") and module and path and ".." not in path.split("/"):
            found.append(volume / module / path.rstrip("/"))
    return found


def _logged_changes(log: Path, volume: Path) -> list[Path]:
    """(A worker thread.) What the session's log names; the log is removed."""
    try:
        text = log.read_text(errors="replace")
    except FileNotFoundError:
        return []
    log.unlink()
    return changes(text, volume)


async def serve(process: asyncssh.SSHServerProcess[bytes],
                conf_text: Callable[[Path], str], runtime: Path, volume: Path,
                changed: Callable[[Path], None]) -> None:
    """Run rsync's daemon for one request, its input and output the SSH channel's; then
    report what it changed."""
    rsync = shutil.which("rsync")
    if rsync is None:
        process.stderr.write(b"rsync is not installed on this device\n")
        process.exit(1)
        return
    runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"rsyncd-{secrets.token_hex(8)}"
    conf, log = runtime / f"{name}.conf", runtime / f"{name}.log"
    await asyncio.to_thread(write_atomic, conf, conf_text(log).encode(), 0o600)
    try:
        child = await asyncio.create_subprocess_exec(
            rsync, "--server", "--daemon", f"--config={conf}", ".",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True)
        try:
            await process.redirect(stdin=child.stdin, stdout=child.stdout,
                                   stderr=child.stderr)
            code = await child.wait()
            await process.stdout.drain()
            process.exit(code)
        finally:
            if child.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                await child.wait()
    finally:
        with contextlib.suppress(FileNotFoundError):
            conf.unlink()
        found = await asyncio.to_thread(_logged_changes, log, volume)
        for n, path in enumerate(found):
            changed(path)
            if n % 500 == 499:
                await asyncio.sleep(0)  # 10,000 files: the loop serves others meanwhile
