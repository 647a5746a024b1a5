"""When scheduled tasks run (pure): DSM's schedule fields, and the next run after a moment."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openstation.errors import ValidationError
from openstation.scheduler.schedule import next_trigger, parse

# 2026-12-06 is a Sunday (DSM's week day 0).
SUNDAY = dt.datetime(2026, 12, 6, 8, 30)


def runs(raw: dict[str, Any], after: dt.datetime, count: int) -> list[str]:
    found, schedule, at = [], parse(raw), after
    for _ in range(count):
        nxt = next_trigger(schedule, at)
        assert nxt is not None
        found.append(nxt.strftime("%a %Y-%m-%d %H:%M"))
        at = nxt
    return found


def test_daily_at_a_time_and_on_chosen_week_days() -> None:
    assert runs({"hour": 3, "minute": 15}, SUNDAY, 2) == [
        "Mon 2026-12-07 03:15", "Tue 2026-12-08 03:15"]
    assert runs({"week_day": "1,5", "repeat_date": 1002, "hour": 9}, SUNDAY, 3) == [
        "Mon 2026-12-07 09:00", "Fri 2026-12-11 09:00", "Mon 2026-12-14 09:00"]
    # later today still counts; the moment itself does not
    assert runs({"hour": 8, "minute": 30}, SUNDAY, 1) == ["Mon 2026-12-07 08:30"]
    assert runs({"hour": 8, "minute": 31}, SUNDAY, 1) == ["Sun 2026-12-06 08:31"]


def test_repeats_within_a_day_until_the_last_hour() -> None:
    assert runs({"hour": 22, "minute": 0, "repeat_min": 30, "last_work_hour": 23},
                SUNDAY, 5) == ["Sun 2026-12-06 22:00", "Sun 2026-12-06 22:30",
                               "Sun 2026-12-06 23:00", "Sun 2026-12-06 23:30",
                               "Mon 2026-12-07 22:00"]
    assert runs({"hour": 6, "repeat_hour": 8, "last_work_hour": 22}, SUNDAY, 3) == [
        "Sun 2026-12-06 14:00", "Sun 2026-12-06 22:00", "Mon 2026-12-07 06:00"]
    # synology-api's "until the start hour" (-1): once a day
    assert runs({"hour": 1, "repeat_min": 5, "last_work_hour": -1}, SUNDAY, 2) == [
        "Mon 2026-12-07 01:00", "Mon 2026-12-07 01:05"]


def test_monthly_in_named_weeks() -> None:
    raw = {"repeat_date": 1003, "week_day": "1", "monthly_week": '["first", "last"]',
           "hour": 2}
    assert runs(raw, SUNDAY, 4) == ["Mon 2026-12-07 02:00", "Mon 2026-12-28 02:00",
                                    "Mon 2027-01-04 02:00", "Mon 2027-01-25 02:00"]
    # a fifth Tuesday is only "last": not "fourth"
    raw = {"repeat_date": 1003, "week_day": "2", "monthly_week": ["fourth"]}
    assert runs(raw, SUNDAY, 2) == ["Tue 2026-12-22 00:00", "Tue 2027-01-26 00:00"]


def test_from_a_date() -> None:
    once = {"date_type": 1, "date": "2026/12/24", "repeat_date": 0, "hour": 18}
    assert runs(once, SUNDAY, 1) == ["Thu 2026-12-24 18:00"]
    assert next_trigger(parse(once), dt.datetime(2026, 12, 24, 18, 0)) is None
    monthly = {"date_type": 1, "date": "2026/1/31", "repeat_date": 1}
    assert runs(monthly, dt.datetime(2027, 1, 31, 12), 3) == [
        "Sun 2027-02-28 00:00", "Wed 2027-03-31 00:00", "Fri 2027-04-30 00:00"]
    quarterly = {"date_type": 1, "date": "2026/11/15", "repeat_date": 5}
    assert runs(quarterly, SUNDAY, 2) == ["Mon 2027-02-15 00:00", "Sat 2027-05-15 00:00"]
    leap = {"date_type": 1, "date": "2024/2/29", "repeat_date": 2}
    assert runs(leap, SUNDAY, 2) == ["Sun 2027-02-28 00:00", "Tue 2028-02-29 00:00"]


@pytest.mark.parametrize("raw, field", [
    ({"hour": 24}, "hour"), ({"minute": "x"}, "minute"), ({"repeat_min": 7}, "repeat_min"),
    ({"week_day": "1,9"}, "week_day"), ({"week_day": ""}, "week_day"),
    ({"week_day": "a"}, "week_day"), ({"repeat_date": 5}, "repeat_date"),
    ({"repeat_date": 1003}, "monthly_week"), ({"monthly_week": '["fifth"]'}, "monthly_week"),
    ({"date_type": 1, "date": "2026/2/30"}, "date"), ({"date_type": 1, "date": ""}, "date"),
    ({"date_type": 2}, "date_type"), ({"hour": True}, "hour"),
])
def test_bad_fields_are_named(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(raw)
    assert field in caught.value.problems
