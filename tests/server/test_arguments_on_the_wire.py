"""What reaches PropelAuth is what the advertised schema means, through the MCP layer against the sandbox."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qsl

import anyio
import httpx2
import pytest
import structlog
from mcp import Client

from sandbox import Sandbox
from sandbox.demo import demo_user_id
from server.app import create_server
from server.audit import AuditTrail
from server.settings import Settings
from server.stdio import loop_stdio
from tests.jsonrpc import HANDSHAKE, as_lines, read_replies

pytestmark = pytest.mark.anyio

ADA = demo_user_id("ada@example.com")


@pytest.fixture(autouse=True)
def logs_to_a_live_stream() -> Iterator[None]:
    # A test file run earlier may leave structlog writing to a pytest capture it has closed (the
    # suite's known order dependence, issue 9): start from structlog's defaults, and leave them.
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


@pytest.mark.parametrize(
    "user_id",
    [  # forms Python's uuid.UUID parses; the first two are Ada's own id, spelled with other digits
        "\u0666" + ADA[1:],
        "\uff16" + ADA[1:],
        ADA[:4] + "_" + ADA[5:],
        "0x" + ADA[2:],
        "+" + ADA[1:],
        " " + ADA[1:],
        ADA[:-1] + "\n",
    ],
    ids=ascii,
)
async def test_a_confirmed_delete_with_a_lax_uuid_form_sends_nothing(
    client: Client, sandbox: Sandbox, user_id: str
) -> None:
    before = sandbox.requests_received
    result = await client.call_tool("delete_user", {"user_id": user_id, "confirm": True})
    assert result.is_error and result.content[0].text.startswith("Invalid arguments for delete_user")
    assert sandbox.requests_received == before
    assert sandbox.store.get_user(ADA) is not None


async def serve_lines(server: Any, lines: str, replies: int) -> list[dict[str, Any]]:
    """Write raw JSON-RPC lines to a stdio server over pipes; return its first `replies` answers."""
    server_in, to_server = os.pipe()
    from_server, server_out = os.pipe()
    try:
        os.write(to_server, lines.encode())
        with anyio.fail_after(10):
            async with (
                loop_stdio(server_in, server_out) as (read_stream, write_stream),
                anyio.create_task_group() as tg,
            ):
                tg.start_soon(server.run, read_stream, write_stream, server.create_initialization_options())
                answers = await anyio.to_thread.run_sync(
                    read_replies, from_server, replies, abandon_on_cancel=True
                )
                tg.cancel_scope.cancel()
    finally:
        for fd in (server_in, to_server, from_server, server_out):
            os.close(fd)
    return answers


def tools_call(request_id: int, name: str, arguments_json: str) -> str:
    """A tools/call line written by hand: its arguments are JSON text as a client sent it."""
    params = {"name": name, "arguments": "ARGUMENTS"}
    line = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params})
    return line.replace('"ARGUMENTS"', arguments_json) + "\n"


async def test_nan_and_infinity_in_a_call_are_invalid_arguments_and_nothing_is_sent(
    settings: Settings, audit: AuditTrail, sandbox_app: Any, sandbox: Sandbox
) -> None:
    server = create_server(settings, audit, transport=httpx2.ASGITransport(app=sandbox_app))
    ada = json.dumps(ADA)
    calls = [  # NaN and Infinity as Python's json (and the stdio transport's parser) accept them
        tools_call(2, "update_user", '{"user_id": ' + ada + ', "metadata": {"score": NaN}}'),
        tools_call(3, "query_users", '{"page_size": Infinity}'),
        tools_call(
            4, "update_user", '{"user_id": ' + ada + ', "first_name": "A", "metadata": {"x": [-Infinity]}}'
        ),
    ]
    before = sandbox.requests_received
    replies = await serve_lines(server, as_lines(HANDSHAKE) + "".join(calls), 4)

    fields = {2: "metadata.score", 3: "page_size", 4: "metadata.x.0"}
    for reply in replies[1:]:
        assert "error" not in reply, reply  # a tool result, not a JSON-RPC error
        result = reply["result"]
        assert result["isError"] is True
        text = result["content"][0]["text"]
        assert text.startswith("Invalid arguments for ") and "nothing was sent" in text
        assert text.split("nothing was sent: ")[1].startswith(fields[reply["id"]] + ": ")
    assert sandbox.requests_received == before

    audit.close()
    records = [json.loads(line) for line in settings.audit_path.read_text().splitlines()]
    assert [(record["kind"], record["outcome"]) for record in records] == [("outcome", "rejected")] * 3
    assert all(record["details"]["reason"] == "invalid_arguments" for record in records)


class RecordingApp:
    """The sandbox app as it is, with a note of each request's query string and body bytes as received."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.received: list[tuple[str, str, bytes, bytes]] = []  # method, path, query, body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def noting_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        await self.app(scope, noting_receive, send)
        self.received.append((scope["method"], scope["path"], scope["query_string"], b"".join(chunks)))


@pytest.fixture
async def recorded_client(
    settings: Settings, audit: AuditTrail, sandbox_app: Any
) -> AsyncIterator[tuple[Client, RecordingApp]]:
    recording = RecordingApp(sandbox_app)
    server = create_server(settings, audit, transport=httpx2.ASGITransport(app=recording))
    async with Client(server, mode="legacy") as client:
        yield client, recording


async def test_a_whole_number_float_for_an_integer_is_sent_in_the_body_as_an_integer(
    recorded_client: tuple[Client, RecordingApp],
) -> None:
    client, recording = recorded_client
    result = await client.call_tool("create_access_token", {"user_id": ADA, "duration_in_minutes": 60.0})
    assert not result.is_error, result.content
    [(method, _, _, body)] = recording.received
    assert method == "POST"
    sent = json.loads(body)["duration_in_minutes"]
    assert sent == 60 and type(sent) is int


async def test_a_whole_number_float_for_an_integer_is_sent_in_the_query_as_an_integer(
    recorded_client: tuple[Client, RecordingApp],
) -> None:
    client, recording = recorded_client
    result = await client.call_tool("query_users", {"page_size": 2.0, "page_number": 1.0})
    assert not result.is_error, result.content
    assert result.structured_content is not None and len(result.structured_content["users"]) == 2
    [(_, _, query, _)] = recording.received
    sent = dict(parse_qsl(query.decode()))
    assert (sent["page_size"], sent["page_number"]) == ("2", "1")


def optional_as_null(tools: dict[str, Any], name: str, **given: Any) -> dict[str, Any]:
    """Arguments as OpenAI's strict mode sends them: every field present, null where the model has none."""
    schema = tools[name].input_schema
    return {field: given.get(field) for field in schema["properties"]}


async def test_a_strict_mode_call_with_every_optional_argument_null_is_served_as_if_they_were_not_given(
    recorded_client: tuple[Client, RecordingApp],
) -> None:
    client, recording = recorded_client
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    result = await client.call_tool("query_users", optional_as_null(tools, "query_users"))
    assert not result.is_error, result.content
    result = await client.call_tool(
        "create_access_token", optional_as_null(tools, "create_access_token", user_id=ADA)
    )
    assert not result.is_error, result.content
    [(_, _, query, _), (_, _, _, body)] = recording.received
    assert query == b""  # nothing given: PropelAuth's own defaults apply
    assert json.loads(body) == {"user_id": ADA, "duration_in_minutes": 60}


async def test_a_confirm_given_as_null_is_a_preview_and_changes_nothing(
    client: Client, sandbox: Sandbox
) -> None:
    result = await client.call_tool("delete_user", {"user_id": ADA, "confirm": None})
    assert not result.is_error and result.content[0].text.startswith("Nothing was done")
    assert sandbox.store.get_user(ADA) is not None


async def test_a_required_argument_given_as_null_is_invalid_and_nothing_is_sent(
    client: Client, sandbox: Sandbox
) -> None:
    before = sandbox.requests_received
    result = await client.call_tool("delete_user", {"user_id": None, "confirm": True})
    assert result.is_error and result.content[0].text.startswith("Invalid arguments for delete_user")
    assert "user_id: expected string, got null" in result.content[0].text
    assert sandbox.requests_received == before
