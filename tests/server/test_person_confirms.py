"""The person in the loop over stdio (the real entry point as a subprocess) and in memory, both eras.

Over stdio the server talks to the sandbox over a loopback port, so that this process sees every
request that reached it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client import ClientRequestContext
from mcp.client.stdio import stdio_client
from mcp.types import ElicitRequestParams, ElicitResult

from server.app import create_server
from server.audit import AuditTrail
from server.settings import OPTIONS
from tests.conftest import API_KEY, CLIENT_INFO, make_settings
from tests.loopback import serve_on_loopback
from tests.server.confirm_harness import ADA, CountingSandbox, Person, audit_outcomes, text_of
from tests.server.confirm_scenarios import (  # noqa: F401 - collected here, over these transports
    Harness,
    test_a_decline_or_a_cancel_sends_nothing_and_is_an_answer_not_an_error,
    test_a_request_state_answered_once_cannot_be_answered_again,
    test_an_edited_request_state_is_refused_nothing_is_sent_and_the_refusal_is_audited,
    test_the_person_accepts_and_the_call_goes_ahead_and_the_question_names_the_email,
    test_the_sensitive_budget_refuses_past_its_limit_and_sends_nothing_more,
    test_under_human_a_client_that_cannot_be_asked_is_refused_and_nothing_is_sent,
    test_under_human_an_account_takeover_call_asks_the_person_and_the_question_holds_no_secret,
    test_without_elicitation_under_auto_only_the_token_of_this_calls_preview_confirms,
)
from tests.server.test_stdio_entry_point import ENTRY_POINT, server_env

pytestmark = pytest.mark.anyio

TRANSPORTS = [("memory", "legacy"), ("memory", "auto"), ("stdio", "legacy"), ("stdio", "auto")]
IDS = ["memory-handshake-era", "memory-2026-era", "stdio-handshake-era", "stdio-2026-era"]


@pytest.fixture(params=TRANSPORTS, ids=IDS)
def start(
    request: pytest.FixtureRequest, sandbox_app: Any, tmp_path: Path
) -> Callable[..., AbstractAsyncContextManager[Harness]]:
    transport, mode = request.param
    audit_path = tmp_path / "audit.jsonl"

    @asynccontextmanager
    async def in_memory(**overrides: Any) -> AsyncIterator[Harness]:
        sandbox = CountingSandbox(sandbox_app)
        settings = make_settings(audit_path, **{"confirmation": "auto", **overrides})
        trail = AuditTrail(settings.audit_path)
        server = create_server(settings, trail, transport=httpx2.ASGITransport(app=sandbox))

        @asynccontextmanager
        async def connect(person: Person | None) -> AsyncIterator[Client]:
            async with Client(
                server, mode=mode, client_info=CLIENT_INFO, elicitation_callback=person
            ) as client:
                yield client

        try:
            yield Harness(connect, sandbox, audit_path, modern=mode == "auto")
        finally:
            trail.close()

    @asynccontextmanager
    async def over_stdio(**overrides: Any) -> AsyncIterator[Harness]:
        sandbox = CountingSandbox(sandbox_app)
        async with serve_on_loopback(sandbox) as base:
            env = {
                **server_env(tmp_path),
                "PROPELAUTH_AUTH_URL": base,
                "PROPELAUTH_API_KEY": API_KEY,
                **{OPTIONS[name].env: str(value) for name, value in overrides.items()},
            }

            @asynccontextmanager
            async def connect(person: Person | None) -> AsyncIterator[Client]:
                params = StdioServerParameters(command=ENTRY_POINT, args=[], env=env)
                with open(tmp_path / "stderr.txt", "a") as errlog:
                    async with Client(
                        stdio_client(params, errlog=errlog), mode=mode, elicitation_callback=person
                    ) as client:
                        yield client

            yield Harness(connect, sandbox, audit_path, modern=mode == "auto")

    return in_memory if transport == "memory" else over_stdio


async def test_an_unanswered_question_times_out_and_under_auto_falls_back_to_the_token(
    sandbox_app: Any, audit_path: Path
) -> None:
    """2025-11-25: the person did not answer in time; the call then needs the preview's token."""

    async def never(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    sandbox = CountingSandbox(sandbox_app)
    settings = make_settings(audit_path, confirmation="auto", elicitation_timeout_s=0.2)
    trail = AuditTrail(settings.audit_path)
    server = create_server(settings, trail, transport=httpx2.ASGITransport(app=sandbox))
    try:
        with anyio.fail_after(10):
            async with Client(server, mode="legacy", elicitation_callback=never) as client:
                result = await client.call_tool("delete_user", {"user_id": ADA, "confirm": True})
    finally:
        trail.close()
    assert result.is_error and "confirmation_token" in text_of(result)
    assert sandbox.changes == []
    outcome = audit_outcomes(audit_path)[-1]
    assert outcome["confirmation"]["answer"] == "unavailable"
