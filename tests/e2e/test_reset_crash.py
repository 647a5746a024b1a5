"""Power loss during a reset: SIGKILL at every step and at random instants, then boot.

After the restart the device must be entirely before or entirely after the reset (a journal
written before the first change makes a started reset finish at boot), and volume1 must be
unchanged byte for byte.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from openstation.panel import control
from openstation.testing import STRONG, DeviceProcess
from tests.e2e.configured import (
    Observed,
    configure_everything,
    is_mode1_done,
    is_untouched,
    volume_digest,
)

MODE1_POINTS = ["journal-written", *(f"mode1-edit-{n}" for n in range(10)),
                "mode1-committed"]
MODE2_POINTS = ["journal-written", "mode1-edit-5", "mode1-committed", "mode1-journaled",
                "wipe-detached", "wiped", "wipe-journaled"]
RANDOM_KILLS = 12


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("template") / "data"
    device = DeviceProcess(data).start()
    assert device.install("nas1", "alice", STRONG).returncode == 0
    device.stop()
    configure_everything(data)
    yield data


def copy_of(template: Path, where: Path) -> Path:
    target = where / "data"
    shutil.copytree(template, target, symlinks=True)
    return target


def trigger(data: Path, mode: int) -> None:
    answer = asyncio.run(control.call(data / "system" / "panel.sock", "POST", "/reset",
                                      {"mode": mode}))
    assert answer.get("accepted"), answer


def died_of_sigkill(device: DeviceProcess, timeout: float = 20) -> bool:
    assert device.proc is not None
    try:
        device.proc.wait(timeout)
    except Exception:
        return False
    return device.proc.returncode == -signal.SIGKILL


def mode2_done(observed: Observed) -> bool:
    return (observed.kept["state"] == "configuration_lost"
            and observed.kept["users"] == ["admin", "guest"]
            and observed.kept["server_name"] == "DiskStation")


def restart(data: Path) -> Observed:
    device = DeviceProcess(data).start()
    device.stop()
    return Observed.read(data)


@pytest.mark.parametrize("point", MODE1_POINTS)
def test_mode1_killed_at_each_step_finishes_at_boot(template: Path, tmp_path: Path,
                                                    point: str) -> None:
    data = copy_of(template, tmp_path)
    before = Observed.read(data)
    volume = volume_digest(data / "volume1")
    device = DeviceProcess(data, env={"OPENSTATION_FAILPOINT": point}).start()
    trigger(data, 1)
    assert died_of_sigkill(device), f"{point} was not reached"
    after = restart(data)
    assert is_mode1_done(after), (point, after.ten_items)
    assert after.kept == before.kept
    assert volume_digest(data / "volume1") == volume
    assert not (data / "reset-journal.json").exists()


@pytest.mark.parametrize("point", MODE2_POINTS)
def test_mode2_killed_at_each_step_finishes_at_boot(template: Path, tmp_path: Path,
                                                    point: str) -> None:
    data = copy_of(template, tmp_path)
    volume = volume_digest(data / "volume1")
    hardware = (data / "hardware.json").read_bytes()
    device = DeviceProcess(data, env={"OPENSTATION_FAILPOINT": point}).start()
    trigger(data, 2)
    assert died_of_sigkill(device), f"{point} was not reached"
    after = restart(data)
    assert mode2_done(after), (point, after.kept)
    assert volume_digest(data / "volume1") == volume
    assert (data / "hardware.json").read_bytes() == hardware
    assert not (data / "system.wiping").exists()
    assert not (data / "reset-journal.json").exists()


@pytest.mark.parametrize("mode", [1, 2])
def test_random_power_loss_leaves_the_device_entirely_before_or_after(
        template: Path, tmp_path: Path, mode: int) -> None:
    rng = random.Random(mode)
    outcomes = {"before": 0, "after": 0}
    for attempt in range(RANDOM_KILLS):
        data = copy_of(template, tmp_path / f"{attempt}")
        before = Observed.read(data)
        volume = volume_digest(data / "volume1")
        device = DeviceProcess(data).start()
        trigger(data, mode)
        time.sleep(rng.choice([0.0, rng.uniform(0, 0.004), rng.uniform(0, 0.03)]))
        assert device.proc is not None
        device.proc.send_signal(signal.SIGKILL)
        device.proc.communicate()
        after = restart(data)
        if mode == 1:
            done, untouched = is_mode1_done(after), is_untouched(after)
            assert after.kept == before.kept
        else:
            done, untouched = mode2_done(after), after == before
        assert done != untouched, (attempt, after)
        outcomes["after" if done else "before"] += 1
        assert volume_digest(data / "volume1") == volume
    print(f"mode {mode}: {RANDOM_KILLS} random kills -> {outcomes}")
