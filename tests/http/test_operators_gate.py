"""The operators' gate of --auth propelauth: a signed-in person passes only as a member of the operators'
org, read with the server's own Backend API client from the sandbox (over httpx2.ASGITransport), once
per token per cache period; a Backend API that cannot tell is a 503, never a pass."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from starlette.types import Receive, Scope, Send

from sandbox import create_app
from server.audit import AuditTrail
from server.callers import CALLER_SCOPE_KEY, Caller
from server.introspection import token_digest
from server.oauth_resource import OAuthGate
from server.operators import OperatorsCheck, OperatorsUnavailable
from server.propelauth_client import PropelAuthClient
from tests.http.oauth_doubles import SCOPES, Clock, IntrospectionDouble, active, introspector
from tests.sandbox.sandbox_testkit import API, API_KEY, add_member, client_for, create_org, create_user

pytestmark = pytest.mark.anyio
TOKEN, OTHER_TOKEN = "oauth-token-of-the-operator-0123456789", "oauth-token-of-another-one-0123456789"


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


class ReadCounter:
    """In front of the sandbox: the Backend API reads of users (path and query) it receives."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.reads: list[tuple[str, str]] = []
        self.hold: anyio.Event | None = None  # when set, each read waits for it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(f"{API}/user/"):
            self.reads.append((scope["path"], scope["query_string"].decode()))
            if self.hold is not None:
                await self.hold.wait()
        await self.app(scope, receive, send)


@dataclass
class Rig:
    http: httpx2.AsyncClient  # to the gate
    sandbox: httpx2.AsyncClient  # the Backend API, as a test sets the org up
    counter: ReadCounter
    check: OperatorsCheck
    clock: Clock
    double: IntrospectionDouble
    org_id: str
    audit_path: Path

    async def post(self, token: str = TOKEN) -> httpx2.Response:
        return await self.http.post("/mcp", headers={"Authorization": f"Bearer {token}"})

    async def person(self, email: str, *, role: str | None = "Member", token: str = TOKEN) -> str:
        """A sandbox user signed in with `token` (a member with `role`, or not in the org for None)."""
        user_id = await create_user(self.sandbox, email=email)
        if role is not None:
            assert (await add_member(self.sandbox, user_id, self.org_id, role)).status_code == 200
        self.double.answers[token] = active(user_id, scope="read:users", now=self.clock.now)
        return user_id

    def audit_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.audit_path.read_text().splitlines()]


@asynccontextmanager
async def rig(
    audit_path: Path,
    *,
    role: str | None = None,
    cache_s: float = 60,
    backend_transport: httpx2.AsyncBaseTransport | None = None,
) -> AsyncIterator[Rig]:
    sandbox_app = create_app(api_key=API_KEY, auth_url="http://sandbox.test")
    counter = ReadCounter(sandbox_app)
    clock = Clock()
    double = IntrospectionDouble()
    verifier = introspector(cache_s=cache_s, clock=clock)
    transport = backend_transport or httpx2.ASGITransport(app=counter)
    audit = AuditTrail(audit_path)
    with closing(sandbox_app.state.sandbox):
        async with (
            client_for(sandbox_app) as sandbox,
            httpx2.AsyncClient(
                transport=transport,
                base_url="http://sandbox.test",
                headers={"Authorization": f"Bearer {API_KEY}"},
            ) as backend_http,
        ):
            org_id = await create_org(sandbox, name="Operators")
            backend = PropelAuthClient(backend_http, max_retries=0)
            check = OperatorsCheck(lambda: backend, org_id=org_id, role=role, cache_s=cache_s, clock=clock)
            gate = OAuthGate(
                ok,
                verifier,
                scopes=SCOPES,
                metadata_url="http://x/prm",
                scope_key=CALLER_SCOPE_KEY,
                operators=check,
                audit=audit,
            )
            try:
                async with (
                    verifier.running(double.transport()),
                    httpx2.AsyncClient(
                        transport=httpx2.ASGITransport(app=gate), base_url="http://gate.test"
                    ) as http,
                ):
                    yield Rig(http, sandbox, counter, check, clock, double, org_id, audit_path)
            finally:
                audit.close()


async def test_a_member_of_the_operators_org_passes_after_one_read_of_their_memberships(
    audit_path: Path,
) -> None:
    async with rig(audit_path) as r:
        user_id = await r.person("ops@example.com")
        response = await r.post()
    assert response.status_code == 200
    assert r.counter.reads == [(f"{API}/user/{user_id}", "include_orgs=true")]


async def test_a_person_outside_the_operators_org_gets_403_access_denied_without_a_scope_challenge(
    audit_path: Path,
) -> None:
    async with rig(audit_path) as r:
        await create_org(r.sandbox, name="A customer")
        user_id = await r.person("customer@example.com", role=None)
        response = await r.post()
    assert response.status_code == 403 and "www-authenticate" not in response.headers
    assert response.json()["error"] == "access_denied"
    [record] = r.audit_records()
    assert (record["outcome"], record["caller"], record["details"]["reason"]) == (
        "rejected",
        user_id,
        "not_an_operator",
    )
    assert TOKEN not in r.audit_path.read_text()


async def test_an_unknown_or_disabled_user_is_not_an_operator(audit_path: Path) -> None:
    async with rig(audit_path) as r:
        disabled = await r.person("gone@example.com")
        assert (await r.sandbox.post(f"{API}/user/{disabled}/disable")).status_code == 200
        r.double.answers[OTHER_TOKEN] = active("no-such-user", scope="read:users", now=r.clock.now)
        answers = [await r.post(TOKEN), await r.post(OTHER_TOKEN)]
    assert [a.status_code for a in answers] == [403, 403]


async def test_the_least_role_admits_that_role_and_those_above_it_only(audit_path: Path) -> None:
    async with rig(audit_path, role="Admin") as r:
        await r.person("member@example.com", role="Member", token=TOKEN)
        await r.person("owner@example.com", role="Owner", token=OTHER_TOKEN)
        member, owner = await r.post(TOKEN), await r.post(OTHER_TOKEN)
    assert (member.status_code, owner.status_code) == (403, 200)


async def test_one_backend_read_per_token_per_cache_period_even_for_a_burst(audit_path: Path) -> None:
    async with rig(audit_path) as r:
        await r.person("ops@example.com", token=TOKEN)
        await r.person("other@example.com", role=None, token=OTHER_TOKEN)
        statuses: list[int] = []

        async def one(token: str) -> None:
            statuses.append((await r.post(token)).status_code)

        r.counter.hold = anyio.Event()
        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:
                for _ in range(10):
                    group.start_soon(one, TOKEN)
                    group.start_soon(one, OTHER_TOKEN)
                await anyio.wait_all_tasks_blocked()  # all twenty wait on the two reads in flight
                r.counter.hold.set()
        burst = len(r.counter.reads)
        r.clock.now += 61  # the period is over: asked again (and introspected again)
        again = await r.post(TOKEN)
    assert sorted(statuses) == [200] * 10 + [403] * 10
    assert burst == 2 and len(r.counter.reads) == 3 and again.status_code == 200


async def test_a_cached_verdict_never_outlives_the_token(audit_path: Path) -> None:
    async with rig(audit_path) as r:
        user_id = await r.person("ops@example.com")
        caller = Caller(name=user_id, user_id=user_id, email=None, client_id=None, scopes=frozenset())
        digest = token_digest(TOKEN)
        assert await r.check.allows(digest, caller, r.clock.now + 5)
        r.clock.now += 6  # within the 60 s period, past the token's expiry
        assert await r.check.allows(digest, caller, r.clock.now + 5)
    assert len(r.counter.reads) == 2


@pytest.mark.parametrize(
    "fault",
    [
        httpx2.MockTransport(lambda request: (_ for _ in ()).throw(httpx2.ConnectError("refused"))),
        httpx2.MockTransport(lambda request: httpx2.Response(500, json={"error": "boom"})),
        httpx2.MockTransport(lambda request: httpx2.Response(401, json={"error": "bad key"})),
    ],
    ids=["unreachable", "failing", "key-refused"],
)
async def test_a_backend_api_that_cannot_tell_is_a_503_never_a_pass_and_is_not_cached(
    audit_path: Path, fault: httpx2.MockTransport
) -> None:
    async with rig(audit_path, backend_transport=fault) as r:
        await r.person("ops@example.com")
        first, second = await r.post(), await r.post()
    assert (first.status_code, second.status_code) == (503, 503)
    assert first.json()["error"] == "temporarily_unavailable" and "retry-after" in first.headers
    assert r.check.reads == 2  # a failure is asked again, not remembered
    assert API_KEY not in first.text


async def test_a_server_still_starting_cannot_check_and_answers_503() -> None:
    check = OperatorsCheck(lambda: None, org_id="org-1", cache_s=60)
    caller = Caller(name="u", user_id="u", email=None, client_id=None, scopes=frozenset())
    with pytest.raises(OperatorsUnavailable):
        await check.allows(token_digest(TOKEN), caller, None)
