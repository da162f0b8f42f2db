"""The seam between the tool executor and whatever carries requests to PropelAuth.

The server implements `Backend` with httpx2 (auth header, timeouts, retries); tests may implement it
with the sandbox. Transport failures are raised as the small exception tree below, translated once
at the boundary by the implementation; HTTP error statuses are returned, not raised.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

_RATE_LIMIT_WAIT = re.compile(r"wait\s+([0-9]+(?:\.[0-9]+)?)\s+seconds?", re.IGNORECASE | re.ASCII)
LONGEST_NAMED_WAIT_S = 86_400.0  # a named wait is clamped to a day (a 400-digit one would be infinite)


def sane_wait_s(seconds: float) -> float | None:
    """A wait PropelAuth named, made usable: None if negative or not a number, at most a day."""
    if math.isnan(seconds) or seconds < 0:
        return None
    return min(seconds, LONGEST_NAMED_WAIT_S)


def rate_limit_wait_s(body: Any) -> float | None:
    """The wait a 429 names in its plain-text body ("Rate limited. Please wait 3 seconds ..."), if any."""
    found = _RATE_LIMIT_WAIT.search(body) if isinstance(body, str) else None
    return sane_wait_s(float(found.group(1))) if found else None


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str  # path parameters already substituted and percent-encoded
    query: dict[str, str] = field(default_factory=dict)  # booleans as "true"/"false"; absent values omitted
    json: dict[str, Any] | None = None
    changes_state: bool = False  # False for reads: only those may be retried once the request may have left


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any  # parsed JSON when the body is JSON, else the text (e.g. a 429's plain-text message)
    attempts: int = 1  # how many times the request was sent (retries included)
    elapsed_s: float = 0.0  # wall time over all attempts
    retried_statuses: tuple[int, ...] = ()  # statuses that caused a retry, in order
    retry_after_s: float | None = None  # the wait a final 429 named (body or Retry-After), if usable

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Backend(Protocol):
    async def send(self, request: ApiRequest) -> ApiResponse: ...


class BackendError(Exception):
    """PropelAuth could not be asked, or did not answer usably. Carries what we know of the attempt."""

    def __init__(self, message: str, *, may_have_reached: bool, attempts: int = 1, elapsed_s: float = 0.0):
        super().__init__(message)
        self.may_have_reached = may_have_reached  # True when the request may have been processed
        self.attempts = attempts
        self.elapsed_s = elapsed_s


class BackendTimeout(BackendError):
    """No answer within the configured timeout."""


class BackendUnreachable(BackendError):
    """The connection failed (refused, reset, DNS, TLS); the message names the host and the cause."""


class BackendBusy(BackendError):
    """Too many requests already in flight from this server; nothing was sent."""


class BackendNotPropelAuth(BackendError):
    """The answer did not come from PropelAuth's API (an HTML page, a redirect, an unconfirmed 404)."""


class BackendAnswerTooLarge(BackendError):
    """PropelAuth's answer was larger than this server reads; it was not read whole."""


class BackendRefused(BackendError):
    """Refused on our side before sending (audit log unwritable, blast-radius limit reached)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, may_have_reached=False, attempts=0)
