"""What a node of a High Availability pair does next: a pure decision, with injected time.

A node that cannot see its peer takes over (or keeps serving) only while it can reach the
quorum reference; otherwise two nodes that cannot see each other could both serve the
cluster address (split brain). A passive takes over only if it holds every change the
active acknowledged, and of two actives the one with the higher epoch stays active.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Action(enum.Enum):
    NONE = "none"
    TAKE_OVER = "take over"  # passive -> active, epoch + 1, serve the cluster address
    DEMOTE = "demote"  # active -> passive (out of date until resynced)
    SERVE = "serve"  # an active starts serving the cluster address
    STOP_SERVING = "stop serving"  # an isolated active gives the cluster address up


@dataclass(frozen=True)
class View:
    """What a node knows at one instant."""

    role: str  # "active" or "passive"
    epoch: int
    in_sync: bool  # a passive: holds every change the active acknowledged
    serving: bool  # holds the cluster address and name
    since: float  # when the node started watching (boot, bind, role change)
    peer_seen_at: float | None  # last heartbeat either way
    peer_role: str | None
    peer_epoch: int
    peer_wins_tie: bool  # same epoch, both active: the lower serial stays active
    quorum: bool | None  # reachability of the quorum reference, if probed
    failover_timeout: float


def peer_lost(view: View, now: float) -> bool:
    last = view.peer_seen_at if view.peer_seen_at is not None else view.since
    return now - last >= view.failover_timeout


def decide(view: View, now: float) -> tuple[Action, str]:
    """The next action and why (the why is shown in `ha status`)."""
    if not peer_lost(view, now):
        if view.role == "active" and view.peer_role == "active":
            if view.peer_epoch > view.epoch or (view.peer_epoch == view.epoch
                                                and view.peer_wins_tie):
                return Action.DEMOTE, "the peer is the active server now"
            return Action.NONE, "the peer must step down"
        if view.role == "active" and not view.serving and view.peer_role == "passive":
            return Action.SERVE, "the peer is passive"
        return Action.NONE, "the peer answers"
    if view.quorum is None:
        return Action.NONE, "the peer is silent; probing the quorum reference"
    if not view.quorum:
        if view.role == "active" and view.serving:
            return Action.STOP_SERVING, "isolated: neither the peer nor the quorum reference"
        return Action.NONE, "isolated: neither the peer nor the quorum reference"
    if view.role == "active":
        if not view.serving:
            return Action.SERVE, "the peer is silent; the quorum reference answers"
        return Action.NONE, "the peer is silent (degraded)"
    if not view.in_sync:
        return Action.NONE, "the active is silent, but this passive is out of date: " \
                            "it cannot take over"
    return Action.TAKE_OVER, "the active is silent; the quorum reference answers"


def incompatibility(facts: dict[str, Any], serial: str, model: str, version: str
                    ) -> str | None:
    """Why the device that answered `facts` (its probe) cannot be this one's partner."""
    if facts.get("serial") == serial:
        return "that is this device: name the second server"
    if facts.get("status") != "Ready":
        return f"the peer is {facts.get('status')}, not Ready: install it first"
    if facts.get("model") != model:
        return (f"the peer is a {facts.get('model')}; this device is a {model}: a pair needs "
                "the same model")
    if facts.get("version") != version:
        return (f"the peer runs {facts.get('version')}; this device runs {version}: update "
                "one of them")
    if facts.get("clustered"):
        return "the peer is already in a high-availability cluster"
    return None
