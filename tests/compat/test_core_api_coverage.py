"""synology-api's core management surface against a device (issue 21's measure): every
read-only call that needs no argument. The floors are this device's measured figures (the
README's table), so a regression fails here; the issue's target is 80 % from the device's
own state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openstation.testing import STRONG, DeviceProcess
from tests.compat.api_coverage import measure

Factory = Callable[..., DeviceProcess]
REAL_FLOOR = 0.47  # answered from the device's own state
ANSWERED_FLOOR = 0.88  # … or as a feature the device lacks, said so


def test_core_management_reads(device_factory: Factory, tmp_path: Path) -> None:
    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    coverage = measure(device.runtime["ports"]["http"], "alice", STRONG)
    print(coverage.markdown())
    assert coverage.real_ratio >= REAL_FLOOR, coverage.markdown()
    assert coverage.ratio >= ANSWERED_FLOOR, coverage.markdown()
    # What fails, fails before a request: an API the device does not list. None is
    # refused by the device (a missing method, a wrong version) or breaks the client.
    refused = [f"{o.module}.{o.method}: {o.why}" for o in coverage.callable
               if not o.ok and not o.why.startswith("KeyError")]
    assert refused == []
    assert device.proc is not None and device.proc.poll() is None  # still running
