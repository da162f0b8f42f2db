"""--auth propelauth over a real loopback port: the protected resource metadata, the refusals' challenges,
503 when introspection cannot answer, and a signed-in caller's calls (audited under their PropelAuth
identity, the token never logged, audited or sent to PropelAuth's Backend API)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from starlette.types import Receive, Scope, Send
from structlog.testing import capture_logs

from tests.conftest import AUTH_URL
from tests.http.conftest import http_client
from tests.http.oauth_doubles import (
    CLIENT_SECRET,
    RESOURCE_URL,
    SCOPE_POLICIES,
    SCOPES,
    Fault,
    IntrospectionDouble,
    active,
    parse_challenge,
)
from tests.jsonrpc import INITIALIZE, MCP_HEADERS

pytestmark = pytest.mark.anyio

ISSUER = f"{AUTH_URL}/oauth/2.1"
PRM_URL = "http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp"
TOKEN = "oauth-ada-token-0123456789abcdef"
OAUTH = {
    "auth": "propelauth",
    "http_tokens": None,
    "resource_url": RESOURCE_URL,
    "scope_policies": SCOPE_POLICIES,
    "introspection_client_id": "introspect-client-id",
    "introspection_client_secret": CLIENT_SECRET,
    "any_project_user": True,  # who may sign in: tests/http/test_operators_gate.py
}


def answer(**values: Any) -> dict[str, Any]:
    return active(iss=ISSUER, **values)


class HeaderRecorder:
    """In front of the sandbox: keeps the Authorization header of every request PropelAuth receives."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state
        self.authorizations: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.authorizations += [v.decode() for k, v in scope["headers"] if k == b"authorization"]
        await self.app(scope, receive, send)


@pytest.fixture
def start_oauth(start_http: Callable[..., Any]) -> Callable[..., Any]:
    @asynccontextmanager
    async def start(double: IntrospectionDouble, **overrides: Any) -> AsyncIterator[Any]:
        options = {"introspection_transport": double.transport()}
        async with start_http(app_options=options, **{**OAUTH, **overrides}) as srv:
            yield srv

    return start


def audit_records(path: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def post(srv: Any, token: str | None, body: dict[str, Any] = INITIALIZE) -> httpx2.Response:
    headers = dict(MCP_HEADERS)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx2.AsyncClient(headers=headers) as http:
        return await http.post(srv.url, json=body)


# --- discovery ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]
)
async def test_the_protected_resource_metadata_names_propelauth_and_the_scopes_without_auth(
    start_oauth: Callable[..., Any], path: str
) -> None:
    with anyio.fail_after(30):
        async with start_oauth(IntrospectionDouble()) as srv, httpx2.AsyncClient() as http:
            response = await http.get(srv.base + path)
    assert response.status_code == 200
    assert response.json() == {
        "resource": RESOURCE_URL,
        "authorization_servers": [ISSUER],
        "scopes_supported": SCOPES,
        "bearer_methods_supported": ["header"],
    }


async def test_the_metadata_is_readable_cross_origin_and_behind_the_host_check(
    start_oauth: Callable[..., Any],
) -> None:
    url = "/.well-known/oauth-protected-resource/mcp"
    with anyio.fail_after(30):
        async with start_oauth(IntrospectionDouble()) as srv, httpx2.AsyncClient() as http:
            browser = await http.get(srv.base + url, headers={"Origin": "http://localhost:6274"})
            preflight = await http.options(
                srv.base + url,
                headers={"Origin": "http://localhost:6274", "Access-Control-Request-Method": "GET"},
            )
            rebinding = await http.get(srv.base + url, headers={"Host": "evil.example"})
    assert browser.status_code == 200 and browser.headers["access-control-allow-origin"] == "*"
    assert preflight.status_code == 200 and "GET" in preflight.headers["access-control-allow-methods"]
    assert rebinding.status_code == 421


async def test_the_token_gate_metadata_is_absent_with_static_tokens(start_http: Callable[..., Any]) -> None:
    with anyio.fail_after(30):
        async with start_http() as srv, httpx2.AsyncClient() as http:
            response = await http.get(srv.base + "/.well-known/oauth-protected-resource/mcp")
    assert response.status_code == 404


# --- refusals ------------------------------------------------------------------------------------------


async def test_a_request_without_a_token_gets_a_401_naming_the_metadata_and_the_scopes(
    start_oauth: Callable[..., Any],
) -> None:
    double = IntrospectionDouble()
    with anyio.fail_after(30):
        async with start_oauth(double) as srv:
            response = await post(srv, None)
    assert response.status_code == 401
    scheme, params = parse_challenge(response.headers["www-authenticate"])
    assert scheme == "Bearer"
    assert params == {"resource_metadata": PRM_URL, "scope": " ".join(SCOPES)}  # no error: none presented
    assert double.calls == [] and srv.sandbox.requests_received == 0


@pytest.mark.parametrize(
    "introspected",
    [
        {"active": False},
        answer(aud="https://other.example.com/mcp"),
        answer(exp_in=-5),
        active(iss="https://evil.example.com/oauth/2.1"),
    ],
    ids=["inactive-or-revoked", "another-resource", "expired", "another-issuer"],
)
async def test_a_token_introspection_refuses_gets_a_401_invalid_token_and_nothing_reaches_propelauth(
    start_oauth: Callable[..., Any], introspected: dict[str, Any]
) -> None:
    double = IntrospectionDouble({TOKEN: introspected})
    with anyio.fail_after(30):
        async with start_oauth(double) as srv:
            response = await post(srv, TOKEN)
    assert response.status_code == 401
    _, params = parse_challenge(response.headers["www-authenticate"])
    assert params["error"] == "invalid_token"
    assert (params["resource_metadata"], params["scope"]) == (PRM_URL, " ".join(SCOPES))
    assert response.json()["error"] == "invalid_token" and TOKEN not in response.text
    assert srv.sandbox.requests_received == 0 and audit_records(srv.settings.audit_path) == []


async def test_a_valid_token_with_none_of_the_configured_scopes_gets_a_403_insufficient_scope(
    start_oauth: Callable[..., Any],
) -> None:
    double = IntrospectionDouble({TOKEN: answer(scope="openid email")})
    with anyio.fail_after(30):
        async with start_oauth(double) as srv:
            response = await post(srv, TOKEN)
    assert response.status_code == 403
    _, params = parse_challenge(response.headers["www-authenticate"])
    assert params["error"] == "insufficient_scope"
    assert (params["resource_metadata"], params["scope"]) == (PRM_URL, " ".join(SCOPES))
    assert response.json()["error"] == "insufficient_scope"
    assert srv.sandbox.requests_received == 0


@pytest.mark.parametrize("fault", [Fault.TIMEOUT, Fault.UNREACHABLE, Fault.NOT_JSON, 500, 503, 401])
async def test_introspection_unavailable_is_a_503_with_a_reason_never_a_pass(
    start_oauth: Callable[..., Any], fault: str | int
) -> None:
    double = IntrospectionDouble({TOKEN: answer()}, fault=fault)
    with anyio.fail_after(30):
        async with start_oauth(double) as srv:
            response = await post(srv, TOKEN)
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["error"] == "temporarily_unavailable" and body["error_description"]
    assert TOKEN not in response.text
    assert srv.sandbox.requests_received == 0 and audit_records(srv.settings.audit_path) == []


# --- a signed-in caller ----------------------------------------------------------------------------------


async def test_a_signed_in_caller_calls_tools_audited_as_their_propelauth_identity(
    start_oauth: Callable[..., Any], sandbox_app: Any
) -> None:
    double = IntrospectionDouble({TOKEN: answer(sub="user-ada", scope="admin:users")})
    recorder = HeaderRecorder(sandbox_app)
    with anyio.fail_after(30), capture_logs() as logs:
        async with start_oauth(double, sandbox=recorder) as srv, http_client(srv.url, token=TOKEN) as client:
            await client.list_tools()
            for _ in range(3):
                result = await client.call_tool("query_users", {"email_or_username": "ada@"})
    assert not result.is_error
    records = audit_records(srv.settings.audit_path)
    assert [r["caller"] for r in records] == ["user-ada"] * 3
    # Many requests in the cache period, one introspection, at PropelAuth's issuer.
    assert double.count(TOKEN) == 1 and double.urls == [f"{ISSUER}/introspect"]
    # The token reaches neither PropelAuth's Backend API, nor a log, nor the audit.
    assert recorder.authorizations and all(TOKEN not in a for a in recorder.authorizations)
    assert TOKEN not in srv.settings.audit_path.read_text()
    assert TOKEN not in repr(logs)


async def test_the_start_up_line_names_the_resource_and_scopes_never_a_secret(
    http_settings: Callable[..., Any],
) -> None:
    from server.http import auth_summary

    summary = auth_summary(http_settings(**OAUTH), None)
    assert summary == (
        f"PropelAuth sign-in (OAuth 2.1) for {RESOURCE_URL}, scopes read:users, admin:users, "
        "ANY user of the PropelAuth project (--any-project-user)"
    )
    assert CLIENT_SECRET not in summary


async def test_the_introspection_secret_is_among_the_secrets_the_scrubber_removes(
    http_settings: Callable[..., Any],
) -> None:
    from server.http import http_secrets

    assert CLIENT_SECRET in http_secrets(http_settings(**OAUTH))
