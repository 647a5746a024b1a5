"""An account's scheduled script sees what the account may, nothing more: its read-write
shares writable, its read-only shares read only, no other share, nothing of the device's
`system/` and none of the device's capabilities (bubblewrap, run by a device that is root)."""

from __future__ import annotations

import json
import os

import pytest

from openstation.scheduler import sandbox
from openstation.testing import wait_for
from tests.fileserv.conftest import Served

pytestmark = pytest.mark.skipif(sandbox.missing() is not None or os.geteuid() != 0,
                                reason=sandbox.missing() or "bubblewrap as root")
TS = "SYNO.Core.TaskScheduler"
PROBE = """
echo in-alpha > "$VOLUME1/alpha/$USER.txt" && echo WROTE-ALPHA
cat "$VOLUME1/beta/seed.txt" >/dev/null 2>&1 && echo READ-BETA
echo x > "$VOLUME1/beta/$USER.txt" 2>/dev/null && echo WROTE-BETA
echo x > "$VOLUME1/gamma/$USER.txt" 2>/dev/null && echo WROTE-GAMMA
ls "$VOLUME1/../system" >/dev/null 2>&1 && echo SAW-SYSTEM
grep -q '^CapEff:.0000000000000000' /proc/self/status && echo NO-CAPABILITIES
ls "$VOLUME1"
"""


def output_of(served: Served, owner: str) -> str:
    admin = served.admin
    made = admin.ok(TS, "create", type="script", name=f"probe {owner}", owner=owner,
                    extra=json.dumps({"script": PROBE}))
    admin.ok(TS, "run", tasks=json.dumps([{"id": made["id"]}]))
    wait_for(lambda: admin.ok(TS, "get_history_status_list", id=made["id"]), timeout=30)
    result = admin.ok(TS, "get_history_status_list", id=made["id"])[0]
    return str(admin.ok(TS, "get_history_log", id=made["id"],
                        timestamp=result["timestamp"])["log"])


def test_an_accounts_script_keeps_to_its_rights(served: Served) -> None:
    bob = output_of(served, "bob").split()  # alpha rw, beta and gamma: no access
    assert "WROTE-ALPHA" in bob and "NO-CAPABILITIES" in bob
    assert not {"READ-BETA", "WROTE-BETA", "WROTE-GAMMA", "SAW-SYSTEM"} & set(bob)
    assert "alpha" in bob and "beta" not in bob and "gamma" not in bob
    carol = output_of(served, "carol").split()  # alpha ro, beta ro, gamma rw
    assert "READ-BETA" in carol and "WROTE-GAMMA" in carol
    assert not {"WROTE-ALPHA", "WROTE-BETA", "SAW-SYSTEM"} & set(carol)
    assert (served.volume / "alpha" / "bob.txt").read_text() == "in-alpha\n"
    assert not (served.volume / "alpha" / "carol.txt").exists()
    assert not (served.volume / "gamma" / "bob.txt").exists()
