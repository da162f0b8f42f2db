"""Blast-radius limit: at most N destructive calls sent in a sliding time window."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimit:
    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._granted: deque[float] = deque()

    def try_acquire(self) -> float | None:
        """Take one slot and return None, or return the seconds until a slot frees (refused)."""
        now = self._clock()
        while self._granted and now - self._granted[0] >= self.window_s:
            self._granted.popleft()
        if len(self._granted) < self.limit:
            self._granted.append(now)
            return None
        return self.window_s - (now - self._granted[0]) if self._granted else self.window_s

    def release(self) -> None:
        """Give back the slot just taken, for a call refused before anything was sent."""
        if self._granted:
            self._granted.pop()
