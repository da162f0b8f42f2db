"""The PropelAuth HTTP client: one long-lived httpx2 client, timeouts, bounded retries where safe.

httpx2 exceptions are translated here, once, into the tool layer's `BackendError` tree.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx2

from tools.backend import (
    ApiRequest,
    ApiResponse,
    BackendBusy,
    BackendError,
    BackendRefused,
    BackendTimeout,
    BackendUnreachable,
    rate_limit_wait_s,
)

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


def rate_limit_wait(response: httpx2.Response) -> float | None:
    """The wait PropelAuth names for a 429: its plain-text body, else a Retry-After header."""
    named = rate_limit_wait_s(response.text)
    if named is not None:
        return named
    retry_after = response.headers.get("retry-after", "")
    return float(retry_after) if retry_after.isdigit() else None


def _parse_body(response: httpx2.Response) -> object:
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return response.text


def _classify(exc: httpx2.TransportError) -> tuple[type[BackendError], str, bool]:
    """(the error to raise, what happened, whether the request may have reached PropelAuth)."""
    # Connecting failed: nothing left this machine, so even a state-changing request may be sent again.
    if isinstance(exc, httpx2.ConnectError):
        return BackendUnreachable, f"could not connect to PropelAuth ({type(exc).__name__})", False
    if isinstance(exc, httpx2.ConnectTimeout | httpx2.PoolTimeout):
        return BackendTimeout, "PropelAuth did not answer in time", False
    if isinstance(exc, httpx2.TimeoutException):
        return BackendTimeout, "PropelAuth did not answer in time", True
    # The connection broke mid-request: PropelAuth may have acted on it.
    return BackendUnreachable, f"the connection to PropelAuth failed mid-request ({type(exc).__name__})", True


class PropelAuthClient:
    """Implements `tools.backend.Backend` over an injected `httpx2.AsyncClient`."""

    def __init__(
        self,
        http: httpx2.AsyncClient,
        *,
        max_retries: int = 3,
        retry_budget_s: float = 15.0,
        max_in_flight: int = 8,
        in_flight_wait_s: float = 10.0,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._max_retries = max_retries
        self._retry_budget_s = retry_budget_s
        self._max_in_flight = max_in_flight
        self._slots = anyio.Semaphore(max_in_flight)
        self._in_flight_wait_s = in_flight_wait_s
        self._sleep = sleep  # injectable, with the clock, so resilience tests need not wait for real
        self._clock = clock

    async def send(self, request: ApiRequest) -> ApiResponse:
        try:
            self._slots.acquire_nowait()  # the common case: a slot is free, no timer needed
        except anyio.WouldBlock:
            await self._wait_for_slot()
        try:
            return await self._send_with_retries(request)
        finally:
            self._slots.release()

    async def _wait_for_slot(self) -> None:
        with anyio.move_on_after(self._in_flight_wait_s) as waited:
            await self._slots.acquire()
        if waited.cancelled_caught:
            raise BackendBusy(
                f"{self._max_in_flight} PropelAuth requests already in flight "
                f"for {self._in_flight_wait_s:g} s",
                may_have_reached=False,
                attempts=0,
            )

    async def _send_with_retries(self, request: ApiRequest) -> ApiResponse:
        started = self._clock()
        retried: list[int] = []
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(
                    request.method, request.path, params=request.query or None, json=request.json
                )
            except httpx2.InvalidURL as exc:
                # The request cannot even be built (e.g. a 100 kB value in the query string): nothing left.
                raise BackendRefused(f"the request cannot be sent as HTTP ({str(exc)[:120]})") from exc
            except httpx2.TransportError as exc:
                error_type, what, reached = _classify(exc)
                # Never send a state-changing request again once it may have reached PropelAuth.
                delay = (
                    None if (reached and request.changes_state) else self._next_delay(attempt, started, None)
                )
                if delay is None:
                    raise error_type(
                        what, may_have_reached=reached, attempts=attempt, elapsed_s=self._clock() - started
                    ) from exc
            else:
                delay = None
                if response.status_code in RETRYABLE_STATUSES and not request.changes_state:
                    hint = rate_limit_wait(response) if response.status_code == 429 else None
                    delay = self._next_delay(attempt, started, hint)
                if delay is None:
                    return ApiResponse(
                        status=response.status_code,
                        body=_parse_body(response),
                        attempts=attempt,
                        elapsed_s=self._clock() - started,
                        retried_statuses=tuple(retried),
                    )
                retried.append(response.status_code)
            await self._sleep(delay)

    def _next_delay(self, attempt: int, started: float, hint: float | None) -> float | None:
        """Seconds to wait before the next attempt, or None to give up (retries or time budget spent).

        The budget counts the attempts made so far too: no attempt starts once it is spent.
        """
        if attempt > self._max_retries:
            return None
        # Full jitter on an exponential base, capped; a named wait from PropelAuth overrides it.
        delay = hint if hint is not None else random.uniform(0, min(4.0, 0.25 * 2 ** (attempt - 1)))
        if self._clock() - started + delay >= self._retry_budget_s:
            return None
        return delay
