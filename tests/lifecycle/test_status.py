from __future__ import annotations

import pytest

from openstation.lifecycle.status import LASTING, LedColor, LedMode, Status, status_led


def test_codes_and_labels_follow_findhost() -> None:
    table = {status.code: status.label for status in Status}
    assert table == {0: "Configuration lost", 1: "Ready", 2: "Not installed", 3: "Updating",
                     5: "Booting", 7: "Starting services", 11: "Recoverable",
                     13: "Installing", 14: "Migratable"}


@pytest.mark.parametrize(("status", "led"), [
    (Status.READY, (LedColor.GREEN, LedMode.SOLID)),
    (Status.BOOTING, (LedColor.GREEN, LedMode.BLINKING)),
    (Status.STARTING_SERVICES, (LedColor.GREEN, LedMode.BLINKING)),
    (Status.INSTALLING, (LedColor.GREEN, LedMode.BLINKING)),
    (Status.CONFIGURATION_LOST, (LedColor.ORANGE, LedMode.BLINKING)),
    (Status.NOT_INSTALLED, (LedColor.ORANGE, LedMode.BLINKING)),
])
def test_status_led(status: Status, led: tuple[LedColor, LedMode]) -> None:
    assert status_led(status) == led


def test_only_lasting_states_are_persisted() -> None:
    for status in LASTING:
        assert Status.from_persisted(status.persisted) is status
    for bad in ("booting", "installing", "nonsense"):
        with pytest.raises(ValueError):
            Status.from_persisted(bad)
