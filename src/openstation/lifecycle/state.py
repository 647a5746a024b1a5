"""The device's current status, observable: the panel, discovery and pages follow it."""

from __future__ import annotations

from collections.abc import Callable

from openstation.lifecycle.status import Status

Listener = Callable[[Status, Status], None]


class DeviceState:
    """Holds the live status; tells each listener (old, new) on every change."""

    def __init__(self, status: Status = Status.BOOTING) -> None:
        self._status = status
        self._listeners: list[Listener] = []

    @property
    def status(self) -> Status:
        return self._status

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def set(self, status: Status) -> None:
        old, self._status = self._status, status
        if old is not status:
            for listener in list(self._listeners):
                listener(old, status)
