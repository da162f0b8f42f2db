"""Over HTTP, at most --http-max-concurrent MCP requests are handled at once; the rest wait their turn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from starlette.types import Receive, Scope, Send

from server.http import AdmissionLimit
from tests.http.conftest import ALICE_TOKEN, http_client

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
