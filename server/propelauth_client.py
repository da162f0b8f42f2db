"""The PropelAuth HTTP client: one long-lived httpx2 client, deadlines, bounded retries where safe.

httpx2 exceptions are translated here, once, into the tool layer's `BackendError` tree. Each attempt
has one deadline for the whole exchange (connecting, sending, reading the body to its end), the retry
budget bounds all attempts and waits together, and an answer is read only up to `MAX_ANSWER_BYTES`.
An answer that is not PropelAuth's (an HTML page, a redirect, a 404 from a host that does not answer
PropelAuth's token-verification endpoint) is reported as such, never as "not found".
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx2

from server.wire_answers import (
    IDENTITY_PATH,
    connection_failure_cause,
    host_of,
    not_propelauth_text,
    propelauth_identity,
    retry_after_s,
    seen_text,
    strange_answer,
)
from tools.backend import (
    ApiRequest,
    ApiResponse,
    BackendAnswerTooLarge,
    BackendBusy,
    BackendError,
    BackendNotPropelAuth,
    BackendRefused,
    BackendTimeout,
    BackendUnreachable,
    rate_limit_wait_s,
)
from tools.secrets import REDACTED

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
BACKOFF_BASE_S = 0.25  # the first retry waits up to this; each next one up to twice as long ...
BACKOFF_CAP_S = 4.0  # ... but never more than this
DEFAULT_RETRY_BUDGET_S = 15.0
DEFAULT_IN_FLIGHT_WAIT_S = 10.0
DEFAULT_TIMEOUT_S = 10.0
MAX_ANSWER_BYTES = 16 * 1024 * 1024  # no PropelAuth answer comes near this; a runaway body stops here
_SENDING = ("send_request_headers.started",)  # httpcore trace events: the request began to leave


def full_jitter(high: float) -> float:
    return random.uniform(0, high)


def _parse_body(content: bytes, charset: str | None) -> object:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode(charset or "utf-8", errors="replace")


class _Exchange:
    """One attempt's raw answer, read whole (up to the cap) inside the attempt's deadline."""

    def __init__(self, response: httpx2.Response, content: bytes, key: str | None) -> None:
        self.status = response.status_code
        self.headers = response.headers
        self.host = host_of(response.request.url)
        text_key = key.encode() if key else None
        # An error body that echoes the API key: SecretScrubber's rule, on the raw bytes, so that the
        # common answer (no key in it) costs one byte search instead of a walk through its JSON.
        if text_key and text_key in content:
            content = content.replace(text_key, REDACTED.encode())
        self.content = content
        self.body = _parse_body(content, response.charset_encoding)


class PropelAuthClient:
    """Implements `tools.backend.Backend` over an injected `httpx2.AsyncClient`."""

    def __init__(
        self,
        http: httpx2.AsyncClient,
        *,
        max_retries: int = 3,
        retry_budget_s: float = DEFAULT_RETRY_BUDGET_S,
        max_in_flight: int = 8,
        in_flight_wait_s: float = DEFAULT_IN_FLIGHT_WAIT_S,
        timeout_s: float | None = None,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[float], float] = full_jitter,
    ) -> None:
        self._http = http
        self.max_retries = max_retries
        self.retry_budget_s = retry_budget_s
        self.max_in_flight = max_in_flight
        self._slots = anyio.Semaphore(max_in_flight)
        self.in_flight_wait_s = in_flight_wait_s
        # --timeout is one deadline per attempt; by default the one the httpx2 client was built with.
        self.timeout_s = timeout_s if timeout_s is not None else (http.timeout.read or DEFAULT_TIMEOUT_S)
        self._max_answer_bytes = max_answer_bytes
        self._sleep = sleep  # injectable, with the clock, so resilience tests need not wait for real
        self._clock = clock
        self._jitter = jitter
        self._key = _bearer_key(http)
        self._identified = False  # set once the host answered like PropelAuth; a 404 is then trusted
        self._identifying = anyio.Lock()

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
        with anyio.move_on_after(self.in_flight_wait_s) as waited:
            await self._slots.acquire()
        if waited.cancelled_caught:
            raise BackendBusy(
                f"{self.max_in_flight} PropelAuth requests already in flight for {self.in_flight_wait_s:g} s",
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
                answer = await self._attempt(request, self._remaining(started))
            except BackendError as error:
                # Never send a state-changing request again once it may have reached PropelAuth.
                final = error.may_have_reached and request.changes_state
                delay = None if final or not _retryable(error) else self._next_delay(attempt, started, None)
                if delay is None:
                    error.attempts, error.elapsed_s = attempt, self._clock() - started
                    raise
            else:
                delay = None
                hint = retry_after_s(answer.headers, answer.body) if answer.status == 429 else None
                if answer.status in RETRYABLE_STATUSES and not request.changes_state:
                    delay = self._next_delay(attempt, started, hint)
                if delay is None:
                    elapsed = self._clock() - started
                    await self._check_identity(request, answer, attempt, elapsed)
                    return ApiResponse(
                        status=answer.status,
                        body=answer.body,
                        attempts=attempt,
                        elapsed_s=elapsed,
                        retried_statuses=tuple(retried),
                        retry_after_s=hint,
                    )
                retried.append(answer.status)
            await self._sleep(delay)

    def _remaining(self, started: float) -> float:
        return self.retry_budget_s - (self._clock() - started)

    def _next_delay(self, attempt: int, started: float, hint: float | None) -> float | None:
        """Seconds to wait before the next attempt, or None to give up (retries or time budget spent).

        The budget counts the attempts made so far too: no wait ends, and no attempt starts, past it.
        A wait named by PropelAuth that does not fit in the budget is not waited for.
        """
        if attempt > self.max_retries:
            return None
        # Full jitter on an exponential base, capped; a named wait from PropelAuth overrides it.
        exponential = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
        delay = hint if hint is not None else self._jitter(exponential)
        if self._clock() - started + delay >= self.retry_budget_s:
            return None
        return delay

    async def _attempt(self, request: ApiRequest, remaining_s: float) -> _Exchange:
        """Send once and read the whole answer, all within min(--timeout, what the budget has left)."""
        sending = _SendingWatch()
        try:
            built = self._http.build_request(
                request.method,
                request.path,
                params=request.query or None,
                json=request.json,
                extensions={"trace": sending.trace},
            )
        except httpx2.InvalidURL as exc:
            # The request cannot even be built (e.g. a 100 kB value in the query string): nothing left.
            # httpx2 raises InvalidURL only while building URLs, so sending needs no such handler.
            raise BackendRefused(f"the request cannot be sent as HTTP ({str(exc)[:120]})") from exc
        host = host_of(built.url)
        deadline = min(self.timeout_s, remaining_s)
        try:
            with anyio.fail_after(max(deadline, 0.0)):
                response = await self._http.send(built, stream=True)
                try:
                    content = await self._read_capped(response, host)
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise BackendTimeout(
                f"PropelAuth at {host} did not answer in time (no whole answer within {deadline:g} s)",
                may_have_reached=sending.maybe_sent,
            ) from exc
        except httpx2.TransportError as exc:
            raise _translate(exc, host, self._key) from exc
        return _Exchange(response, content, self._key)

    async def _read_capped(self, response: httpx2.Response, host: str) -> bytes:
        limit = self._max_answer_bytes
        declared = response.headers.get("content-length", "")
        too_large = BackendAnswerTooLarge(
            f"PropelAuth's answer (HTTP {response.status_code} from {host}) was larger than "
            f"{limit / 2**20:g} MiB; it was not read",
            may_have_reached=True,
        )
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():  # decoded: a compressed bomb is stopped too
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    async def _check_identity(
        self, request: ApiRequest, answer: _Exchange, attempts: int, elapsed_s: float
    ) -> None:
        """Raise BackendNotPropelAuth for an answer PropelAuth's API would not give.

        An HTML page or a redirect never comes from it (5xx excepted: a proxy's error page is still a
        server error). A 404 means "no such user" only from a host that has shown it is PropelAuth:
        it answered the token-verification endpoint, with this key, as only PropelAuth does. The real
        service's 404 bodies are read by no official SDK, so their shape cannot be the test.
        """
        strange = strange_answer(answer.status, answer.headers, answer.content)
        if strange is None and answer.status == 404 and request.path != IDENTITY_PATH:
            strange = await self._unconfirmed_404(answer, self.retry_budget_s - elapsed_s)
        if strange is not None:
            raise BackendNotPropelAuth(
                not_propelauth_text(answer.host, strange),
                may_have_reached=200 <= answer.status < 300,  # a 2xx from whoever it was: say so
                attempts=attempts,
                elapsed_s=elapsed_s,
            )

    async def _unconfirmed_404(self, answer: _Exchange, remaining_s: float) -> str | None:
        """None when the host is, or may be, PropelAuth; else what was seen (the 404, the check's answer).

        Only a conclusive answer to the check condemns the 404: one PropelAuth never gives there
        (a 404, a 2xx without a verifier key, a redirect, a page). A check that is rate-limited,
        failing (5xx), refused for this key (401/403: a key may lack that one permission) or not
        answered leaves the 404 trusted, as before, and the check is made again next time.
        """
        async with self._identifying:
            if self._identified:
                return None
            deadline = min(self.timeout_s, remaining_s)
            try:
                probe = await self._attempt(ApiRequest("GET", IDENTITY_PATH), deadline)
            except BackendError:
                return None
            strange = strange_answer(probe.status, probe.headers, probe.content)
            verdict = propelauth_identity(
                probe.status, probe.body, strange or seen_text(probe.status, probe.headers, probe.content)
            )
            if verdict.is_propelauth:
                self._identified = True
                return None
            if strange is None and (probe.status in (401, 403, 429) or probe.status >= 500):
                return None
            first = seen_text(404, answer.headers, answer.content)
            return f"{first}, and {IDENTITY_PATH} answered {verdict.seen}"

    def note_identified(self) -> None:
        """The start-up check saw PropelAuth answer: 404s need no confirmation of their own."""
        self._identified = True


class _SendingWatch:
    """Whether the request may have begun to leave, from httpcore's trace events.

    A transport that does not trace (an in-memory one) tells nothing: assume it may have left.
    """

    def __init__(self) -> None:
        self._traced = False
        self._sending = False

    async def trace(self, name: str, info: dict[str, Any]) -> None:
        self._traced = True
        if name.endswith(_SENDING):
            self._sending = True

    @property
    def maybe_sent(self) -> bool:
        return self._sending or not self._traced


def _retryable(error: BackendError) -> bool:
    return isinstance(error, BackendTimeout | BackendUnreachable)


def _translate(exc: httpx2.TransportError, host: str, key: str | None) -> BackendError:
    """The BackendError for a transport failure: host and cause named, whether the request may have left."""
    cause = connection_failure_cause(exc, key)
    late = f"PropelAuth at {host} did not answer in time ({cause})"
    # Connecting failed: nothing left this machine, so even a state-changing request may be sent again.
    if isinstance(exc, httpx2.ConnectError):
        return BackendUnreachable(f"could not reach PropelAuth at {host}: {cause}", may_have_reached=False)
    if isinstance(exc, httpx2.ConnectTimeout | httpx2.PoolTimeout):
        return BackendTimeout(late, may_have_reached=False)
    if isinstance(exc, httpx2.TimeoutException):
        return BackendTimeout(late, may_have_reached=True)
    # The connection broke mid-request: PropelAuth may have acted on it.
    return BackendUnreachable(
        f"could not reach PropelAuth at {host}: the connection failed mid-request ({cause})",
        may_have_reached=True,
    )


def _bearer_key(http: httpx2.AsyncClient) -> str | None:
    """The API key the client sends, so that an answer echoing it can be scrubbed."""
    scheme, _, key = http.headers.get("authorization", "").partition(" ")
    return key if scheme.lower() == "bearer" and len(key) >= 8 else None


__all__ = ["IDENTITY_PATH", "MAX_ANSWER_BYTES", "PropelAuthClient", "rate_limit_wait_s"]
