"""The RESET button's state machine, every timing edge, with time passed in by hand."""

from __future__ import annotations

import pytest

from openstation.errors import IllegalTransition
from openstation.panel.button import Output, ResetButton, State

B1, B3, M1, M2, STUCK = (Output.BEEP_ONCE, Output.BEEP_THREE, Output.MODE_1, Output.MODE_2,
                         Output.IGNORED_STUCK)


class Finger:
    """Presses the button and lets time pass, collecting every output."""

    def __init__(self) -> None:
        self.button = ResetButton()
        self.now = 0.0
        self.outputs: list[Output] = []

    def wait(self, seconds: float, step: float = 0.01) -> None:
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.now = min(end, self.now + step)
            self.outputs += self.button.tick(self.now)

    def hold(self, seconds: float) -> None:
        self.outputs += self.button.press(self.now)
        self.wait(seconds)
        self.outputs += self.button.release(self.now)

    def settle(self, seconds: float = 15.0) -> list[Output]:
        self.wait(seconds)
        return self.outputs


def test_a_4_1_second_hold_beeps_once_and_then_mode_1_when_the_window_passes() -> None:
    f = Finger()
    f.hold(4.1)
    assert f.outputs == [B1]
    assert f.button.state is State.FIRST_ARMED  # the release is not yet confirmed (bounce)
    f.wait(0.1)
    assert f.button.state is State.WINDOW and f.button.view(f.now).window_open
    f.wait(9.8)
    assert M1 not in f.outputs  # the decision waits for the window's end
    assert f.settle() == [B1, M1]
    assert f.button.state is State.IDLE


def test_a_3_9_second_hold_does_nothing() -> None:
    f = Finger()
    f.hold(3.9)
    assert f.settle(30) == []


def test_the_beep_comes_at_the_threshold_while_still_pressed() -> None:
    f = Finger()
    f.outputs += f.button.press(0.0)
    f.wait(3.99)
    assert f.outputs == []
    f.wait(0.02)
    assert f.outputs == [B1]
    assert f.button.view(f.now).pressed


def test_a_second_hold_within_the_window_beeps_three_times_and_decides_mode_2() -> None:
    f = Finger()
    f.hold(4.1)
    f.wait(1.0)
    f.hold(4.1)
    assert f.outputs == [B1, B3]  # no decision mid-press, nor before the release settles
    assert f.settle() == [B1, B3, M2]


def test_second_hold_starting_at_9_9_seconds_counts_at_10_1_it_does_not() -> None:
    inside = Finger()
    inside.hold(4.1)
    inside.wait(9.9)
    inside.hold(4.1)
    assert inside.settle() == [B1, B3, M2]

    outside = Finger()
    outside.hold(4.1)
    outside.wait(10.1)
    assert outside.outputs == [B1, M1]  # the window ended: Mode 1 already decided
    outside.hold(4.1)  # a new first hold, which arms a new sequence
    assert outside.settle() == [B1, M1, B1, M1]


def test_a_short_second_hold_leaves_the_window_running_to_mode_1() -> None:
    f = Finger()
    f.hold(4.1)
    f.wait(2)
    f.hold(2)
    assert f.settle() == [B1, M1]


def test_a_window_ending_during_a_short_second_hold_decides_on_release() -> None:
    f = Finger()
    f.hold(4.1)
    f.wait(8)
    f.outputs += f.button.press(f.now)
    f.wait(3)  # the window ends at 10 s, mid-press: no decision yet
    assert f.outputs == [B1]
    f.outputs += f.button.release(f.now)
    assert f.settle() == [B1, M1]


def test_a_window_ending_during_an_armed_second_hold_still_gives_mode_2() -> None:
    f = Finger()
    f.hold(4.1)
    f.wait(9)
    f.hold(4.5)
    assert f.settle() == [B1, B3, M2]


def test_a_stuck_button_is_ignored() -> None:
    f = Finger()
    f.hold(31)
    assert f.settle(30) == [B1, STUCK]
    assert f.button.state is State.IDLE


def test_a_stuck_second_hold_drops_the_whole_sequence() -> None:
    f = Finger()
    f.hold(4.1)
    f.wait(1)
    f.hold(31)
    assert f.settle(30) == [B1, B3, STUCK]


def test_bounces_under_50_ms_are_filtered() -> None:
    f = Finger()
    f.outputs += f.button.press(0.0)
    f.wait(2.0)
    for _ in range(5):  # contact chatter mid-hold: 20 ms open, then closed again
        f.outputs += f.button.release(f.now)
        f.wait(0.02)
        f.outputs += f.button.press(f.now)
        f.wait(0.3)
    f.wait(0.6)
    f.outputs += f.button.release(f.now)
    assert f.outputs == [B1]  # one continuous 4+ s hold
    assert f.settle() == [B1, M1]


def test_a_flicker_shorter_than_50_ms_is_not_a_press() -> None:
    f = Finger()
    f.hold(0.03)
    assert f.settle() == []


def test_illegal_events_raise_one_named_error() -> None:
    button = ResetButton()
    with pytest.raises(IllegalTransition):
        button.release(0.0)
    button.press(0.0)
    with pytest.raises(IllegalTransition):
        button.press(1.0)


def test_next_deadline_tells_the_shell_when_to_tick() -> None:
    button = ResetButton()
    assert button.next_deadline() is None
    button.press(100.0)
    assert button.next_deadline() == pytest.approx(104.0)
    assert button.tick(104.0) == [B1]
    assert button.next_deadline() == pytest.approx(130.0)
    button.release(105.0)
    assert button.next_deadline() == pytest.approx(105.05)
    button.tick(105.05)
    assert button.next_deadline() == pytest.approx(115.0)
    assert button.tick(115.0) == [M1]
