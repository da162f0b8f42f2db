"""Privileges per caller over HTTP: each caller lists only its tools, a call outside them is refused and
audited, and an OAuth caller whose call another scope would allow is told so (403 insufficient_scope)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import httpx2
import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from starlette.types import ASGIApp, Receive, Scope, Send

from server.callers import CALLER_SCOPE_KEY, Caller
from tests.http.conftest import ALICE_TOKEN, BOT_TOKEN, http_client
from tests.http.oauth_doubles import parse_challenge
from tests.jsonrpc import MCP_HEADERS, tools_call
from tools import tool_definitions

DEFINITIONS = {d.name: d for d in tool_definitions()}
READ_ONLY = {name for name, d in DEFINITIONS.items() if d.read_only}
USERS = {name for name, d in DEFINITIONS.items() if d.toolset == "users"}
ORGS_READ = {name for name, d in DEFINITIONS.items() if d.toolset == "orgs" and d.read_only}
ADA = "00000000-0000-4000-8000-00000000000a"  # not looked up: refused calls never reach PropelAuth
SCOPES = "read:users=toolsets:users+read-only;read:orgs=toolsets:orgs+read-only;admin:users=toolsets:users"
RESOURCE = "https://mcp.example.com/mcp"
TEST_CALLER_HEADER = "x-test-caller"  # which OAuth-shaped caller the wrapper below puts on the scope

SIGNED_IN = {
    "reader": Caller(
        "user-r",
        user_id="user-r",
        email="rita@example.com",
        client_id="claude",
        scopes=frozenset({"read:users"}),
    ),
    "both": Caller(
        "user-b",
        user_id="user-b",
        email="bo@example.com",
        client_id="vscode",
        scopes=frozenset({"read:users", "read:orgs", "offline_access"}),
    ),
    "unmapped": Caller("user-u", user_id="user-u", email="u@example.com", scopes=frozenset({"profile"})),
}


def audit_records(path: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class PinnedScope(dict[str, Any]):
    """An ASGI scope whose caller the layers behind cannot replace (the --no-auth layer sets its own)."""

    def __setitem__(self, key: str, value: Any) -> None:
        if key != CALLER_SCOPE_KEY or key not in self:
            super().__setitem__(key, value)


def as_signed_in(callers: Mapping[str, Caller]) -> Callable[[ASGIApp], ASGIApp]:
    """Stands in for the OAuth gate: the caller named by a test header, with its scopes, on the scope."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def signed_in(scope: Scope, receive: Receive, send: Send) -> None:
            chosen = dict(scope.get("headers", ())).get(TEST_CALLER_HEADER.encode())
            if scope["type"] == "http" and chosen is not None:
                scope = PinnedScope({**scope, CALLER_SCOPE_KEY: callers[chosen.decode()]})
            await app(scope, receive, send)

        return signed_in

    return wrap


def oauth_options(**overrides: Any) -> dict[str, Any]:
    values = {"no_auth": True, "http_tokens": None, "scope_policies": SCOPES, "resource_url": RESOURCE}
    return {**values, **overrides}


def challenge_params(header: str) -> dict[str, str]:
    scheme, params = parse_challenge(header)
    assert scheme == "Bearer"
    return params


# --- static tokens: a policy per token name --------------------------------------------------------------


@pytest.mark.anyio
async def test_two_token_callers_with_different_policies_see_different_tools(
    start_http: Callable[..., Any],
) -> None:
    with anyio.fail_after(30):
        async with start_http(token_policies="alice=read-only;ci-bot=toolsets:users") as srv:
            async with http_client(srv.url, token=ALICE_TOKEN) as alice:
                alices = {tool.name for tool in (await alice.list_tools()).tools}
            async with http_client(srv.url, token=BOT_TOKEN) as bot:
                bots = {tool.name for tool in (await bot.list_tools()).tools}
    assert alices == READ_ONLY and bots == USERS


@pytest.mark.anyio
async def test_a_token_callers_call_outside_its_tools_is_refused_before_anything_else_and_audited(
    start_http: Callable[..., Any],
) -> None:
    with anyio.fail_after(30):
        # The scope mapping is there too: a static token is never sent to sign in for more.
        async with (
            start_http(token_policies="alice=read-only", scope_policies=SCOPES) as srv,
            http_client(srv.url, token=ALICE_TOKEN) as alice,
        ):
            with pytest.raises(MCPError) as caught:
                # Invalid arguments too: the refusal comes first, whatever they are.
                await alice.call_tool("delete_user", {"user_id": "not-a-uuid", "confirm": True})
    assert caught.value.error.code == INVALID_PARAMS
    assert caught.value.error.data == {"reason": "not_allowed_for_caller"}
    [record] = audit_records(srv.settings.audit_path)
    assert (record["outcome"], record["tool"], record["details"]) == (
        "rejected",
        "delete_user",
        {"reason": "not_allowed_for_caller"},
    )
    assert (record["caller"], record["caller_identity"]) == ("alice", None)
    assert srv.sandbox.requests_received == 0


@pytest.mark.anyio
async def test_a_tool_the_server_does_not_offer_is_still_an_unknown_tool(
    start_http: Callable[..., Any],
) -> None:
    with anyio.fail_after(30):
        async with (
            start_http(token_policies="alice=read-only", tools={"query_users"}) as srv,
            http_client(srv.url, token=ALICE_TOKEN) as alice,
        ):
            with pytest.raises(MCPError) as caught:
                await alice.call_tool("fetch_user_by_id", {"user_id": ADA})
    assert caught.value.error.code == INVALID_PARAMS and caught.value.error.data is None
    assert [r["details"]["reason"] for r in audit_records(srv.settings.audit_path)] == ["unknown_tool"]


@pytest.mark.anyio
async def test_the_server_wide_read_only_wins_over_a_token_policy_of_all(
    start_http: Callable[..., Any],
) -> None:
    with anyio.fail_after(30):
        async with (
            start_http(read_only=True, token_policies="alice=all") as srv,
            http_client(srv.url, token=ALICE_TOKEN) as alice,
        ):
            listed = {tool.name for tool in (await alice.list_tools()).tools}
            with pytest.raises(MCPError):
                await alice.call_tool("delete_user", {"user_id": ADA, "confirm": True})
    assert listed == READ_ONLY


# --- OAuth callers: the union of their scopes ---------------------------------------------------------------


@pytest.mark.anyio
async def test_an_oauth_caller_lists_the_union_of_its_scopes_and_the_audit_names_it_as_propelauth_does(
    start_http: Callable[..., Any],
) -> None:
    listed: dict[str, set[str]] = {}
    with anyio.fail_after(30):
        async with start_http(**oauth_options(), wrap=as_signed_in(SIGNED_IN)) as srv:
            for who in SIGNED_IN:
                async with http_client(srv.url, token=None, **{TEST_CALLER_HEADER: who}) as client:
                    listed[who] = {tool.name for tool in (await client.list_tools()).tools}
            async with http_client(srv.url, token=None, **{TEST_CALLER_HEADER: "both"}) as client:
                result = await client.call_tool("query_users", {"email_or_username": "ada@"})
    assert listed == {"reader": USERS & READ_ONLY, "both": (USERS & READ_ONLY) | ORGS_READ, "unmapped": set()}
    assert not result.is_error
    [record] = audit_records(srv.settings.audit_path)
    assert (record["tool"], record["outcome"], record["caller"]) == ("query_users", "ok", "user-b")
    assert record["caller_identity"] == {
        "user_id": "user-b",
        "email": "bo@example.com",
        "client_id": "vscode",
    }


@pytest.mark.anyio
async def test_an_oauth_callers_call_that_no_scope_allows_is_a_json_rpc_refusal(
    start_http: Callable[..., Any],
) -> None:
    with anyio.fail_after(30):
        async with (
            start_http(**oauth_options(), wrap=as_signed_in(SIGNED_IN)) as srv,
            http_client(srv.url, token=None, **{TEST_CALLER_HEADER: "reader"}) as client,
        ):
            with pytest.raises(MCPError) as caught:
                await client.call_tool("delete_org", {"org_id": ADA, "confirm": True})
    assert caught.value.error.data == {"reason": "not_allowed_for_caller"}
    [record] = audit_records(srv.settings.audit_path)
    assert (record["caller"], record["caller_identity"]["email"]) == ("user-r", "rita@example.com")
    assert srv.sandbox.requests_received == 0


# --- the scope challenge: 403 insufficient_scope ----------------------------------------------------------


@pytest.mark.anyio
async def test_a_call_another_scope_allows_is_answered_403_insufficient_scope_naming_it(
    start_http: Callable[..., Any],
) -> None:
    headers = {**MCP_HEADERS, TEST_CALLER_HEADER: "reader"}
    with anyio.fail_after(30):
        async with (
            start_http(**oauth_options(), wrap=as_signed_in(SIGNED_IN)) as srv,
            httpx2.AsyncClient(headers=headers) as http,
        ):
            answer = await http.post(
                srv.url, json=tools_call("disable_user", {"user_id": ADA, "confirm": True})
            )
    assert answer.status_code == 403 and answer.json()["error"] == "insufficient_scope"
    params = challenge_params(answer.headers["www-authenticate"])
    assert params["error"] == "insufficient_scope"
    assert params["scope"].split(" ") == ["read:users", "admin:users"]  # what it has, plus what allows it
    assert params["resource_metadata"] == "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    [record] = audit_records(srv.settings.audit_path)
    assert (record["outcome"], record["tool"], record["caller"]) == ("rejected", "disable_user", "user-r")
    assert record["details"] == {
        "reason": "not_allowed_for_caller",
        "challenge": "insufficient_scope",
        "scope_needed": "admin:users",
    }
    assert record["caller_identity"] == {
        "user_id": "user-r",
        "email": "rita@example.com",
        "client_id": "claude",
    }
    assert srv.sandbox.requests_received == 0


@pytest.mark.anyio
async def test_a_caller_with_no_mapped_scope_is_challenged_for_the_first_scope_that_allows_the_tool(
    start_http: Callable[..., Any],
) -> None:
    headers = {**MCP_HEADERS, TEST_CALLER_HEADER: "unmapped"}
    with anyio.fail_after(30):
        async with (
            start_http(**oauth_options(), wrap=as_signed_in(SIGNED_IN)) as srv,
            httpx2.AsyncClient(headers=headers) as http,
        ):
            answer = await http.post(srv.url, json=tools_call("fetch_org", {"org_id": ADA}))
    assert answer.status_code == 403
    assert challenge_params(answer.headers["www-authenticate"])["scope"] == "profile read:orgs"


@pytest.mark.anyio
async def test_requests_other_than_a_refused_call_pass_the_scope_check_untouched(
    start_http: Callable[..., Any],
) -> None:
    headers = {**MCP_HEADERS, TEST_CALLER_HEADER: "reader"}
    with anyio.fail_after(30):
        async with (
            start_http(**oauth_options(), wrap=as_signed_in(SIGNED_IN)) as srv,
            httpx2.AsyncClient(headers=headers) as http,
        ):
            listing = await http.post(srv.url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
            unknown = await http.post(srv.url, json=tools_call("no_such_tool", {}))
            broken = await http.post(srv.url, content=b"{not json")
    assert (
        listing.status_code == 200
        and {t["name"] for t in listing.json()["result"]["tools"]} == USERS & READ_ONLY
    )
    assert unknown.status_code == 200 and unknown.json()["error"]["code"] == INVALID_PARAMS
    assert broken.status_code == 400  # the SDK's answer to a body that is not JSON
    assert [r["details"]["reason"] for r in audit_records(srv.settings.audit_path)] == ["unknown_tool"]
