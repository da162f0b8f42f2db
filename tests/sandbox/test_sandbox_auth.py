"""The API key gate: checked before anything else, and the request counters built on it."""

from __future__ import annotations

import httpx2
import pytest
from starlette.applications import Starlette

from sandbox.state import Sandbox
from tests.sandbox.sandbox_testkit import API, client_for

pytestmark = pytest.mark.anyio


async def test_missing_api_key_is_401_with_a_json_message(app: Starlette) -> None:
    async with client_for(app, api_key=None) as anonymous:
        response = await anonymous.get(f"{API}/user/query")
    assert response.status_code == 401
    assert "API key" in response.json()["message"]


async def test_wrong_api_key_is_401(app: Starlette) -> None:
    async with client_for(app, api_key="not-the-key") as wrong:
        response = await wrong.get(f"{API}/user/query")
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized: a valid backend API key is required"}


async def test_non_bearer_scheme_is_401(app: Starlette) -> None:
    async with client_for(app, api_key=None) as http:
        response = await http.get(f"{API}/user/query", headers={"Authorization": "Basic test-api-key"})
    assert response.status_code == 401


async def test_wrong_key_is_401_before_validation_and_before_unknown_ids(app: Starlette) -> None:
    async with client_for(app, api_key="nope") as wrong:
        bad_body = await wrong.post(f"{API}/user/", json={"email": "not-an-email"})
        unknown_user = await wrong.get(f"{API}/user/00000000-0000-4000-8000-000000000000")
        metadata = await wrong.get("/api/v1/token_verification_metadata")
    assert [r.status_code for r in (bad_body, unknown_user, metadata)] == [401, 401, 401]


async def test_wrong_key_is_401_before_faults_and_rate_limits(app: Starlette, sandbox: Sandbox) -> None:
    sandbox.faults.status = 503
    async with client_for(app, api_key="nope") as wrong:
        response = await wrong.get(f"{API}/user/query")
    assert response.status_code == 401


async def test_requests_received_counts_only_authenticated_api_requests(
    app: Starlette, sandbox: Sandbox, client: httpx2.AsyncClient
) -> None:
    async with client_for(app, api_key="nope") as wrong:
        await wrong.get(f"{API}/user/query")
    assert (sandbox.requests_received, sandbox.requests_total) == (0, 1)
    await client.get(f"{API}/user/query")
    await client.get(f"{API}/user/00000000-0000-4000-8000-000000000000")
    assert (sandbox.requests_received, sandbox.requests_total) == (2, 3)
