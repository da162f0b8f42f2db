"""Rate limiting and fault injection, so the MCP server's resilience can be tested."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

RATE_LIMITED_TEMPLATE = "Rate limited. Please wait {seconds} seconds before trying again."


def rate_limited_text(seconds: int) -> str:
    """The service's exact plain-text 429 body."""
    return RATE_LIMITED_TEMPLATE.format(seconds=seconds)


@dataclass
class Faults:
    """Faults applied to authenticated API requests; mutate the fields freely during a test.

    `status` answers `status_share` of requests with that status instead of handling them. The
    choice is deterministic, not random: with a share of 0.25, every fourth request is answered
    with the status, so tests need no retries or seeds.
    """

    latency_s: float = 0.0
    status: int | None = None
    status_share: float = 1.0
    drop_connection: bool = False
    malformed_json: bool = False
    retry_after_s: int = 3
    _seen: int = field(default=0, init=False, repr=False, compare=False)

    def take_status(self) -> int | None:
        """The status to inject for this request, if any (advances the deterministic schedule)."""
        if self.status is None:
            return None
        share = min(max(self.status_share, 0.0), 1.0)
        before = math.floor(self._seen * share + 1e-9)
        self._seen += 1
        after = math.floor(self._seen * share + 1e-9)
        return self.status if after > before else None


@dataclass
class RateLimit:
    """At most `requests` authenticated API requests in any `per_seconds` window."""

    requests: int
    per_seconds: float
    _recent: deque[float] = field(default_factory=deque, init=False, repr=False, compare=False)

    def wait_seconds(self, now: float) -> int | None:
        """None if the request may proceed (and it is counted); else the whole seconds to wait."""
        while self._recent and self._recent[0] <= now - self.per_seconds:
            self._recent.popleft()
        if len(self._recent) < self.requests:
            self._recent.append(now)
            return None
        return max(1, math.ceil(self._recent[0] + self.per_seconds - now))

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """Parse `N/SECONDS`, e.g. `10/1` for ten requests a second."""
        count, _, seconds = text.partition("/")
        try:
            limit = cls(requests=int(count), per_seconds=float(seconds or "1"))
        except ValueError:
            raise ValueError(f"expected N/SECONDS, got {text!r}") from None
        if limit.requests < 1 or not limit.per_seconds > 0:
            raise ValueError(f"expected a positive N/SECONDS, got {text!r}")
        return limit
