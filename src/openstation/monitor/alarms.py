"""Resource Monitor's alarm rules (pure): a rule fires once when its metric has stayed
over the threshold for its minutes, and is armed again once the metric is back under."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from openstation.config.sections import AlarmRule
from openstation.monitor.history import METRICS

# A rule's metric → how it is read from a sample (cpu: user and system together)
NAMES = ("cpu", "memory", "volume", "net_rx", "net_tx", "disk_read", "disk_write")
PERCENT = ("cpu", "memory", "volume")


def value_of(metric: str, values: Sequence[float]) -> float:
    if metric == "cpu":
        return values[METRICS.index("cpu_user")] + values[METRICS.index("cpu_system")]
    return values[METRICS.index(metric)]


def rule_problems(rule: AlarmRule) -> dict[str, str]:
    problems: dict[str, str] = {}
    if rule.metric not in NAMES:
        problems["metric"] = ", ".join(NAMES)
    elif rule.metric in PERCENT and not 0 < rule.threshold <= 100:
        problems["threshold"] = "a percentage above 0, at most 100"
    elif not 0 < rule.threshold < 1 << 50:
        problems["threshold"] = "bytes per second, above 0"
    if not 1 <= rule.minutes <= 1440:
        problems["minutes"] = "1 to 1440"
    return problems


@dataclass
class Alarms:
    over_since: dict[str, float] = field(default_factory=dict)  # rule → since when over
    fired: set[str] = field(default_factory=set)

    def check(self, rules: Sequence[AlarmRule], at: float, values: Sequence[float]
              ) -> list[tuple[AlarmRule, float]]:
        """The rules that fire at `at` (each once until its metric is back under)."""
        firing = []
        live = {rule.rule_id for rule in rules if rule.enabled}
        for stale in set(self.over_since) - live:
            del self.over_since[stale]
        self.fired &= live
        for rule in rules:
            if not rule.enabled:
                continue
            value = value_of(rule.metric, values)
            if value <= rule.threshold:
                self.over_since.pop(rule.rule_id, None)
                self.fired.discard(rule.rule_id)
                continue
            since = self.over_since.setdefault(rule.rule_id, at)
            if at - since >= rule.minutes * 60 and rule.rule_id not in self.fired:
                self.fired.add(rule.rule_id)
                firing.append((rule, value))
        return firing
