"""Request throughput with the firewall off, on with 0 rules, and on with 1,000 rules.

The 1,000 rules deny other networks (none matches loopback, so each request would walk all
of them in a linear scan); the policy compiles them and memoises decisions per source, so
the ratio should stay near 1.

    python bench/firewall.py [SECONDS] [CONCURRENCY]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from openstation.config.sections import Firewall, FirewallRule
from openstation.config.store import ConfigStore
from openstation.hardware import load_or_create
from openstation.testing import DeviceProcess
from webapi import hammer  # bench/webapi.py


def configure(data: Path, enabled: bool, rules: int) -> None:
    store = ConfigStore.open(data / "system" / "config.db",
                             load_or_create(data / "hardware.json", None))
    with store.transaction("bench") as tx:
        for old in tx.records(FirewallRule):
            tx.delete_record(FirewallRule, old.rule_id)
        for n in range(rules):
            tx.put_record(FirewallRule(rule_id=f"r{n:04d}", order=n,
                                       source=f"10.{n // 250}.{n % 250}.0/24", action="deny"))
        tx.put(Firewall(enabled=enabled, default_action="allow"))
    store.close()


def measure(data: Path, seconds: float, concurrency: int) -> float:
    device = DeviceProcess(data).start()
    try:
        url = f"{device.url}/webapi/query.cgi"
        query = {"api": "SYNO.API.Info", "version": "1", "method": "query",
                 "query": "SYNO.API.Info"}
        return asyncio.run(hammer(url, query, seconds, concurrency))
    finally:
        device.stop()


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        data = Path(tmp) / "data"
        DeviceProcess(data).start().stop()
        results = {}
        for label, enabled, rules in (("firewall off", False, 0), ("on, 0 rules", True, 0),
                                      ("on, 1000 rules", True, 1000)):
            configure(data, enabled, rules)
            results[label] = measure(data, seconds, concurrency)
            print(f"{label:<16} {results[label]:8.0f} req/s")
        ratio = results["on, 1000 rules"] / results["on, 0 rules"]
        print(f"ratio 1000 rules / 0 rules: {ratio:.2f} (target: near 1)")


if __name__ == "__main__":
    main()
