"""The person in the loop, end to end with the official MCP client: the same scenarios over every
transport and era. Each transport's test module imports these and provides a `start` fixture:
`start(**settings)` -> an async context manager yielding a `Harness`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from mcp.shared.exceptions import MCPError

from tests.server.confirm_harness import (
    ADA,
    GRACE,
    Connect,
    CountingSandbox,
    Person,
    audit_kinds,
    audit_outcomes,
    text_of,
)

pytestmark = pytest.mark.anyio

TIMEOUT_S = 60  # a subprocess start included


@dataclass
class Harness:
    connect: Connect
    sandbox: CountingSandbox
    audit_path: Path
    modern: bool  # the 2026-07-28 era (multi-round-trip form), else 2025-11-25 (elicitation/create)

    def user(self, user_id: str) -> dict[str, Any] | None:
        return self.sandbox.state.sandbox.store.get_user(user_id)


Start = Callable[..., AbstractAsyncContextManager[Harness]]


async def test_the_person_accepts_and_the_call_goes_ahead_and_the_question_names_the_email(
    start: Start,
) -> None:
    person = Person("accept")
    with anyio.fail_after(TIMEOUT_S):
        async with start() as h, h.connect(person) as client:
            result = await client.call_tool("delete_user", {"user_id": ADA, "confirm": True})
    assert not result.is_error, text_of(result)
    assert h.user(ADA) is None
    [message] = person.asked
    assert "ada@example.com" in message and message.endswith("?")
    outcome = audit_outcomes(h.audit_path)[-1]
    assert outcome["outcome"] == "ok"
    assert outcome["confirmation"] == {"method": "human", "answer": "accept", "message": message}


@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_a_decline_or_a_cancel_sends_nothing_and_is_an_answer_not_an_error(
    start: Start, action: str
) -> None:
    person = Person(action)
    with anyio.fail_after(TIMEOUT_S):
        async with start() as h, h.connect(person) as client:
            result = await client.call_tool("delete_user", {"user_id": ADA, "confirm": True})
    assert not result.is_error
    assert result.structured_content is not None and result.structured_content["declined"] is True
    assert h.user(ADA) is not None and h.sandbox.changes == []
    assert len(person.asked) == 1
    outcome = audit_outcomes(h.audit_path)[-1]
    assert outcome["outcome"] == "declined"
    assert outcome["confirmation"] == {"method": "human", "answer": action, "message": person.asked[0]}
    assert "intent" not in audit_kinds(h.audit_path)


async def test_without_elicitation_under_auto_only_the_token_of_this_calls_preview_confirms(
    start: Start,
) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with start() as h, h.connect(None) as client:
            preview = await client.call_tool("delete_user", {"user_id": ADA})
            other = await client.call_tool("delete_user", {"user_id": GRACE})
            bare = await client.call_tool("delete_user", {"user_id": ADA, "confirm": True})
            others_token = await client.call_tool(
                "delete_user", {"user_id": ADA, "confirm": True, "confirmation_token": token_of(other)}
            )
            assert h.sandbox.changes == [] and h.user(ADA) is not None
            confirmed = await client.call_tool(
                "delete_user", {"user_id": ADA, "confirm": True, "confirmation_token": token_of(preview)}
            )
    assert not preview.is_error and text_of(preview).startswith("Nothing was done")
    assert bare.is_error and others_token.is_error
    assert not confirmed.is_error, text_of(confirmed)
    assert h.user(ADA) is None and len(h.sandbox.changes) == 1
    methods = [r.get("confirmation", {}).get("method") for r in audit_outcomes(h.audit_path)]
    assert methods[-1] == "preview"


async def test_under_human_a_client_that_cannot_be_asked_is_refused_and_nothing_is_sent(start: Start) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with start(confirmation="human") as h, h.connect(None) as client:
            result = await client.call_tool("delete_user", {"user_id": ADA, "confirm": True})
    assert result.is_error and "elicitation" in text_of(result)
    assert h.user(ADA) is not None and h.sandbox.changes == []
    outcome = audit_outcomes(h.audit_path)[-1]
    assert (outcome["outcome"], outcome["confirmation"]["method"]) == ("rejected", "human")


async def test_under_human_an_account_takeover_call_asks_the_person_and_the_question_holds_no_secret(
    start: Start,
) -> None:
    person = Person("accept")
    password = "Correct-Horse-9-Battery-Staple"
    with anyio.fail_after(TIMEOUT_S):
        async with start(confirmation="human") as h, h.connect(person) as client:
            result = await client.call_tool("update_user_password", {"user_id": ADA, "password": password})
    assert not result.is_error, text_of(result)
    [message] = person.asked
    assert password not in message
    assert password not in h.audit_path.read_text()


async def test_the_sensitive_budget_refuses_past_its_limit_and_sends_nothing_more(start: Start) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with start(sensitive_limit=1) as h, h.connect(None) as client:
            first = await client.call_tool("create_magic_link", {"email": "ada@example.com"})
            second = await client.call_tool("create_magic_link", {"email": "ada@example.com"})
    assert not first.is_error, text_of(first)
    assert second.is_error and "limit of 1" in text_of(second) and "Nothing was sent" in text_of(second)
    assert len(h.sandbox.changes) == 1
    refused = audit_outcomes(h.audit_path)[-1]
    assert (refused["tool"], refused["outcome"], refused["details"]["reason"]) == (
        "create_magic_link",
        "rejected",
        "refused",
    )


def token_of(result: types.CallToolResult) -> str:
    assert not result.is_error and result.structured_content is not None, text_of(result)
    token = result.structured_content["confirmation_token"]
    assert isinstance(token, str)
    return token


# The 2026-07-28 form, rounds driven by hand: what the SDK client would never send.

ACCEPT: types.InputResponses = {"confirm": types.ElicitResult(action="accept", content={"confirm": True})}
DECLINE: types.InputResponses = {"confirm": types.ElicitResult(action="decline")}
ARGS = {"user_id": ADA, "confirm": True}


def modern_only(h: Harness) -> None:
    if not h.modern:
        pytest.skip("the multi-round-trip form is the 2026-07-28 era's")


async def test_an_edited_request_state_is_refused_nothing_is_sent_and_the_refusal_is_audited(
    start: Start,
) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with start() as h:
            modern_only(h)
            async with h.connect(Person()) as client:
                first = await client.session.call_tool("delete_user", ARGS, allow_input_required=True)
                assert isinstance(first, types.InputRequiredResult) and first.request_state is not None
                state = first.request_state
                assert "nonce" not in state  # sealed on every transport: the client cannot read it
                edited = state[:-2] + ("A" if state[-2] != "A" else "B") + state[-1]
                with pytest.raises(MCPError) as refused:
                    await client.session.call_tool(
                        "delete_user",
                        ARGS,
                        input_responses=ACCEPT,
                        request_state=edited,
                        allow_input_required=True,
                    )
    assert refused.value.error.code == types.INVALID_PARAMS
    assert refused.value.error.data == {"reason": "invalid_request_state"}
    assert h.user(ADA) is not None and h.sandbox.changes == []
    last = audit_outcomes(h.audit_path)[-1]
    assert (last["outcome"], last["details"]["reason"]) == ("rejected", "invalid_request_state")


async def test_a_request_state_answered_once_cannot_be_answered_again(start: Start) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with start() as h:
            modern_only(h)
            async with h.connect(Person()) as client:
                first = await client.session.call_tool("delete_user", ARGS, allow_input_required=True)
                assert isinstance(first, types.InputRequiredResult)
                declined = await client.session.call_tool(
                    "delete_user",
                    ARGS,
                    input_responses=DECLINE,
                    request_state=first.request_state,
                    allow_input_required=True,
                )
                replayed = await client.session.call_tool(
                    "delete_user",
                    ARGS,
                    input_responses=ACCEPT,
                    request_state=first.request_state,
                    allow_input_required=True,
                )
    assert isinstance(declined, types.CallToolResult) and not declined.is_error
    assert isinstance(replayed, types.CallToolResult) and replayed.is_error
    assert h.user(ADA) is not None and h.sandbox.changes == []
    assert [r["outcome"] for r in audit_outcomes(h.audit_path)][-3:] == [
        "input_required",
        "declined",
        "rejected",
    ]
