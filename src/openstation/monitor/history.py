"""Resource Monitor's history (pure): one-second samples for 10 minutes, minute averages
for a day and hour averages for 30 days, each a ring of fixed length, so the memory and
the file it is kept in are bounded whatever the uptime. Times are injected."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

METRICS = ("cpu_user", "cpu_system", "memory", "net_rx", "net_tx", "disk_read",
           "disk_write", "volume")  # %, %, %, B/s, B/s, B/s, B/s, % of volume1 used
SECONDS, MINUTES, HOURS = 600, 1440, 720
RANGES = {"10m": ("seconds", 600), "1h": ("minutes", 3600), "1d": ("minutes", 86400),
          "30d": ("hours", 30 * 86400)}

Point = tuple[float, tuple[float, ...]]  # (epoch seconds, a value per metric)


def _average(points: Sequence[Point], at: float) -> Point:
    count = len(points)
    return at, tuple(round(sum(p[1][i] for p in points) / count, 2)
                     for i in range(len(METRICS)))


@dataclass
class History:
    seconds: deque[Point] = field(default_factory=lambda: deque(maxlen=SECONDS))
    minutes: deque[Point] = field(default_factory=lambda: deque(maxlen=MINUTES))
    hours: deque[Point] = field(default_factory=lambda: deque(maxlen=HOURS))
    _minute: list[Point] = field(default_factory=list)  # this minute's seconds so far
    _hour: list[Point] = field(default_factory=list)  # this hour's minutes so far

    def add(self, at: float, values: Sequence[float]) -> None:
        point = (at, tuple(float(v) for v in values))
        if self._minute and int(at // 60) != int(self._minute[0][0] // 60):
            minute = _average(self._minute, int(self._minute[0][0] // 60) * 60)
            self.minutes.append(minute)
            if self._hour and int(minute[0] // 3600) != int(self._hour[0][0] // 3600):
                self.hours.append(_average(self._hour, int(self._hour[0][0] // 3600) * 3600))
                self._hour = []
            self._hour.append(minute)
            self._minute = []
        self._minute.append(point)
        self.seconds.append(point)

    def span(self, name: str, now: float) -> list[Point]:
        """The points of a range ("10m", "1h", "1d", "30d") up to `now`, oldest first."""
        ring, length = RANGES[name]
        return [p for p in getattr(self, ring) if p[0] > now - length]

    def latest(self) -> Point | None:
        return self.seconds[-1] if self.seconds else None

    def to_json(self) -> dict[str, Any]:
        """The minute and hour rings (seconds are not worth a write a second)."""
        return {"metrics": list(METRICS), "minutes": [list(p) for p in self.minutes],
                "hours": [list(p) for p in self.hours]}

    @classmethod
    def from_json(cls, raw: Any) -> History:
        """A kept history; anything unreadable (another version, a crafted file) is an
        empty one, never an error."""
        history = cls()
        if not isinstance(raw, dict) or raw.get("metrics") != list(METRICS):
            return history
        for name in ("minutes", "hours"):
            ring = getattr(history, name)
            ring.extend(p for p in _points(raw.get(name)))
        return history


def _points(raw: Any) -> Iterable[Point]:
    if not isinstance(raw, list):
        return
    for item in raw:
        try:
            at, values = item
            numbers = tuple(float(v) for v in values)
            if len(numbers) == len(METRICS):
                yield float(at), numbers
        except (TypeError, ValueError):
            continue
