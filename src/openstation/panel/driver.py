"""Drives the RESET button machine in real time and turns its outputs into beeps and
reset decisions (the shell around panel/button.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from openstation.panel.button import Output, ResetButton
from openstation.panel.indicators import Indicators

log = logging.getLogger(__name__)


class PanelDriver:
    """The virtual front panel's button: press and release it; it ticks itself."""

    def __init__(self, indicators: Indicators, on_decision: Callable[[int], None],
                 monotonic: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.indicators = indicators
        self.on_decision = on_decision
        self.monotonic = monotonic
        self.wall = wall
        self.button = ResetButton()
        self.events: list[dict[str, Any]] = []
        self._timer: asyncio.TimerHandle | None = None

    def press(self) -> None:
        self._handle(self.button.press(self.monotonic()))

    def release(self) -> None:
        self._handle(self.button.release(self.monotonic()))

    def view(self) -> dict[str, Any]:
        view = self.button.view(self.monotonic())
        return {"state": view.state, "pressed": view.pressed,
                "held_for": round(view.held_for, 3), "window_open": view.window_open,
                "window_left": round(view.window_left, 3), "events": self.events[-10:]}

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        self._timer = None
        self._handle(self.button.tick(self.monotonic()))

    def _handle(self, outputs: list[Output]) -> None:
        for output in outputs:
            self.events.append({"at": self.wall(), "event": output.value})
            if output is Output.BEEP_ONCE:
                self.indicators.beep(self.wall(), "RESET held 4 s")
            elif output is Output.BEEP_THREE:
                self.indicators.beep(self.wall(), "RESET held again 4 s", count=3)
            elif output is Output.IGNORED_STUCK:
                log.warning("RESET held over 30 s: ignored as a stuck button")
            elif output is Output.MODE_1:
                self.on_decision(1)
            elif output is Output.MODE_2:
                self.on_decision(2)
        del self.events[:-50]
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.button.next_deadline()
        if deadline is not None:
            delay = max(0.0, deadline - self.monotonic())
            self._timer = asyncio.get_running_loop().call_later(delay, self._tick)
