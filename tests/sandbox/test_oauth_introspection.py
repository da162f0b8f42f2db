"""RFC 7662 introspection as the MCP server reads it, RFC 7009 revocation, and the sandbox's counter."""

from __future__ import annotations

import hashlib

import pytest

from tests.sandbox.oauth_testkit import (
    ALICE,
    ISSUER,
    RESOURCE,
    OAuthSandbox,
    introspect,
    oauth_sandbox,
    signed_in,
)
from tests.sandbox.sandbox_testkit import API_KEY

pytestmark = pytest.mark.anyio

ACTIVE_FIELDS = {"active", "sub", "client_id", "scope", "exp", "iat", "aud", "iss", "token_type", "email"}


async def _alice_id(s: OAuthSandbox) -> str:
    user_id: str = (await s.api.get("/api/backend/v1/user/email", params={"email": ALICE})).json()["user_id"]
    return user_id


async def test_an_active_token_says_who_for_which_client_resource_and_scopes() -> None:
    async with oauth_sandbox() as s:
        client_id, tokens = await signed_in(s.http, scope="read:users")
        response = await introspect(s.http, tokens["access_token"])
        alice = await _alice_id(s)
    body = response.json()
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert set(body) == ACTIVE_FIELDS
    assert body["active"] is True
    assert (body["sub"], body["email"], body["client_id"]) == (alice, ALICE, client_id)
    assert (body["scope"], body["aud"], body["iss"], body["token_type"]) == (
        "read:users",
        RESOURCE,
        ISSUER,
        "Bearer",
    )
    assert body["exp"] - body["iat"] == 3600


async def test_an_unknown_token_is_inactive_and_says_nothing_else() -> None:
    async with oauth_sandbox() as s:
        response = await introspect(s.http, "not-a-token")
    assert response.json() == {"active": False}


async def test_a_refresh_token_does_not_introspect_as_an_access_token() -> None:
    async with oauth_sandbox() as s:
        _, tokens = await signed_in(s.http)
        response = await introspect(s.http, tokens["refresh_token"])
    assert response.json() == {"active": False}


@pytest.mark.parametrize(
    "credentials", [None, ("introspector", "wrong"), ("someone", "introspection-secret")]
)
async def test_introspection_without_the_introspection_credentials_is_401_invalid_client(
    credentials: tuple[str, str] | None,
) -> None:
    async with oauth_sandbox() as s:
        _, tokens = await signed_in(s.http)
        form = {"token": tokens["access_token"]}
        if credentials is None:
            response = await s.http.post("/oauth/2.1/introspect", data=form)
        else:
            response = await s.http.post("/oauth/2.1/introspect", data=form, auth=credentials)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_a_token_past_its_lifetime_is_inactive() -> None:
    async with oauth_sandbox(oauth_token_ttl_s=30) as s:
        _, tokens = await signed_in(s.http)
        assert tokens["expires_in"] == 30
        now = s.sandbox.now()
        s.sandbox.clock = lambda: now + 30
        response = await introspect(s.http, tokens["access_token"])
    assert response.json() == {"active": False}


async def test_a_revoked_access_token_is_inactive() -> None:
    async with oauth_sandbox() as s:
        client_id, tokens = await signed_in(s.http)
        revoked = await s.http.post(
            "/oauth/2.1/revoke", data={"token": tokens["access_token"], "client_id": client_id}
        )
        response = await introspect(s.http, tokens["access_token"])
    assert revoked.status_code == 200
    assert response.json() == {"active": False}


async def test_revoking_the_refresh_token_ends_the_grant_and_its_access_token() -> None:
    async with oauth_sandbox() as s:
        client_id, tokens = await signed_in(s.http)
        await s.http.post(
            "/oauth/2.1/revoke", data={"token": tokens["refresh_token"], "client_id": client_id}
        )
        response = await introspect(s.http, tokens["access_token"])
    assert response.json() == {"active": False}


async def test_another_client_cannot_revoke_a_token() -> None:
    async with oauth_sandbox() as s:
        _, tokens = await signed_in(s.http)
        other, _ = await signed_in(s.http)
        revoked = await s.http.post(
            "/oauth/2.1/revoke", data={"token": tokens["access_token"], "client_id": other}
        )
        response = await introspect(s.http, tokens["access_token"])
    assert revoked.status_code == 200
    assert response.json()["active"] is True


@pytest.mark.parametrize(
    "change",
    [("POST", "/disable"), ("DELETE", ""), ("POST", "/logout_all_sessions")],
    ids=["disabled", "deleted", "logged-out-everywhere"],
)
async def test_a_token_of_a_user_disabled_deleted_or_logged_out_is_inactive(change: tuple[str, str]) -> None:
    async with oauth_sandbox() as s:
        _, tokens = await signed_in(s.http)
        method, suffix = change
        changed = await s.api.request(method, f"/api/backend/v1/user/{await _alice_id(s)}{suffix}")
        assert changed.status_code == 200, changed.text
        response = await introspect(s.http, tokens["access_token"])
    assert response.json() == {"active": False}


async def test_the_counter_counts_each_introspection_per_token() -> None:
    async with oauth_sandbox() as s:
        _, first = await signed_in(s.http)
        _, second = await signed_in(s.http)
        for token in (first["access_token"], first["access_token"], second["access_token"]):
            await introspect(s.http, token)
        await introspect(s.http, first["access_token"], ("introspector", "wrong"))  # refused: not counted
        counts = await s.http.get(
            "/_sandbox/oauth/introspections", headers={"Authorization": f"Bearer {API_KEY}"}
        )
    key = hashlib.sha256(first["access_token"].encode()).hexdigest()[:12]
    assert counts.json()["total"] == 3
    assert counts.json()["by_token"][key] == 2
    assert sorted(counts.json()["by_token"].values()) == [1, 2]


async def test_the_counter_needs_the_backend_api_key() -> None:
    async with oauth_sandbox() as s:
        response = await s.http.get("/_sandbox/oauth/introspections")
    assert response.status_code == 401
