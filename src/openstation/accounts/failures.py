"""Event counting per key (a source address) in a sliding window: failed sign-ins for Auto
Block and the rate limit, successful ones, discovery queries (pure).

Memory is bounded: at most `max_keys` keys, the least recently counted forgotten first, in
O(1) (a spray of spoofed sources costs each new source the same as the first).
"""

from __future__ import annotations

from collections import OrderedDict, deque


class FailureCounter:
    """Remembers failure times per key within a sliding window."""

    def __init__(self, limit: int, window: float, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._times: OrderedDict[str, deque[float]] = OrderedDict()

    def record(self, key: str, now: float) -> bool:
        """Count one event; True when `key` has now reached the limit within the window."""
        times = self._times.get(key)
        if times is None:
            if len(self._times) >= self.max_keys:
                self._times.popitem(last=False)  # the least recently counted key
            times = self._times[key] = deque(maxlen=self.limit)  # enough to decide
        else:
            self._times.move_to_end(key)
        times.append(now)
        self._trim(times, now)
        return len(times) >= self.limit

    def take(self, key: str, now: float) -> bool:
        """Count one event if `key` is under the limit (True), else count nothing (False)."""
        if self.over_limit(key, now):
            return False
        self.record(key, now)
        return True

    def over_limit(self, key: str, now: float) -> bool:
        """Whether `key` is at the limit now (without counting anything)."""
        times = self._times.get(key)
        if not times:
            return False
        self._trim(times, now)
        return len(times) >= self.limit

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until `key` drops below the limit again."""
        times = self._times.get(key)
        if not times or len(times) < self.limit:
            return 0.0
        return max(0.0, times[-self.limit] + self.window - now)

    def clear(self, key: str) -> None:
        self._times.pop(key, None)

    def _trim(self, times: deque[float], now: float) -> None:
        while times and now - times[0] > self.window:
            times.popleft()

    def __len__(self) -> int:
        return len(self._times)
