"""The reset engine: Mode 1 and Mode 2 as the RESET button decides them, crash-safely.

Order: journal the intent (durably, before any change), tell the cluster peers, apply Mode 1
in one transaction, end every session and unmount every encrypted share; for Mode 2 then
journal again, stop the services, wipe the system partition and boot again in-process. Each
step is idempotent, so `open_system` finishes at boot whatever a power cut interrupted.

Every step that waits on the disk (journal writes, the Mode 1 commit, the wipe, opening the
new system partition) runs in the worker pool: the panel, LEDs and the Web API stay live.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from openstation import offload
from openstation.config import restore as restores
from openstation.config.store import ConfigStore
from openstation.datadir import DataDir
from openstation.device_facts import initial_state
from openstation.errors import ResetRefused
from openstation.failpoints import failpoint
from openstation.hardware import Hardware
from openstation.lifecycle import journal as journals
from openstation.lifecycle.journal import MODE1_DONE, WIPED, Journal
from openstation.lifecycle.reset import apply_mode1, new_journal, record_mode2, refusal
from openstation.lifecycle.state import DeviceState
from openstation.lifecycle.status import Status
from openstation.security.machine_key import MachineKey

log = logging.getLogger(__name__)


class Host(Protocol):
    """What the engine needs of the device it resets."""

    data_dir: DataDir
    state: DeviceState
    clock: Callable[[], float]

    @property
    def store(self) -> ConfigStore | None: ...

    async def leave_clusters(self, trigger: str) -> None: ...

    def end_sessions(self) -> None: ...

    async def settle(self) -> None: ...

    async def shutdown_services(self) -> None: ...

    async def boot(self) -> None: ...


@dataclass
class Opened:
    """The system partition as boot found it."""

    store: ConfigStore
    finished_reset: dict[str, Any] | None  # the reset a power cut interrupted, finished


def open_system(data_dir: DataDir, hardware: Hardware, clock: Callable[[], float]) -> Opened:
    """Boot's disk work (in a worker thread): finish an interrupted wipe, open the store,
    finish an interrupted reset or restore."""
    pending = journals.read(data_dir.reset_journal)
    if pending is not None and pending.mode == 2 and pending.phase != WIPED:
        wipe(data_dir, pending)  # power failed before the wipe was through: do it now
    store = ConfigStore.open(data_dir.config_db, hardware, clock=clock,
                             initial_state=initial_state(data_dir))
    finished = None
    if pending is not None:
        if pending.mode == 1:
            report = apply_mode1(store, pending)
        else:
            record_mode2(store, pending)
            report = pending.report
        journals.clear(data_dir.reset_journal)
        finished = summary(pending, report)
    finish_restore(store, data_dir)
    return Opened(store, finished)


def finish_restore(store: ConfigStore, data_dir: DataDir) -> None:
    """Replay a restore whose commit the power may have cut off (idempotent)."""
    pending = restores.read_journal(data_dir.restore_journal)
    if pending is None:
        return
    key = MachineKey.load_or_create(data_dir.machine_key)
    restores.apply(store, pending["content"], pending["sections"], key, pending["actor"],
                   pending["id"])
    data_dir.restore_journal.unlink()


def wipe(data_dir: DataDir, pending: Journal) -> None:
    """Mode 2's wipe of the system partition, and its record in the journal."""
    data_dir.wipe_system()
    failpoint("wiped")
    pending.phase = WIPED
    journals.write(data_dir.reset_journal, pending)
    failpoint("wipe-journaled")


def summary(pending: Journal, report: dict[str, Any]) -> dict[str, Any]:
    return {"id": pending.id, "mode": pending.mode, "trigger": pending.trigger,
            "at": pending.decided_at, "plan": pending.plan, "changes": report}


class ResetEngine:
    """Runs resets for one device, one at a time."""

    def __init__(self, host: Host,
                 spawn: Callable[[Coroutine[Any, Any, Any]], None]) -> None:
        self.host = host
        self.spawn = spawn
        self.resetting = False
        self.last: dict[str, Any] | None = None
        self.refused: dict[str, Any] | None = None

    def why_not(self, mode: int) -> str | None:
        """Why a reset of `mode` cannot start now, or None."""
        if self.resetting:
            return "a reset is already in progress"
        return refusal(self.host.state.status, mode)

    def start(self, mode: int, trigger: str) -> None:
        """Run a reset in the background (its caller cannot wait: Mode 2 reboots)."""
        self.spawn(self._logged(mode, trigger))

    async def _logged(self, mode: int, trigger: str) -> None:
        try:
            await self.reset(mode, trigger)
        except ResetRefused as refused:
            self.refused = {"at": self.host.clock(), "mode": mode, "reason": str(refused)}
            log.warning("reset refused: %s", refused)
        except Exception as exc:  # the journal finishes it at the next boot
            self.refused = {"at": self.host.clock(), "mode": mode,
                            "reason": f"the reset failed ({exc}); restart the device to "
                                      "finish it"}
            log.exception("reset failed")

    async def reset(self, mode: int, trigger: str) -> dict[str, Any]:
        """Mode 1 or Mode 2, crash-safely: journal first, then each idempotent step."""
        why = self.why_not(mode)
        if why is not None:
            raise ResetRefused(why)
        host, data_dir = self.host, self.host.data_dir
        store = host.store
        assert store is not None
        self.resetting = True
        try:
            pending = new_journal(mode, trigger, host.clock())
            await offload.run(journals.write, data_dir.reset_journal, pending)
            failpoint("journal-written")
            # Peers are told before the local reset; a power cut in between leaves them
            # to notice the silence (the journal still completes the reset at boot).
            await host.leave_clusters(trigger)
            report = await offload.run(apply_mode1, store, pending)
            failpoint("mode1-committed")
            host.end_sessions()  # every session, and item 9: encrypted folders unmounted
            if mode == 1:
                await offload.run(journals.clear, data_dir.reset_journal)
                self.last = summary(pending, report)
                await host.settle()  # the listeners are back on 5000/5001 when this returns
                return self.last
            pending.phase, pending.report = MODE1_DONE, report
            await offload.run(journals.write, data_dir.reset_journal, pending)
            failpoint("mode1-journaled")
            await host.shutdown_services()
            host.state.set(Status.BOOTING)
            await offload.run(wipe, data_dir, pending)
            await host.boot()
            assert self.last is not None
            return self.last
        finally:
            self.resetting = False
