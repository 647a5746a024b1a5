from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.device_process import DeviceProcess


@pytest.fixture
def device_factory(tmp_path: Path) -> Iterator[Callable[..., DeviceProcess]]:
    """Start devices that are killed at the end of the test, pass or fail."""
    started: list[DeviceProcess] = []

    def start(data_dir: Path | None = None, *args: str) -> DeviceProcess:
        device = DeviceProcess(data_dir or tmp_path / "data", *args)
        started.append(device)
        return device.start()

    yield start
    for device in started:
        device.kill()
