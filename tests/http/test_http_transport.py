"""Streamable HTTP end to end, over a real loopback port, with the SDK's Streamable HTTP client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from sandbox import create_app
from server.app import create_server
from server.audit import AuditTrail
from server.http import create_http_app, http_tokens
from tests.conftest import AUTH_URL, CLIENT_INFO
from tests.http.conftest import ALICE_TOKEN, BOT_TOKEN, http_client
from tests.jsonrpc import INITIALIZE, MCP_HEADERS
from tests.loopback import serve_on_loopback
from tools import tool_definitions

CALL_QUERY = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "query_users", "arguments": {"email_or_username": "ada@"}},
}


def audit_records(path: Any) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.anyio
async def test_an_authenticated_agent_lists_and_calls_tools_over_http(
    start_http: Callable[..., Any], protocol_mode: str
) -> None:
    with anyio.fail_after(30):
        async with start_http() as srv, http_client(srv.url, token=ALICE_TOKEN, mode=protocol_mode) as client:
            tools = (await client.list_tools()).tools
            result = await client.call_tool("query_users", {"email_or_username": "ada@"})
    assert len(tools) == len(tool_definitions())
    assert not result.is_error and result.structured_content is not None
    assert [u["email"] for u in result.structured_content["users"]] == ["ada@example.com"]
    [record] = audit_records(srv.settings.audit_path)
    assert (record["tool"], record["outcome"], record["caller"]) == ("query_users", "ok", "alice")
    # 2026-era requests carry the client's identity; a stateless server keeps no handshake-era session.
    expected_client = (
        {"name": CLIENT_INFO.name, "version": CLIENT_INFO.version} if protocol_mode == "auto" else None
    )
    assert record["client"] == expected_client


@pytest.mark.anyio
async def test_the_audit_names_each_caller_by_its_token_name_never_the_token(
    start_http: Callable[..., Any],
) -> None:
    with anyio.fail_after(30):
        async with start_http() as srv:
            for token in (ALICE_TOKEN, BOT_TOKEN):
                async with http_client(srv.url, token=token) as client:
                    await client.call_tool("fetch_user_by_email", {"email": "ada@example.com"})
    text = srv.settings.audit_path.read_text()
    assert [r["caller"] for r in audit_records(srv.settings.audit_path)] == ["alice", "ci-bot"]
    assert ALICE_TOKEN not in text and BOT_TOKEN not in text


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        (None, None),
        (f"Bearer {ALICE_TOKEN}x", "invalid_token"),
        ("Bearer " + ALICE_TOKEN[:-1], "invalid_token"),
        (f"Basic {ALICE_TOKEN}", None),
        ("Bearer", None),
    ],
    ids=["no-token", "wrong-token", "token-prefix", "other-scheme", "empty-bearer"],
)
async def test_a_call_without_a_known_token_gets_401_with_a_challenge_and_nothing_reaches_propelauth(
    start_http: Callable[..., Any], authorization: str | None, error: str | None
) -> None:
    headers = dict(MCP_HEADERS)
    if authorization is not None:
        headers["Authorization"] = authorization
    with anyio.fail_after(30):
        async with start_http() as srv, httpx2.AsyncClient(headers=headers) as http:
            answers = [await http.post(srv.url, json=body) for body in (INITIALIZE, CALL_QUERY)]
    for answer in answers:
        assert answer.status_code == 401
        challenge = answer.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="propelauth-mcp"')
        assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge)
        assert ALICE_TOKEN not in answer.text
    assert srv.sandbox.requests_received == 0
    assert audit_records(srv.settings.audit_path) == []


@pytest.mark.anyio
async def test_the_sdk_client_with_a_wrong_token_cannot_connect_and_nothing_reaches_propelauth(
    start_http: Callable[..., Any],
) -> None:
    with anyio.fail_after(30):
        async with start_http() as srv:
            with pytest.raises(ExceptionGroup) as raised:
                async with http_client(srv.url, token="not-a-real-token-at-all", mode="legacy") as client:
                    await client.call_tool("query_users", {"email_or_username": "ada@"})
    assert raised.group_contains(MCPError)
    assert audit_records(srv.settings.audit_path) == []
    assert srv.sandbox.requests_received == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("header", "value", "status"),
    [
        ("Origin", "http://evil.example", 403),
        ("Host", "evil.example:8000", 421),
        ("Host", "evil.example", 421),
    ],
    ids=["bad-origin", "bad-host-with-port", "bad-host"],
)
async def test_a_rebinding_host_or_cross_origin_request_is_refused_even_with_a_valid_token(
    start_http: Callable[..., Any], header: str, value: str, status: int
) -> None:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {ALICE_TOKEN}", header: value}
    with anyio.fail_after(30):
        async with start_http() as srv, httpx2.AsyncClient(headers=headers) as http:
            answers = [await http.post(srv.url, json=body) for body in (INITIALIZE, CALL_QUERY)]
    assert [a.status_code for a in answers] == [status, status]
    assert srv.sandbox.requests_received == 0
    assert audit_records(srv.settings.audit_path) == []


@pytest.mark.anyio
async def test_a_configured_origin_and_host_are_accepted(start_http: Callable[..., Any]) -> None:
    headers = {
        **MCP_HEADERS,
        "Authorization": f"Bearer {ALICE_TOKEN}",
        "Origin": "https://desk.acme.com",
    }
    with anyio.fail_after(30):
        async with (
            start_http(
                allowed_origins="https://desk.acme.com", allowed_hosts="127.0.0.1:*,mcp.acme.internal"
            ) as srv,
            httpx2.AsyncClient(headers=headers) as http,
        ):
            ok = await http.post(srv.url, json=INITIALIZE)
            other_origin = await http.post(
                srv.url, json=INITIALIZE, headers={"Origin": "http://localhost:3000"}
            )
            named_host = await http.post(srv.url, json=INITIALIZE, headers={"Host": "mcp.acme.internal"})
    assert (ok.status_code, other_origin.status_code, named_host.status_code) == (200, 403, 200)


@pytest.mark.anyio
async def test_the_server_is_stateless_so_any_replica_answers_any_request(
    http_settings: Callable[..., Any], sandbox_app: Any
) -> None:
    """Two independent replicas (separate Server objects, one PropelAuth); requests alternate between them."""
    settings = http_settings()
    audit = AuditTrail(settings.audit_path)
    apps = []
    for _ in range(2):
        server = create_server(settings, audit, transport=httpx2.ASGITransport(app=sandbox_app))
        apps.append(create_http_app(server, settings, tokens=http_tokens(settings)))
    seen: list[str] = []

    class RoundRobin(httpx2.AsyncBaseTransport):
        def __init__(self, bases: list[str]) -> None:
            self.bases, self.inner, self.turn = bases, httpx2.AsyncHTTPTransport(), 0

        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            base = httpx2.URL(self.bases[self.turn % 2])
            self.turn += 1
            seen.append(str(base.port))
            request.url = request.url.copy_with(port=base.port)
            return await self.inner.handle_async_request(request)

        async def aclose(self) -> None:
            await self.inner.aclose()

    try:
        with anyio.fail_after(30):
            async with serve_on_loopback(apps[0]) as a, serve_on_loopback(apps[1]) as b:
                transport = RoundRobin([a, b])
                headers = {"Authorization": f"Bearer {ALICE_TOKEN}"}
                async with httpx2.AsyncClient(headers=headers, transport=transport) as http:
                    connect = streamable_http_client(f"{a}/mcp", http_client=http)
                    async with Client(connect, mode="legacy", client_info=CLIENT_INFO) as client:
                        await client.list_tools()
                        results = [
                            await client.call_tool("fetch_user_by_email", {"email": "ada@example.com"})
                            for _ in range(3)
                        ]
    finally:
        audit.close()
    assert len(set(seen)) == 2
    assert all(not r.is_error for r in results)
    assert [r["caller"] for r in audit_records(settings.audit_path)] == ["alice"] * 3


@pytest.mark.anyio
async def test_the_propelauth_client_is_opened_once_per_process_not_per_request(
    http_settings: Callable[..., Any], sandbox_app: Any
) -> None:
    settings = http_settings()
    audit = AuditTrail(settings.audit_path)
    server = create_server(settings, audit, transport=httpx2.ASGITransport(app=sandbox_app))
    inner, entered = server.lifespan, []

    @asynccontextmanager
    async def counting(srv: Any) -> AsyncIterator[Any]:
        entered.append(1)
        async with inner(srv) as state:
            yield state

    server.lifespan = counting
    app = create_http_app(server, settings, tokens=http_tokens(settings))
    try:
        with anyio.fail_after(30):
            async with serve_on_loopback(app) as base:
                for mode in ("legacy", "auto"):
                    async with http_client(f"{base}/mcp", token=ALICE_TOKEN, mode=mode) as client:
                        for _ in range(3):
                            await client.call_tool("fetch_user_by_email", {"email": "ada@example.com"})
    finally:
        audit.close()
    assert len(entered) == 1
    assert len(audit_records(settings.audit_path)) == 6


@pytest.mark.anyio
async def test_healthz_answers_without_auth_and_without_touching_propelauth(
    start_http: Callable[..., Any],
) -> None:
    with anyio.fail_after(30):
        async with start_http() as srv, httpx2.AsyncClient() as http:
            health = await http.get(f"{srv.base}/healthz")
            foreign_host = await http.get(f"{srv.base}/healthz", headers={"Host": "container-ip:8000"})
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert foreign_host.status_code == 200
    assert srv.sandbox.requests_received == 0


@pytest.mark.anyio
async def test_readyz_says_whether_propelauth_accepts_the_configured_key(
    start_http: Callable[..., Any],
) -> None:
    other_key = create_app(
        api_key="sk-another-key-0123456789", db_path=":memory:", auth_url=AUTH_URL, seed=True
    )
    with anyio.fail_after(30):
        async with start_http() as good, httpx2.AsyncClient() as http:
            ready = await http.get(f"{good.base}/readyz")
        async with start_http(sandbox=other_key) as bad, httpx2.AsyncClient() as http:
            not_ready = await http.get(f"{bad.base}/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")
    assert (not_ready.status_code, not_ready.json()["status"]) == (503, "not_ready")
    assert "refused the configured API key" in not_ready.json()["detail"]
    assert "sk-" not in not_ready.text


@pytest.mark.anyio
async def test_readiness_probes_are_cached_so_probers_cannot_hammer_propelauth(
    start_http: Callable[..., Any],
) -> None:
    with anyio.fail_after(30):
        async with start_http() as srv, httpx2.AsyncClient() as http:
            answers = [(await http.get(f"{srv.base}/readyz")).status_code for _ in range(5)]
    assert answers == [200] * 5
    assert srv.sandbox.requests_received == 1


@pytest.mark.anyio
async def test_with_no_auth_on_loopback_calls_work_and_the_audit_says_anonymous(
    start_http: Callable[..., Any],
) -> None:
    with anyio.fail_after(30):
        async with (
            start_http(http_tokens=None, no_auth=True) as srv,
            http_client(srv.url, token=None) as client,
        ):
            result = await client.call_tool("fetch_user_by_email", {"email": "ada@example.com"})
    assert not result.is_error
    assert [r["caller"] for r in audit_records(srv.settings.audit_path)] == ["anonymous"]
