"""The person in the loop over Streamable HTTP. Only 2026-07-28 clients can be asked here: our HTTP is
stateless, so a 2025-11-25 client's capabilities never reach the server and no request can go back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp.types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from server.app import create_server
from server.audit import AuditTrail
from server.http import create_http_app, http_tokens
from server.settings import Settings
from tests.conftest import CLIENT_INFO
from tests.http.conftest import ALICE_TOKEN, BOT_TOKEN
from tests.loopback import serve_on_loopback
from tests.server.confirm_harness import ADA, CountingSandbox, Person, audit_outcomes, text_of
from tests.server.confirm_scenarios import (  # noqa: F401 - collected here, over HTTP
    Harness,
    test_a_decline_or_a_cancel_sends_nothing_and_is_an_answer_not_an_error,
    test_a_request_state_answered_once_cannot_be_answered_again,
    test_an_edited_request_state_is_refused_nothing_is_sent_and_the_refusal_is_audited,
    test_the_person_accepts_and_the_call_goes_ahead_and_the_question_names_the_email,
    test_the_sensitive_budget_refuses_past_its_limit_and_sends_nothing_more,
    test_under_human_a_client_that_cannot_be_asked_is_refused_and_nothing_is_sent,
    test_under_human_an_account_takeover_call_asks_the_person_and_the_question_holds_no_secret,
    test_without_elicitation_under_auto_only_the_token_of_this_calls_preview_confirms,
    token_of,
)

pytestmark = pytest.mark.anyio

SHARED_KEY = "replica-key-0123456789abcdefghijklmnopqrstuv"


@asynccontextmanager
async def serving(sandbox: CountingSandbox, settings: Settings) -> AsyncIterator[str]:
    trail = AuditTrail(settings.audit_path)
    server = create_server(settings, trail, transport=httpx2.ASGITransport(app=sandbox))
    app = create_http_app(server, settings, tokens=http_tokens(settings))
    try:
        async with serve_on_loopback(app) as base:
            yield f"{base}/mcp"
    finally:
        trail.close()


@asynccontextmanager
async def http_client(
    url: str, person: Person | None, *, token: str = ALICE_TOKEN, mode: str = "auto"
) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        Client(
            streamable_http_client(url, http_client=http),
            mode=mode,
            client_info=CLIENT_INFO,
            elicitation_callback=person,
        ) as client,
    ):
        yield client


@pytest.fixture
def start(
    sandbox_app: Any, http_settings: Callable[..., Settings], audit_path: Path
) -> Callable[..., AbstractAsyncContextManager[Harness]]:
    @asynccontextmanager
    async def over_http(**overrides: Any) -> AsyncIterator[Harness]:
        sandbox = CountingSandbox(sandbox_app)
        async with serving(sandbox, http_settings(**{"confirmation": "auto", **overrides})) as url:

            def connect(person: Person | None) -> AbstractAsyncContextManager[Client]:
                return http_client(url, person)

            yield Harness(connect, sandbox, audit_path, modern=True)

    return over_http


async def test_a_2025_client_over_http_is_not_asked_and_under_auto_confirms_with_the_token(
    sandbox_app: Any, http_settings: Callable[..., Settings], audit_path: Path
) -> None:
    person = Person("accept")
    sandbox = CountingSandbox(sandbox_app)
    with anyio.fail_after(30):
        async with (
            serving(sandbox, http_settings(confirmation="auto")) as url,
            http_client(url, person, mode="legacy") as client,
        ):
            preview = await client.call_tool("delete_user", {"user_id": ADA})
            bare = await client.call_tool("delete_user", {"user_id": ADA, "confirm": True})
            confirmed = await client.call_tool(
                "delete_user", {"user_id": ADA, "confirm": True, "confirmation_token": token_of(preview)}
            )
    assert person.asked == []
    assert bare.is_error and not confirmed.is_error, text_of(confirmed)
    assert sandbox.state.sandbox.store.get_user(ADA) is None and len(sandbox.changes) == 1


async def test_a_token_minted_for_one_caller_does_not_confirm_for_another(
    sandbox_app: Any, http_settings: Callable[..., Settings]
) -> None:
    sandbox = CountingSandbox(sandbox_app)
    with anyio.fail_after(30):
        async with serving(sandbox, http_settings(confirmation="auto")) as url:
            async with http_client(url, None) as alice:
                preview = await alice.call_tool("delete_user", {"user_id": ADA})
            async with http_client(url, None, token=BOT_TOKEN) as bot:
                stolen = await bot.call_tool(
                    "delete_user", {"user_id": ADA, "confirm": True, "confirmation_token": token_of(preview)}
                )
    assert stolen.is_error and sandbox.changes == []
    assert sandbox.state.sandbox.store.get_user(ADA) is not None


async def test_with_shared_keys_the_question_asked_by_one_replica_is_answered_on_another(
    sandbox_app: Any, http_settings: Callable[..., Settings], audit_path: Path, tmp_path: Path
) -> None:
    sandbox = CountingSandbox(sandbox_app)
    accept: types.InputResponses = {"confirm": types.ElicitResult(action="accept", content={"confirm": True})}
    args = {"user_id": ADA, "confirm": True}
    one = http_settings(confirmation="auto", request_state_keys=SHARED_KEY)
    other = http_settings(
        confirmation="auto", request_state_keys=SHARED_KEY, audit_log=tmp_path / "other.jsonl"
    )
    with anyio.fail_after(30):
        async with serving(sandbox, one) as url_one, serving(sandbox, other) as url_other:
            async with http_client(url_one, Person()) as client:
                first = await client.session.call_tool("delete_user", args, allow_input_required=True)
            assert isinstance(first, types.InputRequiredResult)
            async with http_client(url_other, Person()) as client:
                done = await client.session.call_tool(
                    "delete_user",
                    args,
                    input_responses=accept,
                    request_state=first.request_state,
                    allow_input_required=True,
                )
    assert isinstance(done, types.CallToolResult) and not done.is_error, done
    assert sandbox.state.sandbox.store.get_user(ADA) is None
    assert [r["outcome"] for r in audit_outcomes(tmp_path / "other.jsonl")] == ["ok"]
