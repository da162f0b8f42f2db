"""The five destructive tools change nothing without confirm=true, and say what would happen to whom."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from sandbox import Sandbox
from sandbox.demo import demo_user_id

pytestmark = pytest.mark.anyio

ADA = demo_user_id("ada@example.com")
GATED = ["delete_user", "disable_user", "logout_all_user_sessions", "clear_user_password", "disable_user_2fa"]


def snapshot(sandbox: Sandbox) -> tuple[Any, ...]:
    return (
        sandbox.store.get_user(ADA, include_orgs=True),
        sandbox.store.session_generation(ADA),
        sandbox.store.count_users(),
    )


@pytest.mark.parametrize("tool", GATED)
@pytest.mark.parametrize("confirm", [None, False, "true", 1])
async def test_gated_tool_without_confirm_true_leaves_the_sandbox_unchanged(
    client: Client, sandbox: Sandbox, tool: str, confirm: Any
) -> None:
    before = snapshot(sandbox)
    arguments: dict[str, Any] = {"user_id": ADA} if confirm is None else {"user_id": ADA, "confirm": confirm}
    result = await client.call_tool(tool, arguments)
    # A preview is an answer; a confirm of another type than boolean is invalid: neither changes anything.
    assert result.is_error == (confirm is not None and confirm is not False)
    assert snapshot(sandbox) == before


@pytest.mark.parametrize("tool", GATED)
async def test_the_preview_names_the_target_and_how_to_confirm(client: Client, tool: str) -> None:
    result = await client.call_tool(tool, {"user_id": ADA})
    text = result.content[0].text
    assert not result.is_error and result.structured_content is not None
    assert result.structured_content["confirmation_required"] is True
    assert text.startswith("Nothing was done")
    for fact in ("ada@example.com", "Ada Lovelace", "confirm"):
        assert fact in text


async def test_the_preview_of_an_unknown_user_says_it_does_not_exist(client: Client) -> None:
    unknown = "0f0e0d0c-0b0a-4909-8807-060504030201"
    result = await client.call_tool("delete_user", {"user_id": unknown})
    assert result.is_error and unknown in result.content[0].text


async def test_confirmed_delete_acts(client: Client, sandbox: Sandbox) -> None:
    result = await client.call_tool("delete_user", {"user_id": ADA, "confirm": True})
    assert not result.is_error
    assert sandbox.store.get_user(ADA) is None
