"""restic, driven as a child process with `--json`: the engine under Hyper Backup.

The repository's password reaches restic in its environment (RESTIC_PASSWORD), never on
its command line; the environment of a process is readable only by its owner. Each child
dies with the device (setpriv's parent-death signal), so a killed device leaves no restic
holding the repository; its stale lock is cleared by the next run (`restic unlock`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openstation import offload
from openstation.errors import ConflictError, OpenStationError, UserInputError

STDERR_KEPT = 64 * 1024
LINE_LIMIT = 64 * 1024 * 1024  # `snapshots --json` is one line for every version
BIG_LINE = 64 * 1024
CREDENTIALS = re.compile(r"//[^/@\s]*:[^/@\s]*@")  # user:password@ in a URL
PARTIAL = 3  # restic backup: a snapshot was made, but some source files were unreadable


class ResticError(OpenStationError):
    """restic failed; the message says why in a user's words."""


class WrongPasswordError(UserInputError):
    """The repository exists, and the password given does not open it."""


class NoRepositoryError(UserInputError):
    """There is no restic repository at the location given."""


# rclone's "obscure": AES-CTR under a key published in rclone's source, so that a config
# is not readable at a glance. It is no protection (rclone reveals it); rclone wants a
# password so, and gets it in the environment of its own run only.
OBSCURE_KEY = bytes.fromhex("9c935b48730a554d6bfd7c63c886a92bd390198eb8128afbf4de162b8b95f638")


def obscured(password: str) -> str:
    """`rclone obscure PASSWORD`, without the password on a command line."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(OBSCURE_KEY), modes.CTR(iv)).encryptor()
    sealed = iv + encryptor.update(password.encode()) + encryptor.finalize()
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def available() -> str | None:
    """Why restic cannot run here, or None when it can."""
    return None if shutil.which("restic") else (
        "restic is not installed: install Debian's restic package")


@dataclass(frozen=True)
class Repository:
    """A restic repository and what opens it."""

    location: str = field(repr=False)  # a Vault's carries its account's password
    password: str = field(repr=False)
    cache_dir: Path | None = None  # None: restic runs without a cache
    extra_env: dict[str, str] = field(default_factory=dict, repr=False)  # rclone's remote
    cacert: Path | None = None  # the one certificate a rest:https:// server may have
    shown: str = ""  # the location as users see it (no credentials); "" for `location`

    def env(self) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8",
               "HOME": os.environ.get("HOME", "/"),
               "RESTIC_REPOSITORY": self.location, "RESTIC_PASSWORD": self.password,
               "RESTIC_PROGRESS_FPS": "2"}
        if self.cache_dir is not None:
            env["RESTIC_CACHE_DIR"] = str(self.cache_dir.absolute())  # runs have a cwd
        env.update(self.extra_env)
        return env

    def cache_args(self) -> list[str]:
        """restic's global options for this repository (cache, certificate)."""
        cache = [] if self.cache_dir is not None else ["--no-cache"]
        return cache + (["--cacert", str(self.cacert.absolute())] if self.cacert else [])


@dataclass
class Outcome:
    """How a restic command ended."""

    code: int
    stderr: str
    lines: list[dict[str, Any]]  # the JSON lines not handed to `on_line`


class Restic:
    """One restic command at a time per handle, which can be interrupted (SIGINT, so
    restic removes its lock and leaves the repository consistent)."""

    def __init__(self, repository: Repository) -> None:
        self.repository = repository
        self._process: asyncio.subprocess.Process | None = None
        self.interrupted = False

    async def run(self, *args: str, cwd: Path | None = None,
                  on_line: Callable[[dict[str, Any]], bool] | None = None,
                  check: bool = True) -> Outcome:
        """Run `restic ARGS --json`. Lines `on_line` takes (returns True for) are not
        kept. With `check`, a failure raises the error that explains it."""
        if self.interrupted:  # cancelled before this step began: it does not
            raise ConflictError("cancelled")
        # global options first: the command's own arguments may end with "--" paths
        argv = ["restic", "--json", *self.repository.cache_args(), *args]
        if shutil.which("setpriv"):
            argv = ["setpriv", "--pdeathsig", "KILL", "--", *argv]
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, cwd=cwd, env=self.repository.env(), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                limit=LINE_LIMIT, start_new_session=True)
        except FileNotFoundError as error:
            raise ResticError(available() or str(error)) from error
        self._process = process
        kept: list[dict[str, Any]] = []
        try:
            assert process.stdout is not None and process.stderr is not None
            errors = asyncio.ensure_future(_tail(process.stderr))
            async for raw in process.stdout:
                with contextlib.suppress(ValueError):
                    # `snapshots` of a long history is one line of megabytes: parsed
                    # off the loop
                    line = json.loads(raw) if len(raw) < BIG_LINE else \
                        await offload.run(json.loads, raw)
                    if isinstance(line, list):  # `snapshots`: one array
                        kept.extend(item for item in line if isinstance(item, dict))
                    elif isinstance(line, dict) and not (on_line and on_line(line)):
                        kept.append(line)
            code = await process.wait()
            stderr = await errors
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise
        finally:
            self._process = None
        outcome = Outcome(code, stderr, kept)
        if check and code != 0:
            raise self.error(outcome)
        return outcome

    def interrupt(self) -> None:
        """Stop the running command, and refuse any later one of this handle."""
        self.interrupted = True
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGINT)

    def redacted(self, text: str) -> str:
        """restic's words without the credentials a Vault's location carries."""
        where = self.repository.shown or self.repository.location
        return CREDENTIALS.sub("//", text.replace(self.repository.location, where))

    def error(self, outcome: Outcome) -> OpenStationError:
        """The error a failed command's stderr explains."""
        where = self.repository.shown or self.repository.location
        text = self.redacted(outcome.stderr)
        if "401 Unauthorized" in text or "(401)" in text:
            return WrongPasswordError(f"the Vault at {where} refused the account's sign-in")
        if "wrong password" in text:
            return WrongPasswordError(f"the password does not open the repository at {where}")
        if "Is there a repository at the following location?" in text or \
                "unable to open config file" in text:
            return NoRepositoryError(f"there is no backup repository at {where}")
        if "repository is already locked" in text:
            return ConflictError(f"the repository at {where} is in use by another backup")
        if "config file already exists" in text:
            return ConflictError(f"a repository already exists at {where}")
        last = [line for line in text.strip().splitlines() if line.strip()]
        return ResticError(f"restic failed ({outcome.code}): "
                           f"{last[-1] if last else 'no message'}")


async def _tail(stream: asyncio.StreamReader) -> str:
    """A stream's text, keeping its last STDERR_KEPT bytes."""
    kept = b""
    while chunk := await stream.read(65536):
        kept = (kept + chunk)[-STDERR_KEPT:]
    return kept.decode(errors="replace")
