"""The RESET button: a pure state machine fed with press/release events and a clock.

This file holds every transition, in one table, as h11 does for HTTP. Time is an argument
(seconds, any monotonic origin); nothing here sleeps or reads a clock. The shell calls
`tick(now)` at `next_deadline()` so that thresholds give their feedback on time.

DSM 6.2's sequence (seed, DESIGN.md §4):

    hold ~4 s          -> one beep; releasing now arms a reset and opens a 10 s window
    hold again ~4 s    -> three beeps; releasing now decides Mode 2
    (window passes)    -> Mode 1

- A hold shorter than the threshold does nothing (a short second hold leaves the window open).
- A hold longer than 30 s is a stuck button: the whole sequence is dropped, nothing happens.
- Bounces are filtered: a release followed by a press within 50 ms is one continuous hold,
  and a press shorter than 50 ms is not a press at all.
- Decisions are taken on a release or at the end of the window, never in the middle of a
  press; a window that ends during a second hold waits for its release.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from openstation.errors import IllegalTransition

HOLD_SECONDS = 4.0
WINDOW_SECONDS = 10.0
STUCK_SECONDS = 30.0
BOUNCE_SECONDS = 0.05


class State(enum.Enum):
    IDLE = "idle"
    FIRST_HOLD = "first hold"  # pressed, not yet 4 s
    FIRST_ARMED = "first armed"  # pressed past 4 s: one beep given
    WINDOW = "window"  # released after the first beep: the 10 s window is open
    SECOND_HOLD = "second hold"  # pressed again inside the window
    SECOND_ARMED = "second armed"  # pressed again past 4 s: three beeps given
    STUCK = "stuck"  # held past 30 s: ignored until released


class Event(enum.Enum):
    PRESS = "press"
    RELEASE = "release"  # a release confirmed (no bounce within 50 ms)
    HOLD_REACHED = "hold reached"  # the current press reached 4 s
    STUCK_REACHED = "stuck reached"  # the current press reached 30 s
    WINDOW_ENDED = "window ended"


class Output(enum.Enum):
    BEEP_ONCE = "beep once"
    BEEP_THREE = "beep three times"
    MODE_1 = "mode 1"
    MODE_2 = "mode 2"
    IGNORED_STUCK = "ignored: stuck button"


# (state, event) -> (next state, outputs). Anything missing is an IllegalTransition.
TRANSITIONS: dict[tuple[State, Event], tuple[State, tuple[Output, ...]]] = {
    (State.IDLE, Event.PRESS): (State.FIRST_HOLD, ()),
    (State.FIRST_HOLD, Event.RELEASE): (State.IDLE, ()),  # too short: nothing
    (State.FIRST_HOLD, Event.HOLD_REACHED): (State.FIRST_ARMED, (Output.BEEP_ONCE,)),
    (State.FIRST_ARMED, Event.RELEASE): (State.WINDOW, ()),
    (State.FIRST_ARMED, Event.STUCK_REACHED): (State.STUCK, (Output.IGNORED_STUCK,)),
    (State.WINDOW, Event.PRESS): (State.SECOND_HOLD, ()),
    (State.WINDOW, Event.WINDOW_ENDED): (State.IDLE, (Output.MODE_1,)),
    (State.SECOND_HOLD, Event.RELEASE): (State.WINDOW, ()),  # too short: window goes on
    (State.SECOND_HOLD, Event.HOLD_REACHED): (State.SECOND_ARMED, (Output.BEEP_THREE,)),
    (State.SECOND_HOLD, Event.WINDOW_ENDED): (State.SECOND_HOLD, ()),  # decide on release
    (State.SECOND_ARMED, Event.RELEASE): (State.IDLE, (Output.MODE_2,)),
    (State.SECOND_ARMED, Event.WINDOW_ENDED): (State.SECOND_ARMED, ()),
    (State.SECOND_ARMED, Event.STUCK_REACHED): (State.STUCK, (Output.IGNORED_STUCK,)),
    (State.STUCK, Event.RELEASE): (State.IDLE, ()),
    (State.STUCK, Event.WINDOW_ENDED): (State.STUCK, ()),
}


@dataclass
class ButtonView:
    """What `panel status` shows of the button."""

    state: str
    pressed: bool
    held_for: float
    window_open: bool
    window_left: float


class ResetButton:
    """Feed it `press`, `release` and `tick`; each returns what the panel must do."""

    def __init__(self) -> None:
        self.state = State.IDLE
        self.pressed_at: float | None = None  # start of the current press
        self.window_ends: float | None = None
        self.window_ended = False  # the window ended during a second hold
        self._release_at: float | None = None  # a release waiting out the bounce time

    # --- inputs --------------------------------------------------------------------------

    def press(self, now: float) -> list[Output]:
        """The button went down."""
        if self._release_at is not None and now - self._release_at < BOUNCE_SECONDS:
            self._release_at = None  # a bounce: the hold never stopped
            return []
        outputs = self._settle(now)
        if self.pressed_at is not None:
            raise IllegalTransition("press while the button is already down")
        self.pressed_at = now
        return outputs + self._fire(Event.PRESS)

    def release(self, now: float) -> list[Output]:
        """The button came up (confirmed after the bounce time, by `tick` or the next event)."""
        outputs = self._settle(now)
        if self.pressed_at is None or self._release_at is not None:
            raise IllegalTransition("release while the button is up")
        self._release_at = now
        return outputs

    def tick(self, now: float) -> list[Output]:
        """Let time pass: thresholds, a pending release, the end of the window."""
        return self._settle(now)

    def next_deadline(self) -> float | None:
        """When `tick` must next be called for feedback and decisions to be on time."""
        candidates: list[float] = []
        if self._release_at is not None:
            candidates.append(self._release_at + BOUNCE_SECONDS)
        if self.pressed_at is not None:
            if self.state in (State.FIRST_HOLD, State.SECOND_HOLD):
                candidates.append(self.pressed_at + HOLD_SECONDS)
            elif self.state in (State.FIRST_ARMED, State.SECOND_ARMED):
                candidates.append(self.pressed_at + STUCK_SECONDS)
        if self.window_ends is not None and not self.window_ended:
            candidates.append(self.window_ends)
        return min(candidates) if candidates else None

    def view(self, now: float) -> ButtonView:
        held = now - self.pressed_at if self.pressed_at is not None else 0.0
        window_open = self.window_ends is not None and not self.window_ended
        left = max(0.0, self.window_ends - now) if self.window_ends is not None else 0.0
        return ButtonView(self.state.value, self.pressed_at is not None, held, window_open,
                          left if window_open else 0.0)

    # --- the clockwork -------------------------------------------------------------------

    def _settle(self, now: float) -> list[Output]:
        """Fire, in time order, every event whose moment has come by `now`."""
        outputs: list[Output] = []
        while True:
            due = self._due_events()
            if not due:
                return outputs
            at, event = min(due, key=lambda item: item[0])
            if at > now:
                return outputs
            outputs += self._apply(event, at)

    def _due_events(self) -> list[tuple[float, Event]]:
        due: list[tuple[float, Event]] = []
        if self._release_at is not None:
            due.append((self._release_at + BOUNCE_SECONDS, Event.RELEASE))
        if self.pressed_at is not None:
            if self.state in (State.FIRST_HOLD, State.SECOND_HOLD):
                due.append((self.pressed_at + HOLD_SECONDS, Event.HOLD_REACHED))
            if self.state in (State.FIRST_ARMED, State.SECOND_ARMED):
                due.append((self.pressed_at + STUCK_SECONDS, Event.STUCK_REACHED))
        if self.window_ends is not None and not self.window_ended:
            due.append((self.window_ends, Event.WINDOW_ENDED))
        return due

    def _apply(self, event: Event, at: float) -> list[Output]:
        if event is Event.RELEASE:
            released_at, self._release_at = self._release_at, None
            previous = self.state
            outputs = self._fire(Event.RELEASE)
            self.pressed_at = None
            if previous is State.FIRST_ARMED and released_at is not None:
                self.window_ends = released_at + WINDOW_SECONDS  # the window opens
            if self.state is State.WINDOW and self.window_ended:
                # A short second hold outlived the window: decide now, on its release.
                outputs += self._fire(Event.WINDOW_ENDED)
            return outputs
        if event is Event.WINDOW_ENDED:
            self.window_ended = True
        return self._fire(event)

    def _fire(self, event: Event) -> list[Output]:
        try:
            next_state, outputs = TRANSITIONS[(self.state, event)]
        except KeyError:
            raise IllegalTransition(f"{event.value} while {self.state.value}") from None
        self.state = next_state
        if next_state is State.IDLE:
            self.window_ends = None
            self.window_ended = False
        return list(outputs)
