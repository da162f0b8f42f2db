"""Rate limiting and fault injection, applied after authentication to the API routes only."""

from __future__ import annotations

import anyio
import httpx2
import pytest
from starlette.applications import Starlette

from sandbox.faults import RateLimit
from sandbox.state import Sandbox
from tests.sandbox.sandbox_testkit import API, client_for

pytestmark = pytest.mark.anyio

QUERY = f"{API}/user/query"


async def test_rate_limit_answers_429_with_the_real_plain_text_body(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    now = 1_000_000.0
    sandbox.clock = lambda: now
    sandbox.rate_limit = RateLimit(requests=2, per_seconds=60)
    statuses = [(await client.get(QUERY)).status_code for _ in range(2)]
    limited = await client.get(QUERY)
    assert statuses == [200, 200]
    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith("text/plain")
    assert limited.text == "Rate limited. Please wait 60 seconds before trying again."
    now += 45
    assert (await client.get(QUERY)).text == "Rate limited. Please wait 15 seconds before trying again."
    now += 15
    assert (await client.get(QUERY)).status_code == 200


def test_rate_limit_parses_n_per_seconds() -> None:
    assert RateLimit.parse("10/2") == RateLimit(requests=10, per_seconds=2.0)
    with pytest.raises(ValueError, match="N/SECONDS"):
        RateLimit.parse("ten")


async def test_injected_status_answers_every_request(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.faults.status = 503
    response = await client.get(QUERY)
    assert response.status_code == 503
    assert response.json() == {"message": "Fault injected by the sandbox (HTTP 503)"}


async def test_injected_429_uses_the_rate_limit_text(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.faults.status = 429
    sandbox.faults.retry_after_s = 7
    response = await client.get(QUERY)
    assert response.status_code == 429
    assert response.text == "Rate limited. Please wait 7 seconds before trying again."


async def test_status_share_answers_that_share_of_requests(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.faults.status = 500
    sandbox.faults.status_share = 0.25
    statuses = [(await client.get(QUERY)).status_code for _ in range(8)]
    assert statuses.count(500) == 2 and statuses.count(200) == 6


async def test_faulted_requests_do_not_reach_the_handler(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.faults.status = 500
    response = await client.post(f"{API}/user/", json={"email": "a@example.com"})
    assert response.status_code == 500
    assert sandbox.store.count_users() == 0


async def test_latency_delays_the_answer_and_is_cancellable(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.faults.latency_s = 30.0
    with anyio.move_on_after(0.2) as scope:
        await client.get(QUERY)
    assert scope.cancelled_caught  # the client's own timeout wins, as it would over a network


async def test_dropped_connection_is_a_protocol_error_for_the_client(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.faults.drop_connection = True
    with pytest.raises(httpx2.RemoteProtocolError):
        await client.get(QUERY)


async def test_malformed_json_garbles_only_successful_bodies(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.faults.malformed_json = True
    ok = await client.get(QUERY)
    not_found = await client.get(f"{API}/user/5b0e8a7c-3f2d-4c1b-9a8e-7d6c5b4a3f21")
    assert ok.status_code == 200 and ok.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):
        ok.json()
    assert not_found.json() == {"message": "User not found"}


async def test_faults_spare_unauthenticated_and_non_api_requests(app: Starlette, sandbox: Sandbox) -> None:
    sandbox.faults.status = 503
    async with client_for(app, api_key=None) as anonymous:
        assert (await anonymous.get(QUERY)).status_code == 401
        assert (await anonymous.get("/magic-link", params={"token": "x"})).status_code == 404
