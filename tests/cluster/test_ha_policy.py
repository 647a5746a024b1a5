"""The pair's decisions, with a fake clock: takeover only with quorum and a full copy; the
higher epoch stays active; an isolated active gives the cluster address up."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openstation.cluster.ha_policy import Action, View, decide, incompatibility, peer_lost

BASE = View(role="passive", epoch=3, in_sync=True, serving=False, since=0.0,
            peer_seen_at=100.0, peer_role="active", peer_epoch=3, peer_wins_tie=False,
            quorum=None, failover_timeout=5.0)


def view(**changes: object) -> View:
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def test_a_passive_waits_while_the_active_answers_and_until_the_timeout() -> None:
    assert decide(view(), 104.9)[0] is Action.NONE
    assert decide(view(quorum=True), 104.9)[0] is Action.NONE  # not yet 5 s of silence
    assert decide(view(quorum=True), 105.0)[0] is Action.TAKE_OVER


@pytest.mark.parametrize(("quorum", "in_sync", "expected"), [
    (True, True, Action.TAKE_OVER),
    (False, True, Action.NONE),  # cannot see the quorum reference: maybe it is the isolated one
    (None, True, Action.NONE),  # not probed yet
    (True, False, Action.NONE),  # out of date: taking over would lose committed writes
])
def test_takeover_needs_the_quorum_reference_and_a_full_copy(
        quorum: bool | None, in_sync: bool, expected: Action) -> None:
    action, why = decide(view(quorum=quorum, in_sync=in_sync), 200.0)
    assert action is expected
    if not in_sync and quorum:
        assert "out of date" in why


def test_silence_counts_from_the_start_when_the_peer_was_never_seen() -> None:
    never = view(peer_seen_at=None, since=50.0, quorum=True)
    assert decide(never, 54.0)[0] is Action.NONE
    assert decide(never, 55.0)[0] is Action.TAKE_OVER


def test_an_active_serves_once_the_peer_is_passive_or_silent_with_quorum() -> None:
    booting = view(role="active", serving=False, peer_role="passive")
    assert decide(booting, 101.0)[0] is Action.SERVE
    alone = view(role="active", serving=False, peer_seen_at=None, since=0.0)
    assert decide(alone, 3.0)[0] is Action.NONE  # waits for the peer's word first
    assert decide(dataclasses.replace(alone, quorum=True), 6.0)[0] is Action.SERVE
    assert decide(dataclasses.replace(alone, quorum=False), 6.0)[0] is Action.NONE


def test_an_isolated_active_gives_the_address_up_and_a_degraded_one_keeps_it() -> None:
    serving = view(role="active", serving=True, peer_role="passive")
    assert decide(dataclasses.replace(serving, quorum=False), 200.0)[0] is Action.STOP_SERVING
    assert decide(dataclasses.replace(serving, quorum=True), 200.0)[0] is Action.NONE


def test_of_two_actives_the_higher_epoch_stays() -> None:
    old = view(role="active", epoch=3, serving=False, peer_role="active", peer_epoch=4)
    assert decide(old, 101.0)[0] is Action.DEMOTE
    new = view(role="active", epoch=4, serving=True, peer_role="active", peer_epoch=3)
    assert decide(new, 101.0)[0] is Action.NONE
    tie = view(role="active", epoch=4, serving=True, peer_role="active", peer_epoch=4)
    assert decide(dataclasses.replace(tie, peer_wins_tie=True), 101.0)[0] is Action.DEMOTE
    assert decide(tie, 101.0)[0] is Action.NONE


def test_a_partner_must_be_another_ready_unclustered_device_of_the_same_model_and_version(
) -> None:
    good = {"serial": "B", "status": "Ready", "model": "DS918+", "version": "DSM 6.2.4",
            "clustered": False}
    assert incompatibility(good, "A", "DS918+", "DSM 6.2.4") is None
    cases = {"serial": ("A", "this device"), "status": ("Not installed", "not Ready"),
             "model": ("DS220+", "same model"), "version": ("DSM 7.0", "update one"),
             "clustered": (True, "already in a high-availability cluster")}
    for field, (value, reason) in cases.items():
        why = incompatibility({**good, field: value}, "A", "DS918+", "DSM 6.2.4")
        assert why is not None and reason in why, field


views = st.builds(
    View, role=st.sampled_from(["active", "passive"]), epoch=st.integers(0, 5),
    in_sync=st.booleans(), serving=st.booleans(), since=st.floats(0, 100),
    peer_seen_at=st.none() | st.floats(0, 100),
    peer_role=st.none() | st.sampled_from(["active", "passive"]),
    peer_epoch=st.integers(0, 5), peer_wins_tie=st.booleans(),
    quorum=st.none() | st.booleans(), failover_timeout=st.floats(0.2, 30))


@given(views, st.floats(0, 200))
def test_no_decision_risks_a_split_brain_or_a_lost_write(view: View, now: float) -> None:
    action, why = decide(view, now)
    assert why
    if action is Action.TAKE_OVER:  # only a passive with a full copy that sees the quorum
        assert view.role == "passive" and view.in_sync and view.quorum is True
        assert peer_lost(view, now)
    if action is Action.SERVE:  # only with the peer's word, or with the quorum's
        assert view.role == "active" and not view.serving
        assert view.peer_role == "passive" or view.quorum is True
    if view.role == "active" and view.serving and view.quorum is False and \
            peer_lost(view, now):
        assert action is Action.STOP_SERVING  # an isolated active never keeps the address
    if action is Action.DEMOTE:
        assert view.role == "active" and view.peer_role == "active"
