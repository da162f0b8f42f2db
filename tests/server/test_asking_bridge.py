"""The bridge from MCP elicitation to `tools.asking.Asking`, over the official client in both eras.

A stand-in tool (no PropelAuth) reports what the bridge gave it, so these tests pin the bridge alone:
which era can be asked, the accept rule, the timeout, and the sealed state of the 2026-07-28 form.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import mcp.types as types
import pytest
from mcp import Client
from mcp.client import ClientRequestContext
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.server.request_state import RequestStateBoundary
from mcp.shared.exceptions import MCPError

from server.asking import CONFIRM_KEY, AskingBridge, answer_of, input_required_result
from server.sealing import TokenSealer, request_state_security
from tools.asking import Asking, ConfirmationMode
from tools.model import ToolOutcome

KEY = b"k" * 32
MESSAGE = "Permanently delete user ada@example.com?"
ARGS = {"user_id": "u-1", "confirm": True}

Callback = Callable[[ClientRequestContext, types.ElicitRequestParams], Awaitable[types.ElicitResult]]


def answering(action: str, content: dict[str, Any] | None = None, seen: list[str] | None = None) -> Callback:
    async def callback(ctx: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestFormParams)
        assert params.requested_schema["properties"][CONFIRM_KEY]["type"] == "boolean"
        if seen is not None:
            seen.append(params.message)
        return types.ElicitResult(action=action, content=content)  # type: ignore[arg-type]

    return callback


ACCEPT = answering("accept", {"confirm": True})


def stand_in_server(
    mode: ConfirmationMode = "auto", *, timeout_s: float = 5.0
) -> tuple[Server[Any], list[Asking]]:
    """A server whose one tool asks the way a gated tool does and answers with what it learnt."""
    bridge = AskingBridge(mode, TokenSealer([KEY]), elicitation_timeout_s=timeout_s)
    given: list[Asking] = []

    async def on_call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        asking = bridge.asking(ctx, params, caller=None)
        given.append(asking)
        if asking.ask_now is not None:
            said = {"asked": "now", "answer": await asking.ask_now(MESSAGE)}
        elif asking.state is not None:
            said = {"asked": "later", "answer": asking.answer, "state": dict(asking.state)}
        elif asking.can_ask_later:
            ask = {"message": MESSAGE, "state": {"v": 1, "nonce": "n-1"}}
            return input_required_result(ToolOutcome("input_required", "", details={"ask": ask}))  # type: ignore[arg-type]
        else:
            said = {"asked": "no"}
        return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(said))])

    async def on_list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[types.Tool(name="delete_user", input_schema={"type": "object"})])

    server: Server[Any] = Server("propelauth-mcp", on_call_tool=on_call_tool, on_list_tools=on_list_tools)
    server.middleware.append(
        RequestStateBoundary(request_state_security([KEY], lambda ctx: None), default_audience=server.name)
    )
    return server, given


def said(result: types.CallToolResult) -> dict[str, Any]:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    parsed: dict[str, Any] = json.loads(block.text)
    return parsed


@pytest.mark.parametrize(
    ("response", "answer"),
    [
        (types.ElicitResult(action="accept", content={"confirm": True}), "accept"),
        (types.ElicitResult(action="accept", content={"confirm": False}), "decline"),
        (types.ElicitResult(action="accept", content={"confirm": "true"}), "decline"),
        (types.ElicitResult(action="accept", content={"confirm": 1}), "decline"),
        (types.ElicitResult(action="accept", content=None), "decline"),
        (types.ElicitResult(action="decline"), "decline"),
        (types.ElicitResult(action="cancel"), "cancel"),
        (types.ListRootsResult(roots=[]), "cancel"),
    ],
    ids=[
        "ticked",
        "unticked",
        "string-true",
        "one",
        "no-content",
        "declined",
        "cancelled",
        "not-elicitation",
    ],
)
def test_only_an_accept_with_the_box_ticked_itself_counts_as_yes(response: object, answer: str) -> None:
    assert answer_of(response) == answer


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("callback", "answer"),
    [(ACCEPT, "accept"), (answering("decline"), "decline"), (answering("cancel"), "cancel")],
    ids=["accept", "decline", "cancel"],
)
async def test_a_2025_client_that_can_be_asked_is_asked_during_the_call(
    callback: Callback, answer: str
) -> None:
    server, _ = stand_in_server()
    seen: list[str] = []

    async def recording(ctx: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        seen.append(params.message)
        return await callback(ctx, params)

    with anyio.fail_after(10):
        async with Client(server, mode="legacy", elicitation_callback=recording) as client:
            result = await client.call_tool("delete_user", ARGS)
    assert said(result) == {"asked": "now", "answer": answer}
    assert seen == [MESSAGE]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"], ids=["handshake-era", "2026-era"])
async def test_a_client_without_elicitation_is_never_asked(mode: str) -> None:
    server, given = stand_in_server()
    with anyio.fail_after(10):
        async with Client(server, mode=mode) as client:
            result = await client.call_tool("delete_user", ARGS)
    assert said(result) == {"asked": "no"}
    assert given[0].can_ask is False


@pytest.mark.anyio
@pytest.mark.parametrize("operator_mode", ["preview", "argument"])
@pytest.mark.parametrize("mode", ["legacy", "auto"], ids=["handshake-era", "2026-era"])
async def test_the_preview_and_argument_modes_never_ask_even_a_client_that_could_be(
    operator_mode: ConfirmationMode, mode: str
) -> None:
    server, given = stand_in_server(operator_mode)
    with anyio.fail_after(10):
        async with Client(server, mode=mode, elicitation_callback=ACCEPT) as client:
            result = await client.call_tool("delete_user", ARGS)
    assert said(result) == {"asked": "no"}
    assert given[0].mode == operator_mode and given[0].sealer is not None


@pytest.mark.anyio
async def test_a_question_left_unanswered_past_the_timeout_counts_as_unavailable() -> None:
    server, _ = stand_in_server(timeout_s=0.2)

    async def never(ctx: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    with anyio.fail_after(10):
        async with Client(server, mode="legacy", elicitation_callback=never) as client:
            result = await client.call_tool("delete_user", ARGS)
    assert said(result) == {"asked": "now", "answer": "unavailable"}


@pytest.mark.anyio
async def test_a_client_that_answers_the_question_with_an_error_counts_as_unavailable() -> None:
    server, _ = stand_in_server()

    async def refusing(ctx: ClientRequestContext, params: types.ElicitRequestParams) -> types.ErrorData:
        return types.ErrorData(code=types.INVALID_REQUEST, message="no forms here")

    with anyio.fail_after(10):
        async with Client(server, mode="legacy", elicitation_callback=refusing) as client:  # type: ignore[arg-type]
            result = await client.call_tool("delete_user", ARGS)
    assert said(result) == {"asked": "now", "answer": "unavailable"}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("action", "content", "answer"),
    [("accept", {"confirm": True}, "accept"), ("decline", None, "decline"), ("cancel", None, "cancel")],
    ids=["accept", "decline", "cancel"],
)
async def test_a_2026_client_is_asked_by_an_input_required_round_and_the_retry_carries_our_state(
    action: str, content: dict[str, Any] | None, answer: str
) -> None:
    server, given = stand_in_server()
    seen: list[str] = []
    with anyio.fail_after(10):
        async with Client(server, elicitation_callback=answering(action, content, seen)) as client:
            result = await client.call_tool("delete_user", ARGS)
    assert said(result) == {"asked": "later", "answer": answer, "state": {"v": 1, "nonce": "n-1"}}
    assert seen == [MESSAGE]
    assert [a.can_ask_later for a in given] == [True, True] and given[0].state is None


@pytest.mark.anyio
async def test_the_state_goes_out_sealed_and_an_edited_one_is_refused_before_the_tool_runs() -> None:
    server, given = stand_in_server()
    accept: types.InputResponses = {"confirm": types.ElicitResult(action="accept", content={"confirm": True})}
    with anyio.fail_after(10):
        async with Client(server, elicitation_callback=ACCEPT) as client:
            first = await client.session.call_tool("delete_user", ARGS, allow_input_required=True)
            assert isinstance(first, types.InputRequiredResult) and first.request_state is not None
            assert "nonce" not in first.request_state  # sealed: the client cannot read our state
            state = first.request_state
            edited = state[:-2] + ("A" if state[-2] != "A" else "B") + state[-1]
            with pytest.raises(MCPError) as refused:
                await client.session.call_tool(
                    "delete_user",
                    ARGS,
                    input_responses=accept,
                    request_state=edited,
                    allow_input_required=True,
                )
            with pytest.raises(MCPError) as other_args:
                await client.session.call_tool(
                    "delete_user",
                    {**ARGS, "user_id": "u-2"},
                    input_responses=accept,
                    request_state=state,
                    allow_input_required=True,
                )
    for error in (refused.value, other_args.value):
        assert error.error.code == types.INVALID_PARAMS
        assert error.error.data == {"reason": "invalid_request_state"}
    assert len(given) == 1  # neither refused round reached the tool


@pytest.mark.anyio
async def test_an_answer_without_our_state_is_ignored_and_the_person_is_asked() -> None:
    server, given = stand_in_server()
    accept: types.InputResponses = {"confirm": types.ElicitResult(action="accept", content={"confirm": True})}
    with anyio.fail_after(10):
        async with Client(server, elicitation_callback=ACCEPT) as client:
            first = await client.session.call_tool(
                "delete_user", ARGS, input_responses=accept, allow_input_required=True
            )
    assert isinstance(first, types.InputRequiredResult)
    assert given[0].state is None and given[0].answer is None


@pytest.mark.anyio
async def test_a_2025_client_sending_2026_answers_is_not_taken_at_its_word() -> None:
    server, given = stand_in_server()
    accept: types.InputResponses = {"confirm": types.ElicitResult(action="accept", content={"confirm": True})}
    with anyio.fail_after(10):
        async with Client(server, mode="legacy") as client:
            result = await client.session.call_tool("delete_user", ARGS, input_responses=accept)
    assert isinstance(result, types.CallToolResult) and said(result) == {"asked": "no"}
    assert given[0].state is None and given[0].answer is None and not given[0].can_ask_later
