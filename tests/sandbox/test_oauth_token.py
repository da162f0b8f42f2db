"""The token endpoint: the code grant with PKCE and RFC 8707 resource, rotating refresh tokens,
client authentication by the registered method, and RFC 6749 error bodies."""

from __future__ import annotations

import httpx2
import pytest

from tests.sandbox.oauth_testkit import (
    RESOURCE,
    authorization_code,
    exchange,
    introspect,
    oauth_sandbox,
    pkce,
    register,
    signed_in,
)

pytestmark = pytest.mark.anyio


async def _refresh(
    http: httpx2.AsyncClient, client_id: str, refresh_token: str, **extra: str
) -> httpx2.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id, **extra}
    return await http.post("/oauth/2.1/token", data=form)


async def test_the_code_with_the_right_verifier_gets_bearer_tokens_that_are_not_cached() -> None:
    async with oauth_sandbox() as s:
        _, tokens = await signed_in(s.http)
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["access_token"] != tokens["refresh_token"]
    assert tokens["scope"] == "read:users admin:users"


async def test_the_token_answer_says_no_store() -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http))["client_id"]
        code, verifier = await authorization_code(s.http, client_id)
        response = await exchange(s.http, client_id, code, verifier)
    assert response.headers["cache-control"] == "no-store"


async def test_a_wrong_verifier_is_invalid_grant() -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http))["client_id"]
        code, _ = await authorization_code(s.http, client_id)
        response = await exchange(s.http, client_id, code, pkce()[0])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_a_code_is_used_once_and_its_replay_revokes_the_tokens_it_gave() -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http))["client_id"]
        code, verifier = await authorization_code(s.http, client_id)
        first = await exchange(s.http, client_id, code, verifier)
        second = await exchange(s.http, client_id, code, verifier)
        introspected = await introspect(s.http, first.json()["access_token"])
    assert first.status_code == 200
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert introspected.json() == {"active": False}


async def test_a_code_expires_after_sixty_seconds() -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http))["client_id"]
        code, verifier = await authorization_code(s.http, client_id)
        now = s.sandbox.now()
        s.sandbox.clock = lambda: now + 61
        response = await exchange(s.http, client_id, code, verifier)
    assert response.json()["error"] == "invalid_grant"


async def test_a_redirect_uri_other_than_the_authorize_one_is_invalid_grant() -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http))["client_id"]
        code, verifier = await authorization_code(s.http, client_id)
        response = await exchange(s.http, client_id, code, verifier, redirect_uri="http://127.0.0.1:1/cb")
    assert response.json()["error"] == "invalid_grant"


async def test_a_resource_other_than_the_authorize_one_is_invalid_target() -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http))["client_id"]
        code, verifier = await authorization_code(s.http, client_id)
        response = await exchange(
            s.http, client_id, code, verifier, resource="https://other.example.test/mcp"
        )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


async def test_another_clients_code_is_invalid_grant() -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http))["client_id"]
        thief = (await register(s.http))["client_id"]
        code, verifier = await authorization_code(s.http, client_id)
        response = await exchange(s.http, thief, code, verifier)
    assert response.json()["error"] == "invalid_grant"


async def test_a_refresh_rotates_the_refresh_token_and_keeps_the_resource() -> None:
    async with oauth_sandbox() as s:
        client_id, tokens = await signed_in(s.http)
        refreshed = await _refresh(s.http, client_id, tokens["refresh_token"])
        introspected = await introspect(s.http, refreshed.json()["access_token"])
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != tokens["refresh_token"]
    assert introspected.json()["aud"] == RESOURCE


async def test_a_rotated_refresh_token_replayed_is_refused_and_ends_the_grant() -> None:
    async with oauth_sandbox() as s:
        client_id, tokens = await signed_in(s.http)
        refreshed = (await _refresh(s.http, client_id, tokens["refresh_token"])).json()
        replay = await _refresh(s.http, client_id, tokens["refresh_token"])
        newest = await _refresh(s.http, client_id, refreshed["refresh_token"])
    assert replay.json()["error"] == "invalid_grant"
    assert newest.json()["error"] == "invalid_grant"


async def test_a_refresh_may_narrow_the_scopes() -> None:
    async with oauth_sandbox() as s:
        client_id, tokens = await signed_in(s.http)
        refreshed = await _refresh(s.http, client_id, tokens["refresh_token"], scope="read:users")
        introspected = await introspect(s.http, refreshed.json()["access_token"])
    assert refreshed.json()["scope"] == "read:users"
    assert introspected.json()["scope"] == "read:users"


async def test_a_refresh_may_not_widen_the_scopes_and_the_refresh_token_stays_usable() -> None:
    async with oauth_sandbox() as s:
        client_id, tokens = await signed_in(s.http, scope="read:users")
        widened = await _refresh(s.http, client_id, tokens["refresh_token"], scope="read:users admin:users")
        plain = await _refresh(s.http, client_id, tokens["refresh_token"])
    assert widened.json()["error"] == "invalid_scope"
    assert plain.status_code == 200


async def test_a_refresh_for_another_resource_is_invalid_target() -> None:
    async with oauth_sandbox() as s:
        client_id, tokens = await signed_in(s.http)
        response = await _refresh(
            s.http, client_id, tokens["refresh_token"], resource="https://other.test/mcp"
        )
    assert response.json()["error"] == "invalid_target"


async def test_a_client_registered_without_the_refresh_grant_gets_no_refresh_token() -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http, grant_types=["authorization_code"]))["client_id"]
        code, verifier = await authorization_code(s.http, client_id)
        response = await exchange(s.http, client_id, code, verifier)
    assert "refresh_token" not in response.json()


async def test_a_client_secret_post_client_authenticates_with_its_secret_in_the_form() -> None:
    async with oauth_sandbox() as s:
        client = await register(s.http, token_endpoint_auth_method="client_secret_post")
        code, verifier = await authorization_code(s.http, client["client_id"])
        wrong = await exchange(s.http, client["client_id"], code, verifier, client_secret="wrong")
        code, verifier = await authorization_code(s.http, client["client_id"])
        right = await exchange(
            s.http, client["client_id"], code, verifier, client_secret=client["client_secret"]
        )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert right.status_code == 200


async def test_a_client_secret_basic_client_authenticates_with_http_basic_only() -> None:
    async with oauth_sandbox() as s:
        client = await register(s.http, token_endpoint_auth_method="client_secret_basic")
        code, verifier = await authorization_code(s.http, client["client_id"])
        in_form = await exchange(
            s.http, client["client_id"], code, verifier, client_secret=client["client_secret"]
        )
        code, verifier = await authorization_code(s.http, client["client_id"])
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1:33418/callback",
            "code_verifier": verifier,
        }
        basic = await s.http.post(
            "/oauth/2.1/token", data=form, auth=(client["client_id"], client["client_secret"])
        )
    assert in_form.status_code == 401
    assert basic.status_code == 200, basic.text


async def test_an_unknown_grant_type_is_unsupported_grant_type() -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http))["client_id"]
        response = await s.http.post(
            "/oauth/2.1/token", data={"grant_type": "client_credentials", "client_id": client_id}
        )
    assert response.json()["error"] == "unsupported_grant_type"


async def test_a_missing_code_verifier_is_invalid_request() -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http))["client_id"]
        code, _ = await authorization_code(s.http, client_id)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "redirect_uri": "http://127.0.0.1:33418/callback",
        }
        response = await s.http.post("/oauth/2.1/token", data=form)
    assert response.json()["error"] == "invalid_request"


async def test_a_json_body_is_invalid_request() -> None:
    async with oauth_sandbox() as s:
        response = await s.http.post("/oauth/2.1/token", json={"grant_type": "authorization_code"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_a_code_for_a_user_disabled_since_sign_in_is_invalid_grant() -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http))["client_id"]
        code, verifier = await authorization_code(s.http, client_id)
        users = (await s.api.get("/api/backend/v1/user/query")).json()["users"]
        await s.api.post(f"/api/backend/v1/user/{users[0]['user_id']}/disable")
        response = await exchange(s.http, client_id, code, verifier)
    assert response.json()["error"] == "invalid_grant"
