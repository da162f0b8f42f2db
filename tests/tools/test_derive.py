"""The tool definitions derived from the spec: names, placement, schemas and hints."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from schemas import load_spec
from tests.tools.toolfakes import definition
from tools import tool_definitions
from tools.catalog.excluded import EXCLUDED
from tools.derive import derive_definitions, snake_case
from tools.model import ToolDefinition

DEFINITIONS = tool_definitions()
IDS = [d.name for d in DEFINITIONS]
GATED = {
    "delete_user",
    "disable_user",
    "logout_all_user_sessions",
    "clear_user_password",
    "disable_user_2fa",
    "delete_org",
    "change_user_role_in_org",
    "remove_user_from_org",
    "revoke_pending_invite",
    "disallow_org_saml",
    "saml_go_live",
    "delete_saml_connection",
    "delete_api_key",
}
# Destructive but not gated: reversible, and no existing access goes (see the catalog's comments); the
# IdP settings are overwritten (the destructive hint) but that is how a connection is set up.
DESTRUCTIVE_UNGATED = {"disable_user_can_create_orgs", "set_saml_idp_metadata", "set_oidc_idp_metadata"}
# Reads sent as POST: the batch fetches carry their ids in a body, a key check its token.
READS_BY_POST = {
    "fetch_users_by_ids",
    "fetch_users_by_emails",
    "fetch_users_by_usernames",
    "validate_api_key",
    "validate_imported_api_key",
}
READS = {
    "fetch_user_by_id",
    "fetch_user_by_email",
    "fetch_user_by_username",
    "query_users",
    "fetch_employee_by_id",
    "fetch_user_mfa_methods",
    "fetch_user_signup_query_params",
    "fetch_org",
    "query_orgs",
    "fetch_custom_role_mappings",
    "fetch_users_in_org",
    "fetch_pending_invites",
    "fetch_saml_sp_metadata",
    "fetch_scim_groups",
    "fetch_scim_group",
    "fetch_api_key",
    "fetch_api_keys",
    "fetch_archived_api_keys",
    "fetch_api_key_usage",
    "fetch_user_report",
    "fetch_org_report",
    "fetch_chart_metrics",
} | READS_BY_POST
NOT_IDEMPOTENT = {
    "create_user",
    "migrate_user",
    "create_magic_link",
    "create_access_token",
    "resend_email_confirmation",
    "update_user_email",
    "create_org",
    "invite_user_to_org",
    "invite_user_to_org_by_user_id",
    "create_saml_connection_link",
    "create_api_key",
    "import_api_key",
}


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for value in node.values() for k in _keys(value)}
    if isinstance(node, list):
        return {k for value in node for k in _keys(value)}
    return set()


def test_there_is_one_tool_per_spec_operation_with_the_agreed_names() -> None:
    assert IDS == [
        "create_user", "fetch_user_by_id", "fetch_user_by_email", "fetch_user_by_username", "query_users",
        "update_user", "update_user_email", "update_user_password", "clear_user_password", "disable_user",
        "enable_user", "disable_user_2fa", "logout_all_user_sessions", "resend_email_confirmation",
        "create_magic_link", "create_access_token", "migrate_user", "migrate_user_password", "delete_user",
        "fetch_employee_by_id", "fetch_users_by_ids", "fetch_users_by_emails", "fetch_users_by_usernames",
        "fetch_user_mfa_methods", "fetch_user_signup_query_params", "enable_user_can_create_orgs",
        "disable_user_can_create_orgs", "fetch_org", "query_orgs", "create_org", "update_org", "delete_org",
        "fetch_custom_role_mappings", "fetch_users_in_org", "add_user_to_org", "change_user_role_in_org",
        "remove_user_from_org", "invite_user_to_org", "invite_user_to_org_by_user_id",
        "fetch_pending_invites", "revoke_pending_invite",
        "allow_org_saml", "disallow_org_saml", "create_saml_connection_link", "fetch_saml_sp_metadata",
        "set_saml_idp_metadata", "saml_go_live", "delete_saml_connection", "set_oidc_idp_metadata",
        "fetch_scim_groups", "fetch_scim_group", "fetch_api_key", "fetch_api_keys", "fetch_archived_api_keys",
        "create_api_key", "update_api_key", "delete_api_key", "validate_api_key", "import_api_key",
        "validate_imported_api_key", "fetch_api_key_usage", "fetch_user_report", "fetch_org_report",
        "fetch_chart_metrics",
    ]  # fmt: skip


def test_definitions_are_built_once_per_process() -> None:
    assert tool_definitions() is DEFINITIONS


@pytest.mark.parametrize("tool", DEFINITIONS, ids=IDS)
def test_every_schema_is_a_valid_self_contained_2020_12_schema(tool: ToolDefinition) -> None:
    for schema in (tool.input_schema, tool.output_schema):
        Draft202012Validator.check_schema(schema)
        keys = _keys(schema)
        assert "$ref" not in keys
        assert "$schema" not in keys
        assert not [key for key in keys if key.startswith("x-")]
    assert tool.input_schema["type"] == "object"
    assert tool.input_schema["additionalProperties"] is False
    assert tool.output_schema["type"] == "object"


@pytest.mark.parametrize("tool", DEFINITIONS, ids=IDS)
def test_hints_are_truthful(tool: ToolDefinition) -> None:
    assert tool.read_only == (tool.name in READS)
    assert (tool.operation.method == "GET") == (tool.name in READS - READS_BY_POST)
    assert tool.destructive == (tool.name in GATED | DESTRUCTIVE_UNGATED)
    assert tool.requires_confirmation == (tool.name in GATED)
    assert tool.idempotent == (tool.name not in NOT_IDEMPOTENT)
    assert tool.open_world is True


@pytest.mark.parametrize("tool", DEFINITIONS, ids=IDS)
def test_argument_names_are_snake_case_and_confirm_appears_only_on_gated_tools(tool: ToolDefinition) -> None:
    names = set(tool.input_schema["properties"])
    assert all(name == snake_case(name) for name in names)
    assert ("confirm" in names) == (tool.name in GATED)
    assert ("confirmation_token" in names) == (tool.name in GATED)
    assert "confirm" not in tool.input_schema.get("required", [])
    assert "confirmation_token" not in tool.input_schema.get("required", [])


SENSITIVE = {
    "create_magic_link",
    "create_access_token",
    "update_user_password",
    "update_user_email",
    "migrate_user_password",
    "create_saml_connection_link",
    "create_api_key",
}


@pytest.mark.parametrize("tool", DEFINITIONS, ids=IDS)
def test_the_account_takeover_tools_are_sensitive_and_say_what_the_person_would_be_asked(
    tool: ToolDefinition,
) -> None:
    assert tool.sensitive == (tool.name in SENSITIVE)
    if tool.sensitive:
        assert tool.entry.consequence and "password}" not in tool.entry.consequence


@pytest.mark.parametrize("name", sorted(GATED))
def test_a_gated_tool_says_the_person_may_be_asked_and_its_output_schema_takes_every_answer(
    name: str,
) -> None:
    tool = definition(name)
    assert "person may be asked" in tool.description
    validator = Draft202012Validator(tool.output_schema)
    preview = {"confirmation_required": True, "preview": {}, "confirmation_token": None, "expires_in_s": None}
    assert validator.is_valid(preview)
    assert validator.is_valid({"declined": True, "answer": "cancel"})
    assert not validator.is_valid({})  # neither a success, nor a preview, nor a decline
    assert tool.result_schema is not None and not Draft202012Validator(tool.result_schema).is_valid(preview)


@pytest.mark.parametrize("name", sorted(SENSITIVE))
def test_a_sensitive_tools_output_schema_also_takes_a_decline(name: str) -> None:
    tool = definition(name)
    assert Draft202012Validator(tool.output_schema).is_valid({"declined": True, "answer": "decline"})


def test_path_query_and_body_arguments_are_merged_with_their_required_flags() -> None:
    tool = definition("update_user_email")
    assert tool.input_schema["required"] == ["user_id", "new_email", "require_email_confirmation"]
    assert tool.operation.path_params == {"user_id": "userId"}
    assert tool.operation.body_params == ("new_email", "require_email_confirmation")
    employee = definition("fetch_employee_by_id")
    assert employee.operation.path_params == {"employee_id": "employeeId"}
    assert employee.input_schema["properties"]["employee_id"] == {"type": "string", "format": "uuid"}
    by_email = definition("fetch_user_by_email")
    assert by_email.operation.query_params == ("email", "include_orgs")
    assert by_email.input_schema["required"] == ["email"]


def test_the_access_token_duration_is_optional_with_the_default_the_executor_applies() -> None:
    schema = definition("create_access_token").input_schema
    assert schema["required"] == ["user_id"]
    assert schema["properties"]["duration_in_minutes"]["default"] == 60


def test_spec_prose_and_ui_only_formats_are_dropped_but_constraints_kept() -> None:
    schema = definition("query_users").input_schema["properties"]
    assert schema["page_size"] == {"type": ["integer", "null"], "default": 10, "minimum": 1, "maximum": 100}
    password = definition("update_user_password").input_schema["properties"]["password"]
    assert password == {"type": "string", "minLength": 1}


def test_operations_without_a_response_body_advertise_what_we_return() -> None:
    assert definition("delete_user").result_schema == {
        "type": "object",
        "required": ["ok"],
        "properties": {"ok": {"type": "boolean"}, "user_id": {"type": "string"}},
    }
    assert "updated" in definition("update_user").output_schema["properties"]


def test_every_gated_tool_has_its_preview_reads_resolved_to_read_only_tools() -> None:
    for name in GATED:
        steps = definition(name).preview
        assert steps and all(step.definition.read_only for step in steps), name
    assert definition("delete_user").preview[0].definition.name == "fetch_user_by_id"
    assert definition("create_user").preview == ()


def test_the_target_of_a_call_is_the_arguments_naming_it_with_ids_lower_cased() -> None:
    assert definition("delete_user").target_of({"user_id": "ABC", "confirm": True}) == {"user_id": "abc"}
    assert definition("create_user").target_of({"email": "a@example.com"}) == {"email": "a@example.com"}
    assert definition("query_users").target_of({"page_size": 3}) is None


def test_a_catalog_entry_whose_operation_is_missing_from_the_spec_is_a_startup_error() -> None:
    spec = json.loads(json.dumps({"paths": {}, "components": {}}))
    with pytest.raises(ValueError, match="createUser"):
        derive_definitions(spec)


def test_a_spec_operation_without_a_catalog_entry_is_a_startup_error() -> None:
    spec = copy.deepcopy(load_spec())
    spec["paths"]["/api/backend/v1/user/{userId}/new_thing"] = {
        "get": {"operationId": "fetchNewThing", "responses": {"200": {"description": "ok"}}}
    }
    with pytest.raises(ValueError, match="no catalog entry: \\['fetchNewThing'\\]"):
        derive_definitions(spec)


def test_an_operation_excluded_with_a_reason_needs_no_catalog_entry() -> None:
    spec = copy.deepcopy(load_spec())
    # A real PropelAuth endpoint that is no tool on purpose (it hands out third-party OAuth tokens).
    spec["paths"]["/api/backend/v1/user/{userId}/oauth_token"] = {
        "get": {"operationId": "fetchUserOauthTokens", "responses": {"200": {"description": "ok"}}}
    }
    names = {d.name for d in derive_definitions(spec)}
    assert names == {d.name for d in DEFINITIONS}
    with pytest.raises(ValueError, match="no catalog entry: \\['fetchUserOauthTokens'\\]"):
        derive_definitions(spec, excluded={})


def test_an_operation_both_excluded_and_catalogued_is_a_startup_error() -> None:
    with pytest.raises(ValueError, match="both excluded and catalogued: \\['deleteUser'\\]"):
        derive_definitions(load_spec(), excluded={"deleteUser": ("DELETE /user/{userId}", "a reason")})


def test_step_up_mfa_social_tokens_and_token_verification_metadata_are_excluded_with_reasons() -> None:
    paths = " ".join(path for path, _ in EXCLUDED.values())
    assert "/mfa/step-up/" in paths and "/oauth_token" in paths and "/fresh_token" in paths
    assert "/token_verification_metadata" in paths
    assert all(len(reason) > 20 for _, reason in EXCLUDED.values())
    assert not EXCLUDED.keys() & {d.operation.operation_id for d in DEFINITIONS}


@pytest.mark.parametrize("tool", tool_definitions(), ids=lambda d: d.name)
def test_optional_arguments_allow_null_and_required_ones_do_not(tool: Any) -> None:
    schema = tool.input_schema
    required = set(schema.get("required", ()))
    for name, prop in schema["properties"].items():
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        assert ("null" in types) is (name not in required), name
        if "enum" in prop:
            assert (None in prop["enum"]) is (name not in required), name


def test_an_optional_enum_lists_null_among_its_values() -> None:
    order_by = definition("query_users").input_schema["properties"]["order_by"]
    assert order_by["type"] == ["string", "null"] and order_by["enum"][-1] is None
    assert definition("delete_user").input_schema["properties"]["confirm"]["type"] == ["boolean", "null"]
