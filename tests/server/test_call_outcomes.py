"""Every tool call ends in a tool result (never a protocol error) and in one outcome record, however it ends:
an exception of ours, a cancellation, a refusal before anything was sent."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from sandbox.demo import demo_user_id
from server.app import create_server
from server.audit import AuditTrail
from server.tool_service import ToolService
from tests.conftest import API_KEY, AUTH_URL, make_settings
from tools.backend import ApiRequest, ApiResponse

pytestmark = pytest.mark.anyio

ADA = demo_user_id("ada@example.com")
Handler = Callable[[httpx2.Request], Any]


class WatchedAudit(AuditTrail):
    """The real audit trail, which also lets a test wait for the next outcome record."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.outcomes: list[dict[str, Any]] = []
        self._outcome_written = anyio.Event()

    def write(self, record: dict[str, Any], *, durable: bool = False) -> None:
        super().write(record, durable=durable)
        if record["kind"] == "outcome":
            self.outcomes.append(record)
            self._outcome_written.set()

    async def next_outcome(self) -> dict[str, Any]:
        with anyio.fail_after(10):
            await self._outcome_written.wait()
        self._outcome_written = anyio.Event()
        return self.outcomes[-1]


def file_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@asynccontextmanager
async def client_over(
    audit_path: Path, handler: Handler, **settings: Any
) -> AsyncIterator[tuple[Client, WatchedAudit]]:
    """The real server, in memory, whose PropelAuth is `handler` (an httpx2 MockTransport)."""
    trail = WatchedAudit(audit_path)
    server = create_server(
        make_settings(audit_path, **settings), trail, transport=httpx2.MockTransport(handler)
    )
    try:
        with anyio.fail_after(20):
            async with Client(server, mode="legacy") as client:
                yield client, trail
    finally:
        trail.close()


# --- an exception on the call path -------------------------------------------------------------------------


def raising_backend(request: httpx2.Request) -> httpx2.Response:
    raise RuntimeError(f"bug holding a value: {request.url}")  # no httpx2 error: nothing translates it


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("fetch_user_by_id", {"user_id": ADA}),
        ("delete_user", {"user_id": ADA, "confirm": True}),
    ],
)
async def test_a_backend_that_raises_gives_a_tool_error_and_an_outcome_record(
    audit_path: Path, tool: str, arguments: dict[str, Any]
) -> None:
    async with client_over(audit_path, raising_backend) as (client, _):
        result = await client.call_tool(tool, arguments)
    assert result.is_error and result.content[0].type == "text"
    text = result.content[0].text
    assert "RuntimeError" in text and "bug holding a value" not in text and ADA.split("-")[0] not in text[:40]
    outcome = file_records(audit_path)[-1]
    assert (outcome["kind"], outcome["tool"], outcome["outcome"]) == ("outcome", tool, "error")
    assert outcome["details"] == {
        "reason": "internal_error",
        "error_type": "RuntimeError",
        "may_have_reached": True,  # the request was on its way when the exception came
    }
    assert "bug holding a value" not in audit_path.read_text()


class ExplodingBody(dict[str, Any]):
    """A response body that breaks whatever reads it: rendering and output checks alike."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError("no reading this")

    def get(self, key: str, default: Any = None) -> Any:
        raise ValueError("no reading this")


class UnreadableAnswers:
    """Answers with the sandbox's own user, in a body that conforms yet cannot be read."""

    def __init__(self, sandbox_app: Any) -> None:
        self._app = sandbox_app

    async def send(self, request: ApiRequest) -> ApiResponse:
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=self._app), base_url=AUTH_URL
        ) as http:
            real = await http.get(request.path, headers={"Authorization": f"Bearer {API_KEY}"})
        return ApiResponse(status=200, body=ExplodingBody(real.json()))


async def test_a_response_that_breaks_rendering_gives_a_tool_error_and_an_outcome_record(
    audit_path: Path, sandbox_app: Any
) -> None:
    trail = AuditTrail(audit_path)
    service = ToolService(make_settings(audit_path), trail)
    try:
        with anyio.fail_after(10):
            result = await service.call(
                UnreadableAnswers(sandbox_app), "fetch_user_by_id", {"user_id": ADA}, client=None, caller=None
            )
    finally:
        trail.close()
    assert result.is_error and "no reading this" not in result.content[0].text  # type: ignore[union-attr]
    [outcome] = file_records(audit_path)
    assert outcome["outcome"] == "error" and outcome["details"]["reason"] == "internal_error"
    assert outcome["details"]["may_have_reached"] is True


# --- a call cancelled by the client ------------------------------------------------------------------------


class Gate:
    """A PropelAuth that takes each request and never answers it; `arrived` is set when one is in."""

    def __init__(self) -> None:
        self.arrived = anyio.Event()
        self.methods: list[str] = []

    async def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.methods.append(request.method)
        self.arrived.set()
        await anyio.Event().wait()  # held until cancelled
        raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("tool", "arguments", "method"),
    [
        ("fetch_user_by_id", {"user_id": ADA}, "GET"),
        ("delete_user", {"user_id": ADA, "confirm": True}, "DELETE"),
    ],
    ids=["read", "write"],
)
async def test_a_call_the_client_cancels_mid_request_gets_a_cancelled_outcome_record(
    audit_path: Path, tool: str, arguments: dict[str, Any], method: str
) -> None:
    gate = Gate()
    async with client_over(audit_path, gate) as (client, trail):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.call_tool, tool, arguments)
            with anyio.fail_after(10):
                await gate.arrived.wait()
            tg.cancel_scope.cancel()  # the SDK client tells the server: notifications/cancelled
        outcome = await trail.next_outcome()
        assert (await client.list_tools()).tools  # the session goes on
    assert gate.methods == [method]
    assert (outcome["tool"], outcome["outcome"]) == (tool, "cancelled")
    assert outcome["details"] == {"reason": "cancelled", "may_have_reached": True}
    kinds = [(r["kind"], r["outcome"]) for r in file_records(audit_path)]
    expected_intent = [("intent", None)] if method == "DELETE" else []
    assert kinds == [*expected_intent, ("outcome", "cancelled")]


async def test_a_preview_cancelled_mid_read_says_the_change_was_never_sent(audit_path: Path) -> None:
    gate = Gate()
    async with client_over(audit_path, gate) as (client, trail):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.call_tool, "delete_user", {"user_id": ADA})
            with anyio.fail_after(10):
                await gate.arrived.wait()
            tg.cancel_scope.cancel()
        outcome = await trail.next_outcome()
    assert gate.methods == ["GET"]
    assert outcome["outcome"] == "cancelled" and outcome["details"]["may_have_reached"] is False


# --- a refused confirmed call gives its blast-radius slot back ---------------------------------------------


async def test_a_confirmed_call_refused_before_sending_gives_its_destructive_slot_back(
    audit_path: Path,
) -> None:
    deletes: list[str] = []

    def refuse_the_first_connection(request: httpx2.Request) -> httpx2.Response:
        deletes.append(request.method)
        if len(deletes) == 1:
            raise httpx2.ConnectError("connection refused", request=request)  # nothing left this machine
        return httpx2.Response(200, json={})

    async with client_over(audit_path, refuse_the_first_connection, destructive_limit=1, max_retries=0) as (
        client,
        _,
    ):
        refused = await client.call_tool("delete_user", {"user_id": ADA, "confirm": True})
        second = await client.call_tool("delete_user", {"user_id": ADA, "confirm": True})
    assert refused.is_error and file_records(audit_path)[1]["details"]["may_have_reached"] is False
    assert not second.is_error, second.content
    assert deletes == ["DELETE", "DELETE"]
