"""Every tool through the official MCP client, in memory, against the sandbox over ASGI."""

from __future__ import annotations

from typing import Any

import httpx2
import jwt
import pytest
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult
from pydantic import SecretStr

from sandbox import Sandbox
from sandbox.demo import demo_user_id
from schemas import load_spec
from server.app import create_server
from server.audit import AuditTrail
from server.settings import Settings
from tests.conftest import API_KEY, AUTH_URL

pytestmark = pytest.mark.anyio

ADA = demo_user_id("ada@example.com")
GRACE = demo_user_id("grace.hopper@example.com")
UNKNOWN = "0f0e0d0c-0b0a-4909-8807-060504030201"
EMPLOYEE = "3f8a2c1e-6b4d-4e7a-9c2b-5d1e8f0a7b31"
SPEC_OPERATIONS = sum(
    1
    for item in load_spec()["paths"].values()
    for method in ("get", "put", "post", "delete", "patch")
    if method in item
)


async def call_ok(client: Client, name: str, arguments: dict[str, Any]) -> CallToolResult:
    """Call a tool, require success, and check the structured content against the advertised schema."""
    result = await client.call_tool(name, arguments)
    assert not result.is_error, result.content
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert tools[name].output_schema is not None
    Draft202012Validator(tools[name].output_schema).validate(result.structured_content)
    assert result.content and result.content[0].type == "text" and result.content[0].text
    return result


async def test_every_spec_operation_is_listed_once_with_hints_and_schemas(client: Client) -> None:
    tools = (await client.list_tools()).tools
    assert len(tools) == SPEC_OPERATIONS and len({tool.name for tool in tools}) == SPEC_OPERATIONS
    for tool in tools:
        hints = tool.annotations
        assert hints is not None
        assert None not in (
            hints.read_only_hint,
            hints.destructive_hint,
            hints.idempotent_hint,
            hints.open_world_hint,
        )
        assert tool.input_schema["additionalProperties"] is False
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"


async def test_both_protocol_eras_list_and_call_tools(
    settings: Settings, audit: AuditTrail, sandbox_app: Any, protocol_mode: str
) -> None:
    server = create_server(settings, audit, transport=httpx2.ASGITransport(app=sandbox_app))
    async with Client(server, mode=protocol_mode) as client:
        assert len((await client.list_tools()).tools) == SPEC_OPERATIONS
        result = await call_ok(client, "fetch_user_by_id", {"user_id": ADA})
        assert result.structured_content is not None
        assert result.structured_content["email"] == "ada@example.com"


async def test_create_user_returns_the_new_id_and_the_user_exists(client: Client, sandbox: Sandbox) -> None:
    result = await call_ok(
        client,
        "create_user",
        {"email": "new.person@example.com", "first_name": "New", "password": "a-long-password-1"},
    )
    assert result.structured_content is not None
    new_id = result.structured_content["user_id"]
    stored = sandbox.store.get_user(new_id)
    assert (
        stored is not None and stored["email"] == "new.person@example.com" and stored["has_password"] is True
    )


async def test_create_user_with_a_taken_email_lists_the_field_error(client: Client) -> None:
    result = await client.call_tool("create_user", {"email": "ada@example.com"})
    assert result.is_error
    assert "email" in result.content[0].text
    assert "400" in result.content[0].text or "taken" in result.content[0].text.lower()


async def test_fetch_by_id_email_and_username_find_the_same_user(client: Client) -> None:
    by_id = await call_ok(client, "fetch_user_by_id", {"user_id": ADA, "include_orgs": True})
    by_email = await call_ok(client, "fetch_user_by_email", {"email": "ada@example.com"})
    by_username = await call_ok(client, "fetch_user_by_username", {"username": "ada"})
    assert by_id.structured_content and by_email.structured_content and by_username.structured_content
    assert by_id.structured_content["user_id"] == by_email.structured_content["user_id"] == ADA
    assert by_username.structured_content["user_id"] == ADA
    assert len(by_id.structured_content["org_id_to_org_info"]) == 2


async def test_an_uppercase_user_id_is_accepted_and_sent_lower_cased(client: Client) -> None:
    result = await call_ok(client, "fetch_user_by_id", {"user_id": ADA.upper()})
    assert result.structured_content is not None and result.structured_content["user_id"] == ADA


async def test_fetching_an_unknown_user_says_which_user_was_not_found(client: Client) -> None:
    result = await client.call_tool("fetch_user_by_id", {"user_id": UNKNOWN})
    assert result.is_error and UNKNOWN in result.content[0].text


async def test_query_users_pages_and_filters(client: Client) -> None:
    page = await call_ok(client, "query_users", {"page_size": 5, "order_by": "EMAIL"})
    content = page.structured_content
    assert content is not None and len(content["users"]) == 5 and content["has_more_results"] is True
    emails = [user["email"] for user in content["users"]]
    assert emails == sorted(emails)
    found = await call_ok(client, "query_users", {"email_or_username": "HOPPER"})
    assert found.structured_content is not None
    assert [u["email"] for u in found.structured_content["users"]] == ["grace.hopper@example.com"]


async def test_update_user_changes_only_the_given_fields(client: Client, sandbox: Sandbox) -> None:
    await call_ok(
        client, "update_user", {"user_id": ADA, "first_name": "Augusta", "metadata": {"tier": "gold"}}
    )
    stored = sandbox.store.get_user(ADA)
    assert stored is not None
    assert (stored["first_name"], stored["last_name"], stored["metadata"]) == (
        "Augusta",
        "Lovelace",
        {"tier": "gold"},
    )


async def test_update_user_email_can_require_confirmation(client: Client, sandbox: Sandbox) -> None:
    await call_ok(
        client,
        "update_user_email",
        {"user_id": ADA, "new_email": "ada.l@example.com", "require_email_confirmation": True},
    )
    stored = sandbox.store.get_user(ADA)
    assert stored is not None and (stored["email"], stored["email_confirmed"]) == ("ada.l@example.com", False)


async def test_password_update_and_clear_change_has_password(client: Client, sandbox: Sandbox) -> None:
    await call_ok(client, "clear_user_password", {"user_id": ADA, "confirm": True})
    assert sandbox.store.get_user(ADA)["has_password"] is False  # type: ignore[index]
    await call_ok(client, "update_user_password", {"user_id": ADA, "password": "correct-horse-battery"})
    assert sandbox.store.get_user(ADA)["has_password"] is True  # type: ignore[index]


async def test_disable_and_enable_user(client: Client, sandbox: Sandbox) -> None:
    await call_ok(client, "disable_user", {"user_id": ADA, "confirm": True})
    assert sandbox.store.get_user(ADA)["enabled"] is False  # type: ignore[index]
    await call_ok(client, "enable_user", {"user_id": ADA})
    assert sandbox.store.get_user(ADA)["enabled"] is True  # type: ignore[index]


async def test_disable_2fa_turns_mfa_off(client: Client, sandbox: Sandbox) -> None:
    assert sandbox.store.get_user(ADA)["mfa_enabled"] is True  # type: ignore[index]
    await call_ok(client, "disable_user_2fa", {"user_id": ADA, "confirm": True})
    assert sandbox.store.get_user(ADA)["mfa_enabled"] is False  # type: ignore[index]


async def test_logout_all_sessions_ends_the_users_sessions(client: Client, sandbox: Sandbox) -> None:
    before = sandbox.store.session_generation(ADA)
    await call_ok(client, "logout_all_user_sessions", {"user_id": ADA, "confirm": True})
    assert sandbox.store.session_generation(ADA) == (before or 0) + 1


async def test_delete_user_removes_the_user(client: Client, sandbox: Sandbox) -> None:
    await call_ok(client, "delete_user", {"user_id": GRACE, "confirm": True})
    assert sandbox.store.get_user(GRACE) is None


async def test_resend_email_confirmation_for_an_already_confirmed_user_is_explained(client: Client) -> None:
    result = await client.call_tool("resend_email_confirmation", {"user_id": ADA})
    assert result.is_error and "confirmed" in result.content[0].text.lower()


async def test_resend_email_confirmation_for_an_unconfirmed_user_succeeds(client: Client) -> None:
    await call_ok(
        client, "resend_email_confirmation", {"user_id": demo_user_id("kenji.watanabe@example.com")}
    )


async def test_magic_link_is_returned_to_the_caller(client: Client) -> None:
    result = await call_ok(client, "create_magic_link", {"email": "ada@example.com", "expires_in_hours": 2})
    assert result.structured_content is not None
    assert result.structured_content["url"].startswith(AUTH_URL)


async def test_access_token_verifies_like_the_official_sdk_would(client: Client, sandbox_app: Any) -> None:
    result = await call_ok(client, "create_access_token", {"user_id": ADA, "duration_in_minutes": 5})
    assert result.structured_content is not None
    transport = httpx2.ASGITransport(app=sandbox_app)
    async with httpx2.AsyncClient(transport=transport, base_url=AUTH_URL) as http:
        metadata = await http.get(
            "/api/v1/token_verification_metadata", headers={"Authorization": f"Bearer {API_KEY}"}
        )
    claims = jwt.decode(
        result.structured_content["access_token"],
        metadata.json()["verifier_key_pem"],
        algorithms=["RS256"],
        issuer=AUTH_URL,
        options={"require": ["exp", "iat", "iss"]},
        leeway=60,
    )
    assert claims["user_id"] == ADA and claims["email"] == "ada@example.com"


async def test_access_token_for_an_unknown_user_says_the_user_does_not_exist(client: Client) -> None:
    result = await client.call_tool("create_access_token", {"user_id": UNKNOWN, "duration_in_minutes": 5})
    assert result.is_error and UNKNOWN in result.content[0].text


async def test_migrate_user_and_then_its_password(client: Client, sandbox: Sandbox) -> None:
    migrated = await call_ok(
        client,
        "migrate_user",
        {"email": "legacy.user@example.com", "email_confirmed": True, "existing_user_id": "auth0|77"},
    )
    assert migrated.structured_content is not None
    new_id = migrated.structured_content["user_id"]
    assert sandbox.store.get_user(new_id)["legacy_user_id"] == "auth0|77"  # type: ignore[index]
    await call_ok(
        client, "migrate_user_password", {"user_id": new_id, "password_hash": "$2b$12$abcdefghijklmnopqrstuv"}
    )
    assert sandbox.store.get_user(new_id)["has_password"] is True  # type: ignore[index]


async def test_fetch_employee_by_id(client: Client) -> None:
    result = await call_ok(client, "fetch_employee_by_id", {"employee_id": EMPLOYEE})
    assert result.structured_content == {"email": "morgan.lee@example.com"}


async def test_invalid_arguments_never_reach_propelauth_and_name_the_bad_fields(
    client: Client, sandbox: Sandbox
) -> None:
    before = sandbox.requests_received
    result = await client.call_tool("update_user", {"user_id": "../employee/x", "colour": "red"})
    assert result.is_error
    text = result.content[0].text
    assert "user_id" in text and "colour" in text
    assert sandbox.requests_received == before


async def test_an_unknown_tool_is_a_protocol_error(client: Client) -> None:
    with pytest.raises(MCPError) as raised:
        await client.call_tool("drop_all_users", {})
    assert raised.value.code == INVALID_PARAMS


async def test_a_rejected_api_key_says_which_setting_to_check(
    audit: AuditTrail, sandbox_app: Any, settings: Settings
) -> None:
    wrong = settings.model_copy(update={"api_key": SecretStr("sk-wrong-key-000000")})
    server = create_server(wrong, audit, transport=httpx2.ASGITransport(app=sandbox_app))
    async with Client(server, mode="legacy") as client:
        result = await client.call_tool("fetch_user_by_id", {"user_id": ADA})
    assert result.is_error and "PROPELAUTH_API_KEY" in result.content[0].text
