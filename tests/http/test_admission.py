"""Over HTTP, at most --http-max-concurrent MCP requests are handled at once; the rest wait their turn.

No one caller can take every slot: a GET is answered at once, a body still arriving holds no slot and
is cut off after a deadline, and one token name may hold at most its share.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import httpx2
import pytest
from starlette.types import Receive, Scope, Send

from server.http import MAX_BODY_BYTES, AdmissionLimit, caller_share
from tests.http.conftest import ALICE_TOKEN, BOT_TOKEN, http_client
from tests.http.test_http_transport import MCP_HEADERS

pytestmark = pytest.mark.anyio


async def test_no_more_than_the_limit_are_inside_at_once_and_every_request_is_served() -> None:
    inside = 0
    most_inside = 0
    served = 0

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal inside, most_inside, served
        inside += 1
        most_inside = max(most_inside, inside)
        await anyio.lowlevel.checkpoint()  # let the other requests pile up at the door
        inside -= 1
        served += 1

    limited = AdmissionLimit(app, 3)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(12):
                tg.start_soon(limited, {"type": "http"}, None, None)
    assert (most_inside, served) == (3, 12)


async def test_concurrent_tool_calls_beyond_the_limit_all_succeed(start_http: Callable[..., Any]) -> None:
    results: list[bool] = []
    with anyio.fail_after(60):
        async with start_http(http_max_concurrent=2) as srv:
            srv.sandbox.faults.latency_s = 0.05  # calls overlap

            async def one_client() -> None:
                async with (
                    http_client(srv.url, token=ALICE_TOKEN) as client,
                    anyio.create_task_group() as calls,
                ):
                    for _ in range(3):
                        calls.start_soon(call, client)

            async def call(client: Any) -> None:
                result = await client.call_tool("query_users", {"page_size": 1})
                results.append(not result.is_error)

            async with anyio.create_task_group() as tg:
                for _ in range(4):
                    tg.start_soon(one_client)
    assert results == [True] * 12


class HeldQueries:
    """The sandbox, except that user queries wait until `release` is set: calls that stay inside."""

    def __init__(self, sandbox_app: Any) -> None:
        self.inner = sandbox_app
        self.state = sandbox_app.state
        self.release = anyio.Event()
        self.arrived = anyio.Event()
        self.held = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/user/query"):
            self.held += 1
            self.arrived.set()
            await self.release.wait()
        await self.inner(scope, receive, send)


class CountArrivals:
    """In front of the server: counts one token's requests; each has reached its caller share once counted.

    (Nothing awaits between the server's door and the share, so a counted request is inside or queued.)
    """

    def __init__(self, token: str, expected: int) -> None:
        self.authorization = f"Bearer {token}".encode()
        self.expected = expected
        self.count = 0
        self.all_arrived = anyio.Event()

    def __call__(self, app: Any) -> Any:
        async def counting(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and (b"authorization", self.authorization) in scope["headers"]:
                self.count += 1
                if self.count >= self.expected:
                    self.all_arrived.set()
            await app(scope, receive, send)

        return counting


async def test_one_token_name_cannot_take_every_slot_so_another_caller_is_served(
    start_http: Callable[..., Any], sandbox_app: Any
) -> None:
    held = HeldQueries(sandbox_app)
    alice_calls = 4
    arrivals = CountArrivals(ALICE_TOKEN, expected=alice_calls)
    outcomes: list[bool] = []
    with anyio.fail_after(60):
        async with (
            start_http(sandbox=held, wrap=arrivals, http_max_concurrent=2) as srv,
            http_client(srv.url, token=ALICE_TOKEN) as alice,
        ):
            arrivals.count = 0  # alice's connection handshake is done: count her calls only
            async with anyio.create_task_group() as tg:

                async def alice_query() -> None:
                    result = await alice.call_tool("query_users", {"page_size": 1})
                    outcomes.append(not result.is_error)

                for _ in range(alice_calls):
                    tg.start_soon(alice_query)
                await arrivals.all_arrived.wait()
                await held.arrived.wait()
                # Without a per-caller share alice's calls fill both slots and the bot waits for ever.
                with anyio.fail_after(10):
                    async with http_client(srv.url, token=BOT_TOKEN) as bot:
                        result = await bot.call_tool("fetch_user_by_email", {"email": "ada@example.com"})
                assert not result.is_error
                assert held.held == 1  # alice's share of 2 slots is 1
                held.release.set()
    assert outcomes == [True] * alice_calls


def test_a_caller_may_hold_half_the_slots_at_least_one_or_all_when_alone() -> None:
    assert [caller_share(limit, 2) for limit in (1, 2, 3, 32)] == [1, 1, 1, 16]
    assert [caller_share(limit, 1) for limit in (1, 3, 32)] == [1, 3, 32]


async def test_a_get_on_the_mcp_endpoint_is_answered_405_at_once_and_holds_no_slot(
    start_http: Callable[..., Any],
) -> None:
    headers = {"Authorization": f"Bearer {ALICE_TOKEN}", "Accept": "text/event-stream"}
    with anyio.fail_after(30):
        async with start_http(http_max_concurrent=1) as srv, httpx2.AsyncClient(headers=headers) as http:
            answers = []
            for method in ("GET", "GET", "DELETE"):
                with anyio.fail_after(5):
                    answers.append(await http.request(method, srv.url))
            async with http_client(srv.url, token=ALICE_TOKEN) as client:
                result = await client.call_tool("fetch_user_by_email", {"email": "ada@example.com"})
    assert [(a.status_code, a.headers["allow"]) for a in answers] == [(405, "POST")] * 3
    assert not result.is_error


async def drip(base: str, token: str) -> anyio.abc.SocketStream:
    """Open a POST /mcp over a raw socket and send only the first byte of a 2-byte body."""
    url = httpx2.URL(base)
    stream = await anyio.connect_tcp(url.host, url.port or 80)
    await stream.send(
        (
            f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{url.port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            "Content-Length: 2\r\n\r\n{"
        ).encode()
    )
    return stream


async def read_all(stream: anyio.abc.SocketStream) -> bytes:
    data = b""
    with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError):
        while True:
            data += await stream.receive()
    return data


async def test_a_dripping_body_is_cut_off_with_408_and_never_holds_a_slot(
    start_http: Callable[..., Any],
) -> None:
    with anyio.fail_after(30):
        async with (
            start_http(http_max_concurrent=1, app_options={"body_read_timeout_s": 1.0}) as srv,
            await drip(srv.base, ALICE_TOKEN) as dripping,
        ):
            # While alice's body is still arriving, the only slot is free for the next caller.
            with anyio.fail_after(5):
                async with http_client(srv.url, token=BOT_TOKEN) as bot:
                    result = await bot.call_tool("fetch_user_by_email", {"email": "ada@example.com"})
            with anyio.fail_after(10):
                answer = await read_all(dripping)
    assert not result.is_error
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"408"
    assert b"connection: close" in rest.lower()


async def test_a_body_over_the_size_limit_is_refused_with_413(start_http: Callable[..., Any]) -> None:
    headers = {"Authorization": f"Bearer {ALICE_TOKEN}", **MCP_HEADERS}

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size is found while reading
        for _ in range(MAX_BODY_BYTES // 65536 + 1):
            yield b" " * 65536

    with anyio.fail_after(30):
        async with start_http() as srv, httpx2.AsyncClient(headers=headers) as http:
            answer = await http.post(srv.url, content=chunks())
    assert answer.status_code == 413
