"""The PropelAuth client: retries reads where safe, never re-sends a write that may have landed."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import httpx2
import pytest

from server.propelauth_client import PropelAuthClient
from tools.backend import ApiRequest, BackendBusy, BackendTimeout, BackendUnreachable

pytestmark = pytest.mark.anyio

READ = ApiRequest("GET", "/api/backend/v1/user/query", query={"page_size": "2"})
WRITE = ApiRequest("POST", "/api/backend/v1/user/", json={"email": "a@example.com"}, changes_state=True)


class Script:
    """A MockTransport handler answering from a list, recording what was sent."""

    def __init__(self, *answers: httpx2.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client_for(script: Script, sleeps: list[float], **options: float) -> PropelAuthClient:
    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    http = httpx2.AsyncClient(transport=httpx2.MockTransport(script), base_url="https://auth.example.com")
    return PropelAuthClient(http, sleep=record_sleep, **options)  # type: ignore[arg-type]


def rate_limited(seconds: int) -> httpx2.Response:
    return httpx2.Response(429, text=f"Rate limited. Please wait {seconds} seconds before trying again.")


async def test_a_read_is_retried_on_503_and_then_succeeds() -> None:
    script = Script(httpx2.Response(503), httpx2.Response(502), httpx2.Response(200, json={"users": []}))
    sleeps: list[float] = []
    response = await client_for(script, sleeps).send(READ)
    assert (response.status, response.body, response.attempts, response.retried_statuses) == (
        200,
        {"users": []},
        3,
        (503, 502),
    )
    assert len(sleeps) == 2 and all(0 <= s <= 4 for s in sleeps)


async def test_a_read_honours_the_wait_named_by_a_429() -> None:
    script = Script(rate_limited(2), httpx2.Response(200, json={}))
    sleeps: list[float] = []
    response = await client_for(script, sleeps).send(READ)
    assert response.status == 200 and sleeps == [2.0]


async def test_a_429_whose_wait_exceeds_the_budget_is_returned_at_once() -> None:
    script = Script(rate_limited(60))
    sleeps: list[float] = []
    response = await client_for(script, sleeps, retry_budget_s=15.0).send(READ)
    assert (response.status, response.attempts, sleeps) == (429, 1, [])
    assert "60 seconds" in response.body


async def test_retries_stop_after_max_retries() -> None:
    script = Script(*[httpx2.Response(503) for _ in range(3)])
    sleeps: list[float] = []
    response = await client_for(script, sleeps, max_retries=2).send(READ)
    assert (response.status, response.attempts, len(script.requests)) == (503, 3, 3)


async def test_a_write_is_never_retried_on_an_error_status() -> None:
    script = Script(httpx2.Response(503), httpx2.Response(200, json={"user_id": "x"}))
    response = await client_for(script, []).send(WRITE)
    assert (response.status, len(script.requests)) == (503, 1)


async def test_a_write_that_timed_out_is_reported_as_maybe_applied_and_not_retried() -> None:
    script = Script(httpx2.ReadTimeout("slow"), httpx2.Response(200, json={}))
    with pytest.raises(BackendTimeout) as raised:
        await client_for(script, []).send(WRITE)
    assert raised.value.may_have_reached is True and len(script.requests) == 1


async def test_a_write_whose_connection_was_refused_is_retried_because_nothing_arrived() -> None:
    script = Script(httpx2.ConnectError("refused"), httpx2.Response(200, json={"user_id": "x"}))
    response = await client_for(script, []).send(WRITE)
    assert (response.status, response.attempts) == (200, 2)


async def test_an_unreachable_backend_is_reported_after_the_retries() -> None:
    script = Script(*[httpx2.ConnectError("refused") for _ in range(4)])
    with pytest.raises(BackendUnreachable) as raised:
        await client_for(script, []).send(READ)
    assert (raised.value.may_have_reached, raised.value.attempts) == (False, 4)


async def test_a_connection_dropped_mid_write_is_reported_as_maybe_applied() -> None:
    script = Script(httpx2.RemoteProtocolError("peer closed"))
    with pytest.raises(BackendUnreachable) as raised:
        await client_for(script, []).send(WRITE)
    assert raised.value.may_have_reached is True and len(script.requests) == 1


async def test_a_body_that_is_not_json_is_returned_as_text() -> None:
    script = Script(httpx2.Response(200, text="oops, plain text"))
    response = await client_for(script, []).send(READ)
    assert response.body == "oops, plain text"


async def test_query_values_and_the_json_body_are_sent_as_given() -> None:
    script = Script(httpx2.Response(200, json={}), httpx2.Response(200, json={}))
    client = client_for(script, [])
    await client.send(READ)
    await client.send(WRITE)
    assert str(script.requests[0].url) == "https://auth.example.com/api/backend/v1/user/query?page_size=2"
    assert script.requests[1].content == b'{"email":"a@example.com"}'


async def test_requests_beyond_the_in_flight_bound_wait_then_give_up_without_sending() -> None:
    release = anyio.Event()
    sent: list[str] = []

    async def slow(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.url.path)
        await release.wait()
        return httpx2.Response(200, json={})

    http = httpx2.AsyncClient(transport=httpx2.MockTransport(slow), base_url="https://auth.example.com")
    client = PropelAuthClient(http, max_in_flight=1, in_flight_wait_s=0.05)
    outcomes: list[object] = []

    async def call(record: Callable[[object], None]) -> None:
        try:
            record(await client.send(READ))
        except BackendBusy as exc:
            record(exc)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call, outcomes.append)
            await anyio.wait_all_tasks_blocked()
            await call(outcomes.append)
            release.set()
    assert isinstance(outcomes[0], BackendBusy) and outcomes[0].may_have_reached is False
    assert outcomes[0].attempts == 0 and len(sent) == 1  # the audit records it as never sent
    assert "1 PropelAuth requests" in str(outcomes[0]) and "0.05 s" in str(outcomes[0])  # which bound


async def test_no_attempt_starts_once_the_retry_budget_is_spent_counting_the_attempts_themselves() -> None:
    now = [0.0]
    starts: list[float] = []

    def slow_then_timeout(request: httpx2.Request) -> httpx2.Response:
        starts.append(now[0])
        now[0] += 0.6  # each attempt takes 0.6 s before it times out
        raise httpx2.ReadTimeout("slow")

    async def advance(seconds: float) -> None:
        now[0] += seconds

    http = httpx2.AsyncClient(
        transport=httpx2.MockTransport(slow_then_timeout), base_url="https://auth.example.com"
    )
    client = PropelAuthClient(http, max_retries=5, retry_budget_s=1.0, sleep=advance, clock=lambda: now[0])
    with pytest.raises(BackendTimeout) as raised:
        await client.send(READ)
    assert len(starts) == 2 and all(start < 1.0 for start in starts)
    assert raised.value.attempts == 2 and raised.value.may_have_reached is True


# --- the retry rules, each pinned ------------------------------------------------------------------------


def upper_bound(high: float) -> float:
    """Jitter that always takes the top of its range, so back-off delays are exact."""
    return high


async def test_a_504_on_a_read_is_retried() -> None:
    script = Script(httpx2.Response(504), httpx2.Response(200, json={}))
    response = await client_for(script, []).send(READ)
    assert (response.status, response.retried_statuses) == (200, (504,))


async def test_the_statuses_retried_are_exactly_429_502_503_504() -> None:
    for status in (400, 401, 403, 409, 422, 500, 501, 505):  # 404: see test_backend_answers
        script = Script(httpx2.Response(status), httpx2.Response(200, json={}))
        response = await client_for(script, [], max_retries=1).send(READ)
        assert (status, response.attempts) == (status, 1)


async def test_back_off_doubles_from_a_quarter_second_and_is_capped_at_four_seconds() -> None:
    script = Script(*[httpx2.Response(503) for _ in range(8)])
    sleeps: list[float] = []
    await client_for(script, sleeps, max_retries=7, retry_budget_s=600.0, jitter=upper_bound).send(READ)
    assert sleeps == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


async def test_back_off_waits_a_jittered_time_between_zero_and_its_bound() -> None:
    bounds: list[float] = []

    def recording_jitter(high: float) -> float:
        bounds.append(high)
        return high / 2

    script = Script(httpx2.Response(503), httpx2.Response(503), httpx2.Response(200, json={}))
    sleeps: list[float] = []
    await client_for(script, sleeps, jitter=recording_jitter).send(READ)
    assert bounds == [0.25, 0.5] and sleeps == [0.125, 0.25]


@pytest.mark.parametrize("timeout", [httpx2.ConnectTimeout("slow"), httpx2.PoolTimeout("no connection")])
async def test_a_write_that_timed_out_before_it_was_sent_is_sent_again(timeout: Exception) -> None:
    script = Script(timeout, httpx2.Response(200, json={}))
    response = await client_for(script, []).send(WRITE)
    assert (response.status, response.attempts, len(script.requests)) == (200, 2, 2)


@pytest.mark.parametrize("timeout", [httpx2.ConnectTimeout("slow"), httpx2.PoolTimeout("no connection")])
async def test_a_timeout_before_sending_is_reported_as_nothing_sent(timeout: Exception) -> None:
    script = Script(timeout)
    with pytest.raises(BackendTimeout) as raised:
        await client_for(script, [], max_retries=0).send(WRITE)
    assert raised.value.may_have_reached is False


async def test_the_defaults_are_a_15_s_budget_three_retries_eight_in_flight_waited_for_10_s() -> None:
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(Script()), base_url="https://auth.example.com")
    client = PropelAuthClient(http)
    defaults = (client.retry_budget_s, client.max_retries, client.max_in_flight, client.in_flight_wait_s)
    assert defaults == (15.0, 3, 8, 10.0)


async def test_with_the_default_budget_no_retry_starts_after_fifteen_seconds() -> None:
    now = [0.0]

    def slow_503(request: httpx2.Request) -> httpx2.Response:
        now[0] += 7.2
        return httpx2.Response(503)

    async def advance(seconds: float) -> None:
        now[0] += seconds

    http = httpx2.AsyncClient(transport=httpx2.MockTransport(slow_503), base_url="https://auth.example.com")
    client = PropelAuthClient(http, max_retries=10, sleep=advance, clock=lambda: now[0], jitter=upper_bound)
    response = await client.send(READ)
    assert response.attempts == 2  # 7.2 + 0.25 + 7.2 = 14.65 s; a third would start at 15.15 s


async def test_the_attempt_deadline_defaults_to_the_http_clients_timeout() -> None:
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(Script()), timeout=3.0)
    assert PropelAuthClient(http).timeout_s == 3.0


async def test_an_explicit_timeout_overrides_the_http_clients_own() -> None:
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(Script()), timeout=3.0)
    assert PropelAuthClient(http, timeout_s=7.0).timeout_s == 7.0


class FakeClock:
    """A clock that moves only when the client sleeps or a handler says an attempt took time."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def taking(clock: FakeClock, seconds: float, *answers: httpx2.Response | Exception) -> Script:
    """A Script whose every attempt takes `seconds` on the fake clock."""

    class Slow(Script):
        def __call__(self, request: httpx2.Request) -> httpx2.Response:
            clock.now += seconds
            return super().__call__(request)

    return Slow(*answers)


def timed_client(script: Script, clock: FakeClock, **options: float) -> PropelAuthClient:
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(script), base_url="https://auth.example.com")
    return PropelAuthClient(http, sleep=clock.sleep, clock=clock, jitter=upper_bound, **options)  # type: ignore[arg-type]


async def test_the_time_reported_for_an_answer_counts_every_attempt_and_wait() -> None:
    clock = FakeClock()
    script = taking(clock, 0.5, httpx2.Response(503), httpx2.Response(200, json={}))
    response = await timed_client(script, clock).send(READ)
    assert (response.attempts, response.elapsed_s) == (2, 1.25)  # 0.5 + a 0.25 s back-off + 0.5


async def test_the_time_reported_for_a_failure_counts_every_attempt_and_wait() -> None:
    clock = FakeClock()
    script = taking(clock, 0.5, httpx2.ReadTimeout("slow"), httpx2.ReadTimeout("slow"))
    with pytest.raises(BackendTimeout) as raised:
        await timed_client(script, clock, max_retries=1).send(READ)
    assert (raised.value.attempts, raised.value.elapsed_s) == (2, 1.25)


async def test_a_named_wait_that_would_use_up_the_whole_budget_is_not_waited() -> None:
    clock = FakeClock()
    script = Script(rate_limited(15), httpx2.Response(200, json={}))
    response = await timed_client(script, clock, retry_budget_s=15.0).send(READ)
    assert (response.status, response.attempts, response.retry_after_s) == (429, 1, 15.0)


async def test_a_503_naming_a_wait_backs_off_as_usual_and_is_not_reported_as_rate_limited() -> None:
    sleeps: list[float] = []
    retry_after = {"retry-after": "9"}
    script = Script(httpx2.Response(503, headers=retry_after), httpx2.Response(503, headers=retry_after))
    response = await client_for(script, sleeps, max_retries=1, jitter=upper_bound).send(READ)
    assert (response.status, response.retry_after_s, sleeps) == (503, None, [0.25])
