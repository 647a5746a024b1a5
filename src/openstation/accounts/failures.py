"""Failed-login counting per source address, for Auto Block and the rate limit (pure)."""

from __future__ import annotations

from collections import deque


class FailureCounter:
    """Remembers failure times per key within a sliding window."""

    def __init__(self, limit: int, window: float, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._times: dict[str, deque[float]] = {}

    def record(self, key: str, now: float) -> bool:
        """Count one failure; True when `key` has now reached the limit within the window."""
        times = self._times.get(key)
        if times is None:
            if len(self._times) >= self.max_keys:  # bounded memory under a spray of sources
                self._forget_oldest()
            times = self._times[key] = deque()
        times.append(now)
        self._trim(times, now)
        return len(times) >= self.limit

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

    def _forget_oldest(self) -> None:
        oldest = min(self._times, key=lambda k: self._times[k][-1] if self._times[k] else 0.0)
        del self._times[oldest]
