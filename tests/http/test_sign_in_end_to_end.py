"""Sign in with PropelAuth end to end, over real loopback ports: the official MCP client's OAuth support
against the sandbox's authorization server, this server with --auth propelauth between them."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from tests.conftest import API_KEY
from tests.http.oauth_doubles import parse_challenge
from tests.http.signed_in_world import (
    World,
    official_client,
    sign_in_on_the_page,
    signed_in_world,
)
from tests.jsonrpc import INITIALIZE, MCP_HEADERS, tools_call
from tests.sandbox.oauth_testkit import authorize_params, exchange, pkce, register

pytestmark = pytest.mark.anyio

ADMIN, READER = "admin@example.com", "reader@example.com"


async def token_for(
    world: World, user_id: str, *, scope: str, resource: str | None = None
) -> tuple[str, str]:
    """A client id and an access token for `user_id`, the way any client gets them (registration,
    sign-in on the page, code grant)."""
    resource = resource or world.resource
    async with httpx2.AsyncClient(base_url=world.sandbox_url, timeout=10) as http:
        client_id = (await register(http))["client_id"]
        verifier, challenge = pkce()
        params = authorize_params(client_id, challenge, resource=resource, scope=scope)
        url = str(httpx2.URL(f"{world.sandbox_url}/oauth/2.1/authorize", params=params))
        query = await sign_in_on_the_page(url, user_id, scope)
        answer = await exchange(http, client_id, query["code"], verifier, resource=resource)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return client_id, token


async def post_mcp(world: World, token: str, message: dict[str, Any]) -> httpx2.Response:
    async with httpx2.AsyncClient(timeout=10) as http:
        return await http.post(
            world.server_url, json=message, headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"}
        )


async def test_two_people_sign_in_with_the_official_client_see_their_own_tools_and_are_audited_by_name(
    audit_path: Path,
) -> None:
    async with signed_in_world(audit_path) as world:
        admin_id, reader_id = await world.add_user(ADMIN), await world.add_user(READER)
        async with (
            official_client(world, admin_id, "admin:users") as (admin, admin_storage, admin_sent_to),
            official_client(world, reader_id, "read:users") as (reader, reader_storage, _),
        ):
            admin_tools = {tool.name for tool in (await admin.list_tools()).tools}
            reader_listing = (await reader.list_tools()).tools
            admin_call = await admin.call_tool("fetch_user_by_id", {"user_id": reader_id})
            reader_call = await reader.call_tool("fetch_user_by_email", {"email": ADMIN})
        tokens = [s.tokens.access_token for s in (admin_storage, reader_storage) if s.tokens]

    reader_tools = {tool.name for tool in reader_listing}
    assert "delete_user" in admin_tools and "delete_user" not in reader_tools
    assert reader_tools < admin_tools
    assert all(tool.annotations and tool.annotations.read_only_hint for tool in reader_listing)
    assert not admin_call.is_error and not reader_call.is_error
    # The person was sent to the authorization server the metadata names, for this resource.
    assert admin_sent_to[0].startswith(f"{world.sandbox_url}/oauth/2.1/authorize?")
    assert parse_qs(urlsplit(admin_sent_to[0]).query)["resource"] == [world.resource]

    outcomes = [r for r in world.audit_records() if r["kind"] == "outcome"]
    assert [(r["tool"], r["caller"], r["caller_identity"]["email"]) for r in outcomes] == [
        ("fetch_user_by_id", admin_id, ADMIN),
        ("fetch_user_by_email", reader_id, READER),
    ]
    assert all(r["caller_identity"]["client_id"] for r in outcomes)
    # PropelAuth's Backend API saw the server's API key only, never a caller's token.
    assert len(tokens) == 2 and world.backend.requests
    assert {authorization for _, authorization in world.backend.requests} == {f"Bearer {API_KEY}"}
    audit_text = world.audit_path.read_text()
    assert not any(token in audit_text for token in tokens)


async def test_tokens_for_another_resource_expired_or_revoked_are_refused_and_nothing_reaches_propelauth(
    audit_path: Path,
) -> None:
    async with signed_in_world(audit_path, introspection_cache_s=0) as world:
        user_id = await world.add_user(ADMIN)
        _, elsewhere = await token_for(
            world, user_id, scope="admin:users", resource="http://elsewhere.test/mcp"
        )
        client_id, revoked = await token_for(world, user_id, scope="admin:users")
        async with httpx2.AsyncClient(base_url=world.sandbox_url, timeout=10) as http:
            gone = await http.post("/oauth/2.1/revoke", data={"token": revoked, "client_id": client_id})
        _, expired = await token_for(world, user_id, scope="admin:users")
        sandbox = world.sandbox_app.state.sandbox
        now = sandbox.now()
        sandbox.clock = lambda: now + 3601  # past the access token's hour
        before = len(world.backend.requests)
        answers = [await post_mcp(world, token, INITIALIZE) for token in (elsewhere, revoked, expired)]
        calls = [
            await post_mcp(world, token, tools_call("delete_user", {"user_id": user_id, "confirm": True}))
            for token in (elsewhere, revoked, expired)
        ]

    assert gone.status_code == 200
    for response in [*answers, *calls]:
        assert response.status_code == 401
        scheme, params = parse_challenge(response.headers["www-authenticate"])
        assert (scheme, params["error"]) == ("Bearer", "invalid_token")
        assert params["resource_metadata"].endswith("/.well-known/oauth-protected-resource/mcp")
    assert world.backend.requests[before:] == []
    assert [r for r in world.audit_records() if r.get("tool") == "delete_user"] == []


async def test_a_token_with_too_few_scopes_is_refused_with_a_scope_challenge_and_nothing_reaches_propelauth(
    audit_path: Path,
) -> None:
    async with signed_in_world(audit_path) as world:
        user_id = await world.add_user(READER)
        _, reader = await token_for(world, user_id, scope="read:users")
        _, unmapped = await token_for(world, user_id, scope="other:scope")
        before = len(world.backend.requests)
        delete = await post_mcp(
            world, reader, tools_call("delete_user", {"user_id": user_id, "confirm": True})
        )
        no_scope = await post_mcp(world, unmapped, INITIALIZE)

    assert delete.status_code == 403
    _, params = parse_challenge(delete.headers["www-authenticate"])
    assert params["error"] == "insufficient_scope"
    assert set(params["scope"].split()) == {"read:users", "admin:users"}
    assert no_scope.status_code == 403
    assert parse_challenge(no_scope.headers["www-authenticate"])[1]["error"] == "insufficient_scope"
    # Only the operators' membership read of the reader (a token with no granted scope costs none).
    assert world.backend.requests[before:] == [(f"/api/backend/v1/user/{user_id}", f"Bearer {API_KEY}")]
    refused = [r for r in world.audit_records() if r.get("tool") == "delete_user"]
    assert [(r["outcome"], r["caller"], r["caller_identity"]["email"]) for r in refused] == [
        ("rejected", user_id, READER)
    ]


async def test_a_signed_in_person_outside_the_operators_org_is_refused_and_only_their_membership_is_read(
    audit_path: Path,
) -> None:
    async with signed_in_world(audit_path) as world:
        outsider = await world.add_user("customer@example.com", operator=False)
        _, token = await token_for(world, outsider, scope="admin:users")
        before = len(world.backend.requests)
        answers = [
            await post_mcp(world, token, INITIALIZE),
            await post_mcp(world, token, tools_call("delete_user", {"user_id": outsider, "confirm": True})),
        ]
        seen = world.backend.methods_and_queries[before:]

    for response in answers:
        assert response.status_code == 403 and "www-authenticate" not in response.headers
        assert response.json()["error"] == "access_denied"
    # One read of the person's memberships, with the server's key, reused for the second request.
    assert world.backend.requests[before:] == [(f"/api/backend/v1/user/{outsider}", f"Bearer {API_KEY}")]
    assert seen == [("GET", "include_orgs=true")]
    refused = [r for r in world.audit_records() if r["kind"] == "outcome"]
    assert [(r["outcome"], r["caller"], r["details"]["reason"]) for r in refused] == [
        ("rejected", outsider, "not_an_operator")
    ] * 2
    assert token not in world.audit_path.read_text()
