"""The token verifier of --auth propelauth on its own: what an introspection answer must say for a token
to pass, how long an answer is reused, and that an endpoint it cannot use is never a pass."""

from __future__ import annotations

import base64
from typing import Any

import anyio
import httpx2
import pytest
from structlog.testing import capture_logs

from server.callers import Caller
from server.introspection import IntrospectionUnavailable
from tests.http.oauth_doubles import (
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER,
    RESOURCE_URL,
    Clock,
    Fault,
    IntrospectionDouble,
    active,
    introspector,
)

TOKEN = "oauth-access-token-0123456789"

pytestmark = pytest.mark.anyio


async def verify(double: IntrospectionDouble, token: str = TOKEN, **options: Any) -> Caller | None:
    verifier = introspector(**options)
    async with verifier.running(double.transport()):
        return await verifier.verify(token)


async def test_an_active_token_for_this_resource_is_its_propelauth_user() -> None:
    double = IntrospectionDouble({TOKEN: active("user-7", scope="read:users admin:users")})
    caller = await verify(double)
    assert caller == Caller(
        name="user-7",
        user_id="user-7",
        email="user-7@example.com",
        client_id="client-abc",
        scopes=frozenset({"read:users", "admin:users"}),
    )


async def test_introspection_posts_the_token_as_a_form_with_the_client_credentials() -> None:
    double = IntrospectionDouble({TOKEN: active()})
    assert await verify(double) is not None
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert double.authorizations == [f"Basic {basic}"]


@pytest.mark.parametrize(
    "answer",
    [
        {"active": False},
        active(aud="https://other.example.com/mcp"),
        active(aud=["https://other.example.com/mcp"]),
        active(aud=None),
        active(iss="https://evil.example.com/oauth/2.1"),
        active(exp_in=-1),
        active(exp=None),
        active(sub=None),
    ],
    ids=[
        "inactive",
        "other-audience",
        "other-audience-list",
        "no-audience",
        "other-issuer",
        "expired",
        "no-exp",
        "no-sub",
    ],
)
async def test_a_token_is_refused_unless_active_for_this_audience_unexpired_and_from_propelauth(
    answer: dict[str, Any],
) -> None:
    assert await verify(IntrospectionDouble({TOKEN: answer})) is None


@pytest.mark.parametrize(
    "aud",
    [RESOURCE_URL + "/", "HTTP://127.0.0.1:8000/mcp", ["https://other.example.com", RESOURCE_URL]],
    ids=["trailing-slash", "scheme-case", "in-a-list"],
)
async def test_the_audience_is_compared_as_a_url(aud: Any) -> None:
    assert await verify(IntrospectionDouble({TOKEN: active(aud=aud)})) is not None


async def test_an_answer_without_an_issuer_is_accepted_and_with_one_it_must_be_propelauths() -> None:
    assert await verify(IntrospectionDouble({TOKEN: active(iss=None)})) is not None
    assert await verify(IntrospectionDouble({TOKEN: active(iss=ISSUER + "/")})) is not None


async def test_many_requests_with_one_token_make_one_introspection_within_the_cache_period() -> None:
    clock = Clock()
    double = IntrospectionDouble({TOKEN: active(now=clock.now)})
    verifier = introspector(cache_s=60, clock=clock)
    async with verifier.running(double.transport()):
        for _ in range(5):
            assert await verifier.verify(TOKEN) is not None
        clock.now += 59
        assert await verifier.verify(TOKEN) is not None
        assert double.count(TOKEN) == 1
        clock.now += 2  # past the cache period: asked again
        assert await verifier.verify(TOKEN) is not None
    assert double.count(TOKEN) == 2


async def test_concurrent_requests_with_one_token_share_a_single_introspection() -> None:
    double = IntrospectionDouble({TOKEN: active()}, hold=anyio.Event())
    verifier = introspector()
    results: list[Caller | None] = []

    async def one() -> None:
        results.append(await verifier.verify(TOKEN))

    async with verifier.running(double.transport()):
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for _ in range(20):
                    tg.start_soon(one)
                await anyio.wait_all_tasks_blocked()
                assert double.hold is not None
                double.hold.set()
    assert double.count(TOKEN) == 1
    assert len(results) == 20 and all(r is not None and r.name == "user-1" for r in results)


async def test_concurrent_requests_waiting_on_a_failed_introspection_all_get_the_failure() -> None:
    double = IntrospectionDouble({TOKEN: active()}, hold=anyio.Event(), fault=503)
    verifier = introspector()
    failures: list[str] = []

    async def one() -> None:
        try:
            await verifier.verify(TOKEN)
        except IntrospectionUnavailable as exc:
            failures.append(exc.reason)

    async with verifier.running(double.transport()):
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for _ in range(5):
                    tg.start_soon(one)
                await anyio.wait_all_tasks_blocked()
                assert double.hold is not None
                double.hold.set()
    assert double.count(TOKEN) == 1 and len(failures) == 5


async def test_waiters_ask_again_when_the_one_asking_is_cancelled() -> None:
    double = IntrospectionDouble({TOKEN: active()}, hold=anyio.Event())
    verifier = introspector()
    results: list[Caller | None] = []
    leader_scope = anyio.CancelScope()

    async def leader() -> None:
        with leader_scope:  # its client went away mid-introspection
            await verifier.verify(TOKEN)

    async def follower() -> None:
        results.append(await verifier.verify(TOKEN))

    async with verifier.running(double.transport()):
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(leader)
                await anyio.wait_all_tasks_blocked()
                tg.start_soon(follower)
                await anyio.wait_all_tasks_blocked()
                leader_scope.cancel()
                await anyio.wait_all_tasks_blocked()
                assert double.hold is not None
                double.hold.set()
    assert [r.name if r else None for r in results] == ["user-1"]
    assert double.count(TOKEN) == 2


async def test_an_answer_is_never_reused_past_the_tokens_expiry() -> None:
    clock = Clock()
    double = IntrospectionDouble({TOKEN: active(now=clock.now, exp_in=10)})
    verifier = introspector(cache_s=60, clock=clock)
    async with verifier.running(double.transport()):
        assert await verifier.verify(TOKEN) is not None
        clock.now += 9
        assert await verifier.verify(TOKEN) is not None
        assert double.count(TOKEN) == 1
        clock.now += 2  # expired while cached: asked again, and refused
        assert await verifier.verify(TOKEN) is None
    assert double.count(TOKEN) == 2


async def test_a_token_expiring_while_cached_is_refused_even_when_served_from_the_cache() -> None:
    """The cache keeps an answer until exp at most; the exp check itself runs on every use."""
    clock = Clock()
    double = IntrospectionDouble({TOKEN: active(now=clock.now, exp_in=10)})
    verifier = introspector(cache_s=60, clock=clock)
    async with verifier.running(double.transport()):
        assert await verifier.verify(TOKEN) is not None
        entries = verifier._cache._entries
        key = next(iter(entries))
        entries[key] = (entries[key][0], clock.now + 60)  # as if kept longer than exp
        clock.now += 11
        assert await verifier.verify(TOKEN) is None
    assert double.count(TOKEN) == 1


async def test_an_inactive_answer_is_cached_too() -> None:
    double = IntrospectionDouble({})
    verifier = introspector()
    async with verifier.running(double.transport()):
        for _ in range(3):
            assert await verifier.verify(TOKEN) is None
    assert double.count(TOKEN) == 1


async def test_with_a_zero_cache_period_every_request_is_introspected() -> None:
    double = IntrospectionDouble({TOKEN: active()})
    verifier = introspector(cache_s=0)
    async with verifier.running(double.transport()):
        for _ in range(3):
            assert await verifier.verify(TOKEN) is not None
    assert double.count(TOKEN) == 3


async def test_the_cache_holds_at_most_its_bound_dropping_the_least_recently_used() -> None:
    tokens = [f"token-{n:02d}-0123456789abcdef" for n in range(5)]
    double = IntrospectionDouble({token: active() for token in tokens})
    verifier = introspector(max_cached=3)
    async with verifier.running(double.transport()):
        for token in tokens[:3]:
            await verifier.verify(token)
        await verifier.verify(tokens[0])  # used again: now the most recent
        for token in tokens[3:]:
            await verifier.verify(token)
        assert verifier.cached_tokens() == 3
        await verifier.verify(tokens[0])  # still cached
        await verifier.verify(tokens[1])  # dropped: asked again
    assert double.count(tokens[0]) == 1 and double.count(tokens[1]) == 2


async def test_the_cache_is_keyed_by_a_digest_never_the_token() -> None:
    double = IntrospectionDouble({TOKEN: active()})
    verifier = introspector()
    async with verifier.running(double.transport()):
        await verifier.verify(TOKEN)
        assert all(isinstance(key, bytes) and TOKEN.encode() not in key for key in verifier._cache._entries)


@pytest.mark.parametrize(
    "fault",
    [Fault.TIMEOUT, Fault.UNREACHABLE, Fault.NOT_JSON, Fault.NOT_RFC7662, 500, 502, 503, 401, 403, 400, 429],
)
async def test_an_introspection_endpoint_that_gives_no_usable_answer_is_never_a_pass(
    fault: str | int,
) -> None:
    double = IntrospectionDouble({TOKEN: active()}, fault=fault)
    verifier = introspector()
    with capture_logs() as logs:
        async with verifier.running(double.transport()):
            with pytest.raises(IntrospectionUnavailable) as raised:
                await verifier.verify(TOKEN)
            with pytest.raises(IntrospectionUnavailable):  # a failure is not cached either
                await verifier.verify(TOKEN)
    assert raised.value.reason and TOKEN not in raised.value.reason
    assert double.count(TOKEN) == 2
    assert [entry["event"] for entry in logs] == ["introspection_unavailable"] * 2
    assert TOKEN not in repr(logs) and CLIENT_SECRET not in repr(logs)


async def test_wrong_client_credentials_are_unavailable_with_a_reason_naming_the_settings() -> None:
    double = IntrospectionDouble({TOKEN: active()})
    verifier = introspector(client_secret="not-the-secret")
    async with verifier.running(double.transport()):
        with pytest.raises(IntrospectionUnavailable) as raised:
            await verifier.verify(TOKEN)
    assert "PROPELAUTH_MCP_INTROSPECTION_CLIENT_ID" in raised.value.reason


async def test_a_verifier_whose_client_is_not_running_refuses_to_pass() -> None:
    with pytest.raises(IntrospectionUnavailable):
        await introspector().verify(TOKEN)


async def test_many_different_tokens_at_once_keep_at_most_the_bound_of_introspections_in_flight() -> None:
    """A flood of made-up tokens is a queue here, not a flood at PropelAuth."""
    in_flight = peak = 0
    release = anyio.Event()

    async def handle(request: httpx2.Request) -> httpx2.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await release.wait()
        in_flight -= 1
        return httpx2.Response(200, json={"active": False})

    verifier = introspector(max_in_flight=3)
    refused: list[object] = []
    with anyio.fail_after(10):
        async with verifier.running(httpx2.MockTransport(handle)), anyio.create_task_group() as tg:
            for n in range(12):
                tg.start_soon(lambda n=n: _collect(verifier, f"made-up-token-{n:02}", refused))
            await anyio.wait_all_tasks_blocked()
            assert peak == 3
            release.set()
    assert (peak, refused, verifier.introspections) == (3, [None] * 12, 12)


async def _collect(verifier: Any, token: str, into: list[object]) -> None:
    into.append(await verifier.verify(token))
