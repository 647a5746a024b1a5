"""Supervision of an external daemon (smbd): start it, read what it prints, restart it when
it dies, stop it with everything it forked.

The daemon runs in a process group of its own, so a stop (or a reset, which ends every
session) takes its per-connection children with it; and it gets SIGTERM if the device dies,
so no daemon outlives its device.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

PR_SET_PDEATHSIG = 1
BACKOFF = (1.0, 2.0, 5.0)  # seconds before each restart; one crash more and it has failed
STEADY = 60.0  # running this long resets the backoff
STOP_GRACE = 5.0


def die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Spec:
    """How to run the daemon."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


Event = Callable[[str, dict[str, object]], None]  # (what happened, details): Log Center


async def read_lines(stream: asyncio.StreamReader, tail: deque[str],
                     keep: Callable[[str], bool] = lambda _line: True) -> None:
    """Read a child's output to its end, keeping its last lines in `tail`: the pipe never
    fills (a child that writes to a full pipe stops)."""
    while True:
        try:
            raw = await stream.readline()
        except ValueError:  # a line beyond the stream's limit: skip what is buffered
            continue
        if not raw:
            return
        line = raw.decode(errors="replace").rstrip()
        if line and keep(line):
            tail.append(line)


class Supervisor:
    """Keeps one daemon running while wanted."""

    def __init__(self, spec: Spec, on_event: Event, clock: Callable[[], float]) -> None:
        self.spec = spec
        self.on_event = on_event
        self.clock = clock
        self.state = "stopped"  # starting, running, restarting, failed, stopped
        self.why = ""
        self.pid: int | None = None
        self.tail: deque[str] = deque(maxlen=20)  # its last lines, for a failure's reason
        self._process: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._wanted = False
        self._restart_now = asyncio.Event()

    def status(self) -> dict[str, object]:
        return {"state": self.state, "pid": self.pid, "why": self.why}

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._wanted = True
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"supervise {self.spec.name}")

    async def stop(self) -> None:
        """Stop the daemon and every process it started."""
        self._wanted = False
        await self._terminate()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.state, self.pid = "stopped", None

    async def restart(self) -> None:
        """End every session: the daemon and its children go, a fresh one starts."""
        if self._wanted:
            await self._terminate()

    def signal(self, number: int) -> None:
        """Send `number` to the daemon itself (SIGHUP: read the configuration again)."""
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(number)

    async def _run(self) -> None:
        failures = 0
        while self._wanted:
            started = self.clock()
            self.state = "starting"
            try:
                self._process = await asyncio.create_subprocess_exec(
                    *self.spec.argv, env={**os.environ, **self.spec.env},
                    stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT, start_new_session=True,
                    preexec_fn=die_with_parent)
            except OSError as exc:
                self.state, self.why = "failed", f"{self.spec.argv[0]} cannot start: {exc}"
                self.on_event("failed", {"why": self.why})
                return
            self.pid = self._process.pid
            self.state, self.why = "running", ""
            self.on_event("started", {"pid": self.pid})
            await self._read(self._process)
            code = await self._process.wait()
            self.pid = None
            if not self._wanted:
                return
            if self._restart_now.is_set():  # asked for (a reset): not a crash
                self._restart_now.clear()
                failures = 0
                continue
            failures = 0 if self.clock() - started > STEADY else failures + 1
            last = " / ".join(list(self.tail)[-3:])
            self.why = f"exited with code {code}" + (f": {last}" if last else "")
            self.on_event("exited", {"code": code, "last": last})
            if failures > len(BACKOFF):
                self.state = "failed"
                self.on_event("failed", {"why": self.why})
                return
            self.state = "restarting"
            await asyncio.sleep(BACKOFF[min(failures, len(BACKOFF)) - 1] if failures else 0)

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        await read_lines(process.stdout, self.tail)  # a failure's reason

    async def _terminate(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        self._restart_now.set()
        for sig, wait in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, STOP_GRACE)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                await asyncio.wait_for(process.wait(), wait)
                break
            except TimeoutError:
                continue
        with contextlib.suppress(ProcessLookupError):  # children that outlived their parent
            os.killpg(process.pid, signal.SIGKILL)
