"""Which tools are exposed, as github-mcp-server does it, and what counts as a confirmation."""

from __future__ import annotations

import pytest

from tools import ExposurePolicy, is_confirmed, tool_definitions

ALL = tool_definitions()


def names(policy: ExposurePolicy) -> set[str]:
    return {d.name for d in policy.exposed(ALL)}


def test_by_default_every_tool_is_exposed() -> None:
    assert len(ExposurePolicy().exposed(ALL)) == 64


def test_the_org_toolsets_hold_the_org_tools_and_the_batch_reads_join_users() -> None:
    assert names(ExposurePolicy(toolsets={"orgs"})) == {
        "fetch_org",
        "query_orgs",
        "create_org",
        "update_org",
        "delete_org",
        "fetch_custom_role_mappings",
    }
    assert names(ExposurePolicy(toolsets={"memberships"})) == {
        "fetch_users_in_org",
        "add_user_to_org",
        "change_user_role_in_org",
        "remove_user_from_org",
        "invite_user_to_org",
        "invite_user_to_org_by_user_id",
        "fetch_pending_invites",
        "revoke_pending_invite",
    }
    assert {"fetch_users_by_ids", "fetch_user_mfa_methods"} <= names(ExposurePolicy(toolsets={"users"}))


def test_toolsets_select_whole_groups() -> None:
    assert names(ExposurePolicy(toolsets={"sessions", "employees"})) == {
        "logout_all_user_sessions",
        "fetch_employee_by_id",
    }


def test_an_explicit_tool_list_overrides_toolsets() -> None:
    assert names(ExposurePolicy(toolsets={"employees"}, tools={"create_user"})) == {"create_user"}


def test_excluded_tools_are_removed() -> None:
    exposed = names(ExposurePolicy(toolsets={"users"}, exclude_tools={"delete_user"}))
    assert "delete_user" not in exposed
    assert "disable_user" in exposed


def test_read_only_removes_every_write_whatever_else_says() -> None:
    exposed = names(ExposurePolicy(read_only=True, tools={"delete_user", "fetch_user_by_id"}))
    assert exposed == {"fetch_user_by_id"}
    assert names(ExposurePolicy(read_only=True)) == {
        "fetch_user_by_id",
        "fetch_user_by_email",
        "fetch_user_by_username",
        "query_users",
        "fetch_employee_by_id",
        "fetch_users_by_ids",
        "fetch_users_by_emails",
        "fetch_users_by_usernames",
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
        "validate_api_key",
        "validate_imported_api_key",
        "fetch_api_key_usage",
        "fetch_user_report",
        "fetch_org_report",
        "fetch_chart_metrics",
    }


@pytest.mark.parametrize(
    ("policy", "bad", "valid"),
    [
        (ExposurePolicy(toolsets={"user"}), "user", "magic_links"),
        (ExposurePolicy(tools={"remove_user"}), "remove_user", "delete_user"),
        (ExposurePolicy(exclude_tools={"nuke"}), "nuke", "delete_user"),
    ],
)
def test_unknown_names_are_a_clear_error_listing_the_valid_ones(
    policy: ExposurePolicy, bad: str, valid: str
) -> None:
    with pytest.raises(ValueError, match=bad) as raised:
        policy.exposed(ALL)
    assert valid in str(raised.value)


@pytest.mark.parametrize(
    ("arguments", "confirmed"),
    [
        ({"confirm": True}, True),
        ({"confirm": False}, False),
        ({}, False),
        ({"confirm": "true"}, False),
        ({"confirm": 1}, False),
    ],
)
def test_only_a_literal_true_confirms(arguments: dict[str, object], confirmed: bool) -> None:
    assert is_confirmed(arguments) is confirmed
