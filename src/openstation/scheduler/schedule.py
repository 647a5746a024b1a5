"""When a scheduled task runs (pure): DSM's schedule fields read and checked, and the next
trigger after a moment, in local wall-clock terms (the caller converts; time is injected).

DSM's `repeat_date` codes: on week days (date_type 0) 1001 daily, 1002 weekly, 1003
monthly in the weeks `monthly_week` names; from a date (date_type 1) 0 once, 1 monthly,
5 every 3 months, 3 every 6 months, 2 yearly. Within a day a task runs at hour:minute and
again every `repeat_min` minutes (or `repeat_hour` hours) while the hour is at most
`last_work_hour`."""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

from openstation.config.sections import TaskSchedule
from openstation.errors import ValidationError

WEEKLY = (1001, 1002, 1003)
FROM_DATE = {0: 0, 1: 1, 5: 3, 3: 6, 2: 12}  # repeat_date → months between runs (0: once)
WEEKS = ("first", "second", "third", "fourth", "last")
REPEAT_MINUTES = (0, 1, 5, 10, 15, 20, 30)


def parse(raw: Mapping[str, Any]) -> TaskSchedule:
    """A schedule from DSM's fields (as synology-api and DSM's pages send them); every
    problem at once."""
    problems: dict[str, str] = {}

    def number(name: str, low: int, high: int, default: int) -> int:
        value = raw.get(name, default)
        try:
            result = int(value)
        except (TypeError, ValueError, OverflowError):
            problems[name] = f"a whole number from {low} to {high}"
            return default
        if isinstance(value, bool) or not low <= result <= high:
            problems[name] = f"a whole number from {low} to {high}"
            return default
        return result

    date_type = number("date_type", 0, 1, 0)
    schedule = TaskSchedule(
        date_type=date_type, hour=number("hour", 0, 23, 0), minute=number("minute", 0, 59, 0),
        repeat_hour=number("repeat_hour", 0, 23, 0), repeat_min=number("repeat_min", 0, 59, 0),
        repeat_date=number("repeat_date", -1, 1003, 1001 if date_type == 0 else 0))
    schedule.last_work_hour = number("last_work_hour", -1, 23, schedule.hour)
    if schedule.last_work_hour < 0:  # synology-api's "until the start hour"
        schedule.last_work_hour = schedule.hour
    if schedule.repeat_min not in REPEAT_MINUTES:
        problems["repeat_min"] = "0, 1, 5, 10, 15, 20 or 30"
    days = raw.get("week_day", raw.get("week_days", "0,1,2,3,4,5,6"))
    try:
        parts = days.split(",") if isinstance(days, str) else list(days)
        schedule.week_days = sorted({int(d) for d in parts if str(d).strip() != ""})
    except (TypeError, ValueError, OverflowError):
        problems["week_day"] = "week days 0 (Sunday) to 6, comma separated"
    else:
        if any(not 0 <= d <= 6 for d in schedule.week_days):
            problems["week_day"] = "week days 0 (Sunday) to 6, comma separated"
    weeks = raw.get("monthly_week", [])
    if isinstance(weeks, str):
        try:
            weeks = json.loads(weeks or "[]")
        except ValueError:
            weeks = None
    if not isinstance(weeks, list) or any(w not in WEEKS for w in weeks):
        problems["monthly_week"] = "a list of " + ", ".join(WEEKS)
    else:
        schedule.monthly_week = [w for w in WEEKS if w in weeks]
    if date_type == 0:
        if schedule.repeat_date not in WEEKLY:
            problems["repeat_date"] = "1001 (daily), 1002 (weekly) or 1003 (monthly)"
        if not schedule.week_days:
            problems["week_day"] = "at least one week day"
        if schedule.repeat_date == 1003 and not schedule.monthly_week:
            problems["monthly_week"] = "at least one week of the month"
    else:
        schedule.date = str(raw.get("date", ""))
        if schedule.repeat_date not in FROM_DATE:
            problems["repeat_date"] = "0 (once), 1 (monthly), 5 (every 3 months), " \
                                      "3 (every 6 months) or 2 (yearly)"
        if first_day(schedule) is None:
            problems["date"] = "a date as yyyy/m/d"
    if problems:
        raise ValidationError(problems)
    return schedule


def to_dsm(schedule: TaskSchedule) -> dict[str, Any]:
    """The schedule as DSM's `get` answers it."""
    return {"date_type": schedule.date_type, "week_day": ",".join(map(str, schedule.week_days)),
            "date": schedule.date, "repeat_date": schedule.repeat_date,
            "monthly_week": list(schedule.monthly_week), "hour": schedule.hour,
            "minute": schedule.minute, "repeat_hour": schedule.repeat_hour,
            "repeat_min": schedule.repeat_min, "last_work_hour": schedule.last_work_hour,
            "repeat_hour_store_config": list(range(1, 24)),
            "repeat_min_store_config": list(REPEAT_MINUTES[1:]), "version": 4}


def first_day(schedule: TaskSchedule) -> dt.date | None:
    """The date a date_type 1 schedule starts on (None: not a date)."""
    try:
        year, month, day = (int(part) for part in schedule.date.split("/"))
        return dt.date(year, month, day)
    except (ValueError, OverflowError):
        return None


def next_trigger(schedule: TaskSchedule, after: dt.datetime) -> dt.datetime | None:
    """The first run strictly after `after` (naive local time), None if there is none."""
    for day in _days(schedule, after.date()):
        if runs_on(schedule, day):
            for moment in times_of(schedule, day):
                if moment > after:
                    return moment
    return None


def _days(schedule: TaskSchedule, first: dt.date) -> Iterator[dt.date]:
    """The days from `first` a run could fall on, in order; few, whatever the schedule
    (every task's next run is worked out at each tick of the scheduler)."""
    if schedule.date_type == 0:  # a week day comes within 8 days, a named week within 63
        span = 63 if schedule.repeat_date == 1003 else 8
        yield from (first + dt.timedelta(days=n) for n in range(span))
        return
    start = first_day(schedule)
    months = FROM_DATE.get(schedule.repeat_date, 0)
    if start is None:
        return
    if months == 0:
        if start >= first:
            yield start
        return
    # month by month from the start date: the 31st falls on a shorter month's last day
    elapsed = max(0, ((first.year - start.year) * 12 + first.month - start.month) // months
                  * months - months)
    for step in range(elapsed, elapsed + 3 * months + 1, months):
        year, month = divmod(start.month - 1 + step, 12)
        year += start.year
        if year > dt.MAXYEAR:
            return
        day = dt.date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))
        if day >= first:
            yield day


def runs_on(schedule: TaskSchedule, day: dt.date) -> bool:
    if schedule.date_type == 0:
        if (day.isoweekday() % 7) not in schedule.week_days:  # DSM: 0 is Sunday
            return False
        return schedule.repeat_date != 1003 or _week_of(day) & set(schedule.monthly_week) != set()
    start = first_day(schedule)
    if start is None or day < start:
        return False
    months = FROM_DATE.get(schedule.repeat_date, 0)
    if months == 0:
        return day == start
    elapsed = (day.year - start.year) * 12 + day.month - start.month
    if elapsed % months:
        return False
    # The 31st runs on the last day of a shorter month.
    return day.day == min(start.day, calendar.monthrange(day.year, day.month)[1])


def times_of(schedule: TaskSchedule, day: dt.date) -> Iterator[dt.datetime]:
    """The runs of one day, in order."""
    moment = dt.datetime.combine(day, dt.time(schedule.hour, schedule.minute))
    # both set: hours win, as synology-api documents DSM
    step = dt.timedelta(hours=schedule.repeat_hour) if schedule.repeat_hour else \
        dt.timedelta(minutes=schedule.repeat_min) if schedule.repeat_min else None
    yield moment
    if step is None:
        return
    moment += step
    while moment.date() == day and moment.hour <= schedule.last_work_hour:
        yield moment
        moment += step


def _week_of(day: dt.date) -> set[str]:
    """Which of DSM's weeks of the month `day` is in (a fourth may also be the last)."""
    index = (day.day - 1) // 7  # 4: a fifth week, which DSM names only as the last
    weeks = {WEEKS[index]} if index < 4 else set()
    if day.day + 7 > calendar.monthrange(day.year, day.month)[1]:
        weeks.add("last")
    return weeks
