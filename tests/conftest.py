"""Shared fixtures: a fake clock, a device identity, a data directory and a store."""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from openstation import loopwatch
from openstation.catalog import model_named
from openstation.config.store import ConfigStore
from openstation.datadir import DataDir
from openstation.hardware import Hardware, new_hardware
from openstation.testing import DeviceProcess

# Shared 2-core machines generate slowly at times: that is no failure of the code under test.
settings.register_profile("openstation", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.load_profile("openstation")

CLIENT_THREAD = "test-client"  # threads where a test runs protocol clients of its own


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection made (modules, hypothesis strategies): otherwise a full
    garbage collection walks it all, and stalls whatever test runs at that moment."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def loop_never_blocks(request: pytest.FixtureRequest,
                      tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any test during which an event loop was blocked for more than 50 ms: the test's
    own loop (in-process devices) and every device or CLI process it starts (they report
    through the file named by OPENSTATION_LOOPWATCH)."""
    report = tmp_path_factory.mktemp("loopwatch", numbered=True) / "report"
    monkeypatch.setenv(loopwatch.ENV, str(report))
    found: list[str] = []

    def sink(line: str) -> None:
        # Playwright's sync API parks a loop of its own while the browser works, and a test's
        # own protocol clients (SSH key exchange, run in "test-client" threads) are not the
        # device: neither is ours to watch. Nor is a test's own work on its loop (writing a
        # tree of files, parsing a reply) in which no sample caught openstation's code.
        if " by playwright." not in line and loopwatch.OUTSIDE not in line and \
                not threading.current_thread().name.startswith(CLIENT_THREAD):
            found.append(line)

    loopwatch.install(sink, limit=float(os.environ.get("LW_LIMIT", "0.05")))
    yield
    loopwatch.remove(sink)
    if report.exists():
        found += report.read_text().splitlines()
    if found and request.node.get_closest_marker("blocks_loop_on_purpose") is None:
        pytest.fail("the event loop was blocked:\n" + "\n".join(found[:20]), pytrace=False)


@pytest.fixture(autouse=True)
def fresh_synology_api_session() -> Iterator[None]:
    """synology-api keeps one session for every client it makes (BaseApi.shared_session):
    each test starts without the last test's, whose device is gone."""
    def forget() -> None:
        base = sys.modules.get("synology_api.base_api")
        if base is not None:
            base.BaseApi.shared_session = None

    forget()
    yield
    forget()


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hardware() -> Hardware:
    import datetime as dt

    return new_hardware(model_named("DS918+"), dt.datetime(2026, 11, 26), bytes(range(6)))


@pytest.fixture
def data_dir(tmp_path: Path) -> DataDir:
    data = DataDir(tmp_path / "data")
    data.prepare()
    return data


@pytest.fixture
def store(data_dir: DataDir, hardware: Hardware, clock: FakeClock) -> Iterator[ConfigStore]:
    opened = ConfigStore.open(data_dir.config_db, hardware, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def device_factory(tmp_path: Path) -> Iterator[Callable[..., DeviceProcess]]:
    """Start real device processes; each is killed at the end of the test, pass or fail."""
    started: list[DeviceProcess] = []

    def start(data_dir: Path | None = None, *args: str, **options: Any) -> DeviceProcess:
        device = DeviceProcess(data_dir or tmp_path / "data", *args, **options)
        started.append(device)
        return device.start()

    yield start
    for device in started:
        device.kill()
