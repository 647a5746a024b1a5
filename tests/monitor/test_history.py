"""Resource Monitor's history and alarms (pure): seconds roll up into minutes and hours,
every ring is bounded, a kept file that is not ours reads as empty; a rule fires once
after its minutes over the threshold, and again only after the metric went back under."""

from __future__ import annotations

from openstation.config.sections import AlarmRule
from openstation.monitor.alarms import Alarms, rule_problems
from openstation.monitor.history import METRICS, MINUTES, SECONDS, History

START = 1_800_000_000.0  # on a whole hour


def sample(cpu: float, memory: float = 50.0) -> tuple[float, ...]:
    values = dict.fromkeys(METRICS, 0.0) | {"cpu_user": cpu, "memory": memory}
    return tuple(values[name] for name in METRICS)


def test_seconds_roll_up_into_minutes_and_hours() -> None:
    history = History()
    for second in range(2 * 3600 + 61):
        history.add(START + second, sample(cpu=10.0 if second < 60 else 30.0))
    assert len(history.seconds) == SECONDS
    assert history.minutes[0] == (START, sample(cpu=10.0))
    assert history.minutes[1][1] == sample(cpu=30.0)
    assert len(history.hours) == 2 and history.hours[0][0] == START
    assert history.hours[0][1][METRICS.index("cpu_user")] == round((10 + 59 * 30) / 60, 2)
    now = START + 2 * 3600 + 60
    assert next(p[0] for p in history.span("10m", now)) > now - 600
    assert len(history.span("1h", now)) == 59  # whole minutes; the one under way is not
    assert len(history.span("1d", now)) == 121


def test_rings_are_bounded_and_a_kept_file_is_checked() -> None:
    history = History()
    for minute in range(MINUTES + 100):
        history.add(START + minute * 60, sample(cpu=1.0))
    assert len(history.minutes) == MINUTES
    again = History.from_json(history.to_json())
    assert list(again.minutes) == list(history.minutes)
    for junk in (None, [], {"metrics": ["x"]}, {"metrics": list(METRICS), "minutes": "x"},
                 {"metrics": list(METRICS), "minutes": [[1, [1]], "x", [None, None]]}):
        assert list(History.from_json(junk).minutes) == []


def test_a_rule_fires_once_after_its_minutes() -> None:
    rule = AlarmRule(rule_id="r1", metric="cpu", threshold=80.0, minutes=2)
    alarms = Alarms()
    fired = [at for at in range(0, 400)
             if alarms.check([rule], float(at), sample(cpu=90.0 if at < 300 else 10.0))]
    assert fired == [120]
    assert alarms.check([rule], 400.0, sample(cpu=95.0)) == []  # armed again: counts anew
    assert alarms.check([rule], 520.0, sample(cpu=95.0))[0][1] == 95.0
    assert alarms.check([AlarmRule(rule_id="r1", enabled=False)], 9999.0, sample(99)) == []
    assert alarms.over_since == {}


def test_rules_are_checked() -> None:
    assert rule_problems(AlarmRule(metric="cpu", threshold=90)) == {}
    assert "metric" in rule_problems(AlarmRule(metric="gpu"))
    assert "threshold" in rule_problems(AlarmRule(metric="memory", threshold=150))
    assert "threshold" in rule_problems(AlarmRule(metric="net_rx", threshold=0))
    assert "minutes" in rule_problems(AlarmRule(minutes=0))
