"""The further user tools (batch fetches, 2FA methods, sign-up parameters, can_create_orgs) through the
official MCP client against the sandbox: success, not found, invalid arguments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client

from sandbox import Sandbox
from server.audit import AuditTrail
from server.settings import Settings
from tests.server.org_testkit import (
    ADA,
    GRACE,
    LIAM,
    MARCUS,
    SOFIA,
    UNKNOWN,
    call_error,
    call_ok,
    recorded_client,
    structured,
    text_of,
)
from tests.trust.conftest import RecordingSandbox

pytestmark = pytest.mark.anyio


@pytest.fixture
def front(sandbox_app: Any) -> RecordingSandbox:
    return RecordingSandbox(app=sandbox_app)


@pytest.fixture
async def client(settings: Settings, audit: AuditTrail, front: RecordingSandbox) -> AsyncIterator[Client]:
    async with recorded_client(settings, audit, front) as connected:
        yield connected


# --- batch fetches ----------------------------------------------------------------------------------


async def test_fetch_users_by_ids_returns_the_users_asked_for(client: Client) -> None:
    result = await call_ok(client, "fetch_users_by_ids", {"user_ids": [ADA, GRACE]})
    users = structured(result)["users"]
    assert sorted(user["user_id"] for user in users) == sorted([ADA, GRACE])
    assert "ada@example.com" in text_of(result)


async def test_fetch_users_by_ids_leaves_out_unknown_ids_without_an_error(client: Client) -> None:
    result = await call_ok(client, "fetch_users_by_ids", {"user_ids": [UNKNOWN, ADA]})
    assert [user["user_id"] for user in structured(result)["users"]] == [ADA]
    [missing] = [line for line in text_of(result).splitlines() if UNKNOWN in line]
    assert "not found" in missing


async def test_fetch_users_by_ids_of_only_unknown_ids_is_an_empty_list(client: Client) -> None:
    result = await call_ok(client, "fetch_users_by_ids", {"user_ids": [UNKNOWN]})
    assert structured(result)["users"] == []


async def test_fetch_users_by_ids_with_include_orgs_carries_the_memberships(client: Client) -> None:
    result = await call_ok(client, "fetch_users_by_ids", {"user_ids": [ADA], "include_orgs": True})
    [ada] = structured(result)["users"]
    roles = sorted(org["user_role"] for org in ada["org_id_to_org_info"].values())
    assert roles == ["Member", "Owner"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"user_ids": ["not-a-uuid"]}, "user_ids"),
        ({"user_ids": ADA}, "user_ids"),
        ({}, "user_ids"),
        ({"user_ids": [ADA], "colour": "red"}, "colour"),
    ],
    ids=["malformed-id", "not-a-list", "missing", "unknown-argument"],
)
async def test_fetch_users_by_ids_with_invalid_arguments_names_the_field_and_sends_nothing(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any], field: str
) -> None:
    assert field in await call_error(client, "fetch_users_by_ids", arguments)
    assert front.seen == []


async def test_fetch_users_by_emails_matches_emails_case_insensitively(client: Client) -> None:
    result = await call_ok(
        client, "fetch_users_by_emails", {"emails": ["ADA@example.com", "marcus.reed@example.com"]}
    )
    assert sorted(user["user_id"] for user in structured(result)["users"]) == sorted([ADA, MARCUS])


async def test_fetch_users_by_emails_leaves_out_unknown_emails(client: Client) -> None:
    result = await call_ok(
        client, "fetch_users_by_emails", {"emails": ["nobody@example.com", "ada@example.com"]}
    )
    assert [user["email"] for user in structured(result)["users"]] == ["ada@example.com"]


@pytest.mark.parametrize(
    "arguments",
    [{"emails": ["not an email"]}, {"emails": "ada@example.com"}, {}],
    ids=["bad", "scalar", "missing"],
)
async def test_fetch_users_by_emails_with_invalid_arguments_sends_nothing(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any]
) -> None:
    text = await call_error(client, "fetch_users_by_emails", arguments)
    assert "emails" in text
    assert front.seen == []


async def test_fetch_users_by_usernames_finds_each_user(client: Client) -> None:
    result = await call_ok(client, "fetch_users_by_usernames", {"usernames": ["ada", "ghopper"]})
    assert sorted(user["user_id"] for user in structured(result)["users"]) == sorted([ADA, GRACE])


async def test_fetch_users_by_usernames_leaves_out_unknown_usernames(client: Client) -> None:
    result = await call_ok(client, "fetch_users_by_usernames", {"usernames": ["no-such-name"]})
    assert structured(result)["users"] == []


@pytest.mark.parametrize(
    "arguments", [{"usernames": [""]}, {"usernames": [7]}, {}], ids=["empty", "number", "missing"]
)
async def test_fetch_users_by_usernames_with_invalid_arguments_sends_nothing(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any]
) -> None:
    text = await call_error(client, "fetch_users_by_usernames", arguments)
    assert "usernames" in text
    assert front.seen == []


# --- 2FA methods and sign-up parameters ----------------------------------------------------------------


async def test_mfa_methods_of_an_authenticator_app_user(client: Client) -> None:
    result = await call_ok(client, "fetch_user_mfa_methods", {"user_id": ADA})
    assert structured(result)["mfa_setup"]["type"] == "Totp"


async def test_mfa_methods_of_an_sms_user_show_only_the_phone_suffix(client: Client) -> None:
    result = await call_ok(client, "fetch_user_mfa_methods", {"user_id": MARCUS})
    [phone] = structured(result)["mfa_setup"]["phone_numbers"]
    assert phone["mfa_phone_number_suffix"] == "4821"
    assert "4821" in text_of(result)


async def test_mfa_methods_of_a_user_without_2fa_say_none(client: Client) -> None:
    result = await call_ok(client, "fetch_user_mfa_methods", {"user_id": GRACE})
    assert structured(result).get("mfa_setup") is None


async def test_mfa_methods_of_an_unknown_user_say_which_user_was_not_found(client: Client) -> None:
    assert UNKNOWN in await call_error(client, "fetch_user_mfa_methods", {"user_id": UNKNOWN})


async def test_signup_query_params_are_returned(client: Client) -> None:
    result = await call_ok(client, "fetch_user_signup_query_params", {"user_id": LIAM})
    assert structured(result)["user_signup_query_parameters"] == {
        "utm_source": "newsletter",
        "utm_campaign": "spring-launch",
    }


async def test_signup_query_params_of_a_user_who_had_none_are_empty(client: Client) -> None:
    result = await call_ok(client, "fetch_user_signup_query_params", {"user_id": ADA})
    assert structured(result)["user_signup_query_parameters"] == {}


async def test_signup_query_params_of_an_unknown_user_say_which_user_was_not_found(client: Client) -> None:
    assert UNKNOWN in await call_error(client, "fetch_user_signup_query_params", {"user_id": UNKNOWN})


@pytest.mark.parametrize(
    "tool",
    [
        "fetch_user_mfa_methods",
        "fetch_user_signup_query_params",
        "enable_user_can_create_orgs",
        "disable_user_can_create_orgs",
    ],
)
@pytest.mark.parametrize("user_id", ["../org/x", "", None], ids=["path", "empty", "missing"])
async def test_a_malformed_user_id_is_refused_naming_it_and_nothing_is_sent(
    client: Client, front: RecordingSandbox, sandbox: Sandbox, tool: str, user_id: str | None
) -> None:
    before = sandbox.store.get_user(ADA)
    text = await call_error(client, tool, {} if user_id is None else {"user_id": user_id})
    assert "user_id" in text
    assert front.seen == [] and sandbox.store.get_user(ADA) == before


# --- can_create_orgs -----------------------------------------------------------------------------------


async def test_enable_user_can_create_orgs_lets_the_user_create_orgs(
    client: Client, sandbox: Sandbox
) -> None:
    assert sandbox.store.get_user(SOFIA)["can_create_orgs"] is False  # type: ignore[index]
    await call_ok(client, "enable_user_can_create_orgs", {"user_id": SOFIA})
    assert sandbox.store.get_user(SOFIA)["can_create_orgs"] is True  # type: ignore[index]


async def test_disable_user_can_create_orgs_takes_the_right_away_and_keeps_memberships(
    client: Client, sandbox: Sandbox
) -> None:
    orgs_before = sandbox.store.get_user(ADA, include_orgs=True)["org_id_to_org_info"]  # type: ignore[index]
    await call_ok(client, "disable_user_can_create_orgs", {"user_id": ADA})
    after = sandbox.store.get_user(ADA, include_orgs=True)
    assert after is not None and after["can_create_orgs"] is False
    assert after["org_id_to_org_info"] == orgs_before


@pytest.mark.parametrize("tool", ["enable_user_can_create_orgs", "disable_user_can_create_orgs"])
async def test_can_create_orgs_for_an_unknown_user_says_which_user(client: Client, tool: str) -> None:
    assert UNKNOWN in await call_error(client, tool, {"user_id": UNKNOWN})


async def test_the_can_create_orgs_and_batch_tools_advertise_truthful_hints(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    enable, disable = tools["enable_user_can_create_orgs"], tools["disable_user_can_create_orgs"]
    assert enable.annotations is not None and disable.annotations is not None
    assert (enable.annotations.read_only_hint, enable.annotations.destructive_hint) == (False, False)
    # Taking the right away is destructive, but not gated: it removes no existing access.
    assert (disable.annotations.read_only_hint, disable.annotations.destructive_hint) == (False, True)
    assert "confirm" not in disable.input_schema["properties"]
    for name in ("fetch_users_by_ids", "fetch_users_by_emails", "fetch_users_by_usernames"):
        hints = tools[name].annotations
        assert hints is not None and hints.read_only_hint is True  # a POST that only reads
