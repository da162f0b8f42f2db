"""The OAuth gate and the callers' shares on their own: what a signed-in request carries on past the
gate, and that the per-caller bookkeeping stays bounded when callers are an unbounded set."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx2
import pytest
from starlette.types import Receive, Scope, Send

from server.callers import CALLER_SCOPE_KEY, Caller, caller_in
from server.http import CallerShare, caller_share
from server.oauth_resource import OAuthGate, resource_metadata, resource_metadata_url, scope_keys
from tests.http.oauth_doubles import SCOPES, IntrospectionDouble, active, introspector

pytestmark = pytest.mark.anyio
TOKEN = "oauth-token-for-the-gate-0123456789"


async def echo_caller(scope: Scope, receive: Receive, send: Send) -> None:
    caller = caller_in(scope)
    assert caller is not None
    body = json.dumps(
        {
            "name": caller.name,
            "user_id": caller.user_id,
            "email": caller.email,
            "client_id": caller.client_id,
            "scopes": sorted(caller.scopes),
        }
    ).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def test_a_signed_in_request_carries_its_propelauth_caller_on_the_scope() -> None:
    double = IntrospectionDouble({TOKEN: active("user-9", scope="read:users openid")})
    verifier = introspector()
    gate = OAuthGate(
        echo_caller, verifier, scopes=SCOPES, metadata_url="http://x/prm", scope_key=CALLER_SCOPE_KEY
    )
    async with (
        verifier.running(double.transport()),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=gate), base_url="http://gate.test") as http,
    ):
        response = await http.post("/mcp", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.json() == {
        "name": "user-9",
        "user_id": "user-9",
        "email": "user-9@example.com",
        "client_id": "client-abc",
        "scopes": ["openid", "read:users"],  # every scope of the token: the policy decides what they allow
    }


async def test_a_token_in_another_scheme_is_a_missing_token() -> None:
    verifier = introspector()
    gate = OAuthGate(
        echo_caller, verifier, scopes=SCOPES, metadata_url="http://x/prm", scope_key=CALLER_SCOPE_KEY
    )
    double = IntrospectionDouble({TOKEN: active()})
    async with (
        verifier.running(double.transport()),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=gate), base_url="http://gate.test") as http,
    ):
        response = await http.post("/mcp", headers={"Authorization": f"Basic {TOKEN}"})
    assert response.status_code == 401 and "error=" not in response.headers["www-authenticate"]
    assert double.calls == []


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("read:users=read-only;admin:users=all", ["read:users", "admin:users"]),
        (" a = toolsets:users+read-only ; ; b=tools:fetch_user_by_id ", ["a", "b"]),
        (None, []),
    ],
)
def test_the_advertised_scopes_are_the_keys_of_the_scope_policies(text: str | None, keys: list[str]) -> None:
    assert scope_keys(text) == keys


def test_signed_in_callers_share_half_the_slots_as_they_are_an_unbounded_set() -> None:
    assert [caller_share(limit, None) for limit in (1, 2, 32)] == [1, 1, 16]


async def test_a_callers_share_entry_is_dropped_once_it_has_no_request_in_flight() -> None:
    inside = anyio.Event()
    release = anyio.Event()

    async def held(scope: Scope, receive: Receive, send: Send) -> None:
        inside.set()
        await release.wait()

    share = CallerShare(held, 1)

    async def request(name: str) -> None:
        scope: dict[str, Any] = {"type": "http", CALLER_SCOPE_KEY: Caller(name, user_id=name)}
        await share(scope, None, None)  # type: ignore[arg-type]

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(request, "user-a")
            tg.start_soon(request, "user-a")  # waits: a share of 1
            await inside.wait()
            await anyio.wait_all_tasks_blocked()
            assert share.callers_present() == 1
            release.set()
        for n in range(50):  # many callers, one after the other
            await request(f"user-{n}")
    assert share.callers_present() == 0


async def test_one_caller_signed_in_twice_shares_one_entry_whatever_its_scopes() -> None:
    """Keyed by name: a second token of the same user (other scopes) does not double its share."""
    inside = anyio.Event()
    release = anyio.Event()
    running = 0
    most = 0

    async def held(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        inside.set()
        await release.wait()
        running -= 1

    share = CallerShare(held, 1)

    async def request(scopes: frozenset[str]) -> None:
        scope: dict[str, Any] = {"type": "http", CALLER_SCOPE_KEY: Caller("user-a", scopes=scopes)}
        await share(scope, None, None)  # type: ignore[arg-type]

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(request, frozenset({"read:users"}))
            tg.start_soon(request, frozenset({"admin:users"}))
            await inside.wait()
            await anyio.wait_all_tasks_blocked()
            release.set()
    assert most == 1


@pytest.mark.parametrize(
    ("resource", "metadata_url"),
    [
        ("https://mcp.acme.com/mcp", "https://mcp.acme.com/.well-known/oauth-protected-resource/mcp"),
        ("https://mcp.acme.com", "https://mcp.acme.com/.well-known/oauth-protected-resource"),
        ("http://[::1]:9000/mcp", "http://[::1]:9000/.well-known/oauth-protected-resource/mcp"),
    ],
)
def test_the_metadata_names_the_resource_exactly_as_configured_and_lives_where_rfc_9728_puts_it(
    resource: str, metadata_url: str
) -> None:
    document = json.loads(
        resource_metadata(
            resource_url=resource, auth_url="https://auth.acme.com", scopes=SCOPES
        ).model_dump_json(exclude_none=True)
    )
    assert document["resource"] == resource
    assert document["authorization_servers"] == ["https://auth.acme.com/oauth/2.1"]
    assert resource_metadata_url(resource) == metadata_url
