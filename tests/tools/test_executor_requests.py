"""The exact HTTP request each tool sends to PropelAuth."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tools.toolfakes import (
    ORG_ID,
    OTHER_ID,
    USER_ID,
    RecordingBackend,
    definition,
    invite_body,
    member_body,
    org_body,
    page_body,
    user_body,
)
from tools import execute, tool_definitions
from tools.backend import ApiRequest, ApiResponse
from tools.requests import build_request

V1 = "/api/backend/v1"
UPPER_ID = USER_ID.upper()
KEY_ID = "0123456789abcdef0123456789abcdef"
SAML_IDP = {
    "idp_entity_id": "https://idp.example.com/e",
    "idp_sso_url": "https://idp.example.com/sso",
    "idp_certificate": "MIIC-demo",
    "provider": "Okta",
}
OIDC_OKTA = {
    "client_id": "client-1",
    "client_secret": "oidc-secret-1",
    "uses_pkce": True,
    "idp_type": "Okta",
    "okta_sso_domain": "acme.okta.com",
}


def api_key_body(**overrides: Any) -> dict[str, Any]:
    return {
        "api_key_id": KEY_ID,
        "created_at": 1764500000,
        "expires_at_seconds": None,
        "metadata": None,
        "user_id": USER_ID,
        "org_id": None,
        "display_name": "CI",
        **overrides,
    }


# tool name -> (arguments, the request that must be sent, a realistic 2xx body)
CASES: dict[str, tuple[dict[str, Any], ApiRequest, Any]] = {
    "create_user": (
        {"email": "ada@example.com", "email_confirmed": True, "first_name": "Ada", "password": "s3cret!"},
        ApiRequest(
            "POST",
            f"{V1}/user/",
            json={
                "email": "ada@example.com",
                "email_confirmed": True,
                "first_name": "Ada",
                "password": "s3cret!",
                "send_email_to_confirm_email_address": True,
                "ask_user_to_update_password_on_login": False,
                "ignore_domain_restrictions": False,
            },
            changes_state=True,
        ),
        {"user_id": USER_ID},
    ),
    "fetch_user_by_id": (
        {"user_id": UPPER_ID, "include_orgs": False},
        ApiRequest("GET", f"{V1}/user/{USER_ID}", query={"include_orgs": "false"}),
        user_body(),
    ),
    "fetch_user_by_email": (
        {"email": "ada+ops@example.com", "include_orgs": True},
        ApiRequest("GET", f"{V1}/user/email", query={"email": "ada+ops@example.com", "include_orgs": "true"}),
        user_body(org_id_to_org_info={}),
    ),
    "fetch_user_by_username": (
        {"username": "ada"},
        ApiRequest("GET", f"{V1}/user/username", query={"username": "ada"}),
        user_body(),
    ),
    "query_users": (
        {
            "page_size": 5,
            "page_number": 2,
            "order_by": "EMAIL",
            "email_or_username": "ada",
            "legacy_user_id": "L1",
        },
        ApiRequest(
            "GET",
            f"{V1}/user/query",
            query={
                "page_size": "5",
                "page_number": "2",
                "order_by": "EMAIL",
                "email_or_username": "ada",
                "legacy_user_id": "L1",
            },
        ),
        {
            "users": [user_body()],
            "total_users": 11,
            "current_page": 2,
            "page_size": 5,
            "has_more_results": False,
        },
    ),
    "update_user": (
        {"user_id": USER_ID, "first_name": "Ada", "metadata": {"plan": "pro"}},
        ApiRequest(
            "PUT",
            f"{V1}/user/{USER_ID}",
            json={"first_name": "Ada", "metadata": {"plan": "pro"}},
            changes_state=True,
        ),
        {},
    ),
    "update_user_email": (
        {"user_id": USER_ID, "new_email": "new@example.com", "require_email_confirmation": False},
        ApiRequest(
            "PUT",
            f"{V1}/user/{USER_ID}/email",
            json={"new_email": "new@example.com", "require_email_confirmation": False},
            changes_state=True,
        ),
        {},
    ),
    "update_user_password": (
        {"user_id": USER_ID, "password": "correct horse", "ask_user_to_update_password_on_login": True},
        ApiRequest(
            "PUT",
            f"{V1}/user/{USER_ID}/password",
            json={"password": "correct horse", "ask_user_to_update_password_on_login": True},
            changes_state=True,
        ),
        {},
    ),
    "clear_user_password": (
        {"user_id": USER_ID, "confirm": True},
        ApiRequest("PUT", f"{V1}/user/{USER_ID}/clear_password", changes_state=True),
        {},
    ),
    "disable_user": (
        {"user_id": USER_ID, "confirm": True},
        ApiRequest("POST", f"{V1}/user/{USER_ID}/disable", changes_state=True),
        {},
    ),
    "enable_user": (
        {"user_id": USER_ID},
        ApiRequest("POST", f"{V1}/user/{USER_ID}/enable", changes_state=True),
        {},
    ),
    "disable_user_2fa": (
        {"user_id": USER_ID, "confirm": True},
        ApiRequest("POST", f"{V1}/user/{USER_ID}/disable_2fa", changes_state=True),
        {},
    ),
    "logout_all_user_sessions": (
        {"user_id": USER_ID, "confirm": True},
        ApiRequest("POST", f"{V1}/user/{USER_ID}/logout_all_sessions", changes_state=True),
        {},
    ),
    "resend_email_confirmation": (
        {"user_id": UPPER_ID},
        ApiRequest("POST", f"{V1}/resend_email_confirmation", json={"user_id": USER_ID}, changes_state=True),
        {},
    ),
    "create_magic_link": (
        {
            "email": "ada@example.com",
            "redirect_to_url": "https://app.example.com/home",
            "expires_in_hours": 2,
        },
        ApiRequest(
            "POST",
            f"{V1}/magic_link",
            json={
                "email": "ada@example.com",
                "redirect_to_url": "https://app.example.com/home",
                "expires_in_hours": 2,
            },
            changes_state=True,
        ),
        {"url": "https://auth.example.com/magic?token=abc"},
    ),
    "create_access_token": (
        {"user_id": USER_ID, "active_org_id": OTHER_ID},
        ApiRequest(
            "POST",
            f"{V1}/access_token",
            json={"user_id": USER_ID, "duration_in_minutes": 60, "active_org_id": OTHER_ID},
            changes_state=True,
        ),
        {"access_token": "eyJhbGciOiJSUzI1NiJ9.e30.sig"},
    ),
    "migrate_user": (
        {"email": "old@example.com", "existing_user_id": "legacy-7", "existing_password_hash": "$2b$12$abc"},
        ApiRequest(
            "POST",
            f"{V1}/migrate_user/",
            json={
                "email": "old@example.com",
                "existing_user_id": "legacy-7",
                "existing_password_hash": "$2b$12$abc",
            },
            changes_state=True,
        ),
        {"user_id": USER_ID},
    ),
    "migrate_user_password": (
        {"user_id": USER_ID, "password_hash": "$2b$12$abc"},
        ApiRequest(
            "POST",
            f"{V1}/migrate_user/password",
            json={"user_id": USER_ID, "password_hash": "$2b$12$abc"},
            changes_state=True,
        ),
        {},
    ),
    "delete_user": (
        {"user_id": UPPER_ID, "confirm": True},
        ApiRequest("DELETE", f"{V1}/user/{USER_ID}", changes_state=True),
        {},
    ),
    "fetch_employee_by_id": (
        {"employee_id": OTHER_ID},
        ApiRequest("GET", f"{V1}/employee/{OTHER_ID}"),
        {"email": "ops@example.com"},
    ),
    # The batch reads answer a bare array. Unset query parameters are left to the service's defaults
    # (the same as the official SDKs'), as for the user reads.
    "fetch_users_by_ids": (
        {"user_ids": [UPPER_ID, OTHER_ID]},
        ApiRequest(
            "POST",
            f"{V1}/user/user_ids",
            json={"user_ids": [USER_ID, OTHER_ID]},
        ),
        [user_body()],
    ),
    "fetch_users_by_emails": (
        {"emails": ["ada@example.com"], "include_orgs": True},
        ApiRequest(
            "POST", f"{V1}/user/emails", query={"include_orgs": "true"}, json={"emails": ["ada@example.com"]}
        ),
        [user_body(org_id_to_org_info={})],
    ),
    "fetch_users_by_usernames": (
        {"usernames": ["ada", "grace"]},
        ApiRequest(
            "POST",
            f"{V1}/user/usernames",
            json={"usernames": ["ada", "grace"]},
        ),
        [],
    ),
    "fetch_user_mfa_methods": (
        {"user_id": USER_ID},
        ApiRequest("GET", f"{V1}/user/{USER_ID}/mfa"),
        {
            "mfa_setup": {
                "type": "Phone",
                "phone_numbers": [{"mfa_phone_number_suffix": "42", "mfa_phone_id": "p1"}],
            }
        },
    ),
    "fetch_user_signup_query_params": (
        {"user_id": USER_ID},
        ApiRequest("GET", f"{V1}/user/{USER_ID}/signup_query_parameters"),
        {"user_signup_query_parameters": {"utm_source": "newsletter"}},
    ),
    "enable_user_can_create_orgs": (
        {"user_id": USER_ID},
        ApiRequest("PUT", f"{V1}/user/{USER_ID}/can_create_orgs/enable", changes_state=True),
        {},
    ),
    "disable_user_can_create_orgs": (
        {"user_id": USER_ID},
        ApiRequest("PUT", f"{V1}/user/{USER_ID}/can_create_orgs/disable", changes_state=True),
        {},
    ),
    "fetch_org": (
        {"org_id": ORG_ID.upper()},
        ApiRequest("GET", f"{V1}/org/{ORG_ID}"),
        org_body(),
    ),
    # The Python SDK's form: GET with query parameters (node-apis and propelauth-go POST a body).
    "query_orgs": (
        {"page_size": 20, "order_by": "NAME", "name": "north", "domain": "northwind.example"},
        ApiRequest(
            "GET",
            f"{V1}/org/query",
            query={
                "page_size": "20",
                "order_by": "NAME",
                "name": "north",
                "domain": "northwind.example",
            },
        ),
        page_body(
            "orgs", [{"org_id": ORG_ID, "name": "Northwind", "max_users": None, "is_saml_configured": False}]
        ),
    ),
    "create_org": (
        {"name": "Northwind", "domain": "northwind.example", "max_users": 25},
        ApiRequest(
            "POST",
            f"{V1}/org/",
            json={
                "name": "Northwind",
                "domain": "northwind.example",
                "max_users": 25,
                "enable_auto_joining_by_domain": False,
                "members_must_have_matching_domain": False,
            },
            changes_state=True,
        ),
        {"org_id": ORG_ID, "name": "Northwind"},
    ),
    # Subscribing to a role mapping is this same PUT.
    "update_org": (
        {"org_id": ORG_ID, "max_users": 50, "custom_role_mapping_name": "Enterprise"},
        ApiRequest(
            "PUT",
            f"{V1}/org/{ORG_ID}",
            json={"max_users": 50, "custom_role_mapping_name": "Enterprise"},
            changes_state=True,
        ),
        {},
    ),
    "delete_org": (
        {"org_id": ORG_ID, "confirm": True},
        ApiRequest("DELETE", f"{V1}/org/{ORG_ID}", changes_state=True),
        {},
    ),
    "fetch_custom_role_mappings": (
        {},
        ApiRequest("GET", f"{V1}/custom_role_mappings"),
        {"custom_role_mappings": [{"custom_role_mapping_name": "Enterprise", "num_orgs_subscribed": 3}]},
    ),
    "fetch_users_in_org": (
        {"org_id": ORG_ID, "role": "Admin"},
        ApiRequest(
            "GET",
            f"{V1}/user/org/{ORG_ID}",
            query={"role": "Admin"},
        ),
        page_body("users", [member_body()]),
    ),
    # The Python SDK always sends additional_roles, [] when none.
    "add_user_to_org": (
        {"user_id": UPPER_ID, "org_id": ORG_ID, "role": "Member"},
        ApiRequest(
            "POST",
            f"{V1}/org/add_user",
            json={"user_id": USER_ID, "org_id": ORG_ID, "role": "Member", "additional_roles": []},
            changes_state=True,
        ),
        {},
    ),
    "change_user_role_in_org": (
        {
            "user_id": USER_ID,
            "org_id": ORG_ID,
            "role": "Admin",
            "additional_roles": ["Billing"],
            "confirm": True,
        },
        ApiRequest(
            "POST",
            f"{V1}/org/change_role",
            json={"user_id": USER_ID, "org_id": ORG_ID, "role": "Admin", "additional_roles": ["Billing"]},
            changes_state=True,
        ),
        {},
    ),
    "remove_user_from_org": (
        {"user_id": USER_ID, "org_id": ORG_ID, "confirm": True},
        ApiRequest(
            "POST", f"{V1}/org/remove_user", json={"user_id": USER_ID, "org_id": ORG_ID}, changes_state=True
        ),
        {},
    ),
    "invite_user_to_org": (
        {"email": "grace@example.com", "org_id": ORG_ID, "role": "Member"},
        ApiRequest(
            "POST",
            f"{V1}/invite_user",
            json={"email": "grace@example.com", "org_id": ORG_ID, "role": "Member", "additional_roles": []},
            changes_state=True,
        ),
        {},
    ),
    "invite_user_to_org_by_user_id": (
        {"user_id": OTHER_ID, "org_id": ORG_ID, "role": "Member"},
        ApiRequest(
            "POST",
            f"{V1}/invite_user_by_id",
            json={"user_id": OTHER_ID, "org_id": ORG_ID, "role": "Member", "additional_roles": []},
            changes_state=True,
        ),
        {},
    ),
    "fetch_pending_invites": (
        {"org_id": ORG_ID},
        ApiRequest(
            "GET",
            f"{V1}/pending_org_invites",
            query={"org_id": ORG_ID},
        ),
        page_body("invites", [invite_body()]),
    ),
    # A DELETE with a JSON body, as the official SDKs send it.
    "revoke_pending_invite": (
        {"invitee_email": "grace@example.com", "org_id": ORG_ID, "confirm": True},
        ApiRequest(
            "DELETE",
            f"{V1}/pending_org_invites",
            json={"invitee_email": "grace@example.com", "org_id": ORG_ID},
            changes_state=True,
        ),
        {},
    ),
    # Enterprise SSO (issue 12).
    "allow_org_saml": (
        {"org_id": ORG_ID},
        ApiRequest("POST", f"{V1}/org/{ORG_ID}/allow_saml", changes_state=True),
        {},
    ),
    "disallow_org_saml": (
        {"org_id": ORG_ID, "confirm": True},
        ApiRequest("POST", f"{V1}/org/{ORG_ID}/disallow_saml", changes_state=True),
        {},
    ),
    "create_saml_connection_link": (
        {"org_id": ORG_ID, "expires_in_seconds": 3600},
        ApiRequest(
            "POST",
            f"{V1}/org/{ORG_ID}/create_saml_connection_link",
            json={"expires_in_seconds": 3600},
            changes_state=True,
        ),
        {"url": "https://auth.example.com/saml/setup?token=abc"},
    ),
    "fetch_saml_sp_metadata": (
        {"org_id": ORG_ID},
        ApiRequest("GET", f"{V1}/saml_sp_metadata/{ORG_ID}"),
        {"entity_id": "https://auth.example.com/e", "acs_url": "https://a/acs", "logout_url": "https://a/l"},
    ),
    "set_saml_idp_metadata": (
        {**SAML_IDP, "org_id": ORG_ID},
        ApiRequest(
            "POST", f"{V1}/saml_idp_metadata", json={"org_id": ORG_ID, **SAML_IDP}, changes_state=True
        ),
        {},
    ),
    "saml_go_live": (
        {"org_id": ORG_ID, "confirm": True},
        ApiRequest("POST", f"{V1}/saml_idp_metadata/go_live/{ORG_ID}", changes_state=True),
        {},
    ),
    "delete_saml_connection": (
        {"org_id": ORG_ID, "confirm": True},
        ApiRequest("DELETE", f"{V1}/saml_idp_metadata/{ORG_ID}", changes_state=True),
        {},
    ),
    "set_oidc_idp_metadata": (
        {**OIDC_OKTA, "org_id": ORG_ID},
        ApiRequest(
            "POST", f"{V1}/oidc_idp_metadata", json={"org_id": ORG_ID, **OIDC_OKTA}, changes_state=True
        ),
        {},
    ),
    "fetch_scim_groups": (
        {"org_id": ORG_ID, "user_id": USER_ID, "page_size": 5},
        ApiRequest("GET", f"{V1}/scim/{ORG_ID}/groups", query={"user_id": USER_ID, "page_size": "5"}),
        {
            "groups": [{"group_id": "g1", "display_name": "Eng"}],
            "total_groups": 1,
            "page_number": 0,
            "page_size": 5,
        },
    ),
    "fetch_scim_group": (
        {"org_id": ORG_ID, "group_id": "g1", "members_page_size": 20},
        ApiRequest("GET", f"{V1}/scim/{ORG_ID}/groups/g1", query={"members_page_size": "20"}),
        {"group_id": "g1", "display_name": "Eng", "members": [{"user_id": USER_ID}]},
    ),
    # End-user API keys (issue 12).
    "fetch_api_key": (
        {"api_key_id": KEY_ID},
        ApiRequest("GET", f"{V1}/end_user_api_keys/{KEY_ID}"),
        api_key_body(),
    ),
    "fetch_api_keys": (
        {"org_id": ORG_ID, "page_number": 1},
        ApiRequest("GET", f"{V1}/end_user_api_keys", query={"org_id": ORG_ID, "page_number": "1"}),
        page_body("api_keys", [api_key_body()]),
    ),
    "fetch_archived_api_keys": (
        {"user_email": "ada@example.com"},
        ApiRequest("GET", f"{V1}/end_user_api_keys/archived", query={"user_email": "ada@example.com"}),
        page_body("api_keys", []),
    ),
    "create_api_key": (
        {"user_id": USER_ID, "display_name": "CI", "expires_at_seconds": 1900000000},
        ApiRequest(
            "POST",
            f"{V1}/end_user_api_keys",
            json={"user_id": USER_ID, "display_name": "CI", "expires_at_seconds": 1900000000},
            changes_state=True,
        ),
        {"api_key_id": KEY_ID, "api_key_token": "f" * 64},
    ),
    "update_api_key": (
        {"api_key_id": KEY_ID, "set_to_never_expire": True},
        ApiRequest(
            "PATCH",
            f"{V1}/end_user_api_keys/{KEY_ID}",
            json={"set_to_never_expire": True},
            changes_state=True,
        ),
        {},
    ),
    "delete_api_key": (
        {"api_key_id": KEY_ID, "confirm": True},
        ApiRequest("DELETE", f"{V1}/end_user_api_keys/{KEY_ID}", changes_state=True),
        {},
    ),
    # A POST that only reads: its token travels in the body, and it may be retried.
    "validate_api_key": (
        {"api_key_token": "f" * 64},
        ApiRequest("POST", f"{V1}/end_user_api_keys/validate", json={"api_key_token": "f" * 64}),
        {"metadata": None, "user": user_body(), "org": None, "user_in_org": None},
    ),
    "import_api_key": (
        {"imported_api_key": "legacy-key-123", "org_id": ORG_ID},
        ApiRequest(
            "POST",
            f"{V1}/end_user_api_keys/import",
            json={"imported_api_key": "legacy-key-123", "org_id": ORG_ID},
            changes_state=True,
        ),
        {"api_key_id": KEY_ID},
    ),
    "validate_imported_api_key": (
        {"api_key_token": "legacy-key-123"},
        ApiRequest(
            "POST", f"{V1}/end_user_api_keys/validate_imported", json={"api_key_token": "legacy-key-123"}
        ),
        {"metadata": {}, "user": None, "org": None, "user_in_org": None},
    ),
    "fetch_api_key_usage": (
        {"date": "2026-11-30", "api_key_id": KEY_ID},
        ApiRequest(
            "GET", f"{V1}/end_user_api_keys/usage", query={"date": "2026-11-30", "api_key_id": KEY_ID}
        ),
        {"count": 7},
    ),
    # Insights (issue 12): the report's name is the path's last part.
    "fetch_user_report": (
        {"report": "churn", "report_interval": "14"},
        ApiRequest("GET", f"{V1}/user_report/churn", query={"report_interval": "14"}),
        {"user_reports": [], "total_count": 0, "current_page": 0, "page_size": 10, "has_more_results": False},
    ),
    "fetch_org_report": (
        {"report": "growth"},
        ApiRequest("GET", f"{V1}/org_report/growth"),
        {"org_reports": [], "total_count": 0, "current_page": 0, "page_size": 10, "has_more_results": False},
    ),
    "fetch_chart_metrics": (
        {"metric": "signups", "cadence": "Weekly", "start_date": "2026-10-01", "end_date": "2026-11-30"},
        ApiRequest(
            "GET",
            f"{V1}/chart_metrics/signups",
            query={"cadence": "Weekly", "start_date": "2026-10-01", "end_date": "2026-11-30"},
        ),
        {"chart_type": "signups", "cadence": "Weekly", "metrics": [{"date": "2026-10-05", "result": 3}]},
    ),
}


def test_the_request_table_covers_every_tool() -> None:
    assert set(CASES) == {d.name for d in tool_definitions()}


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(CASES))
async def test_each_tool_sends_exactly_its_request_and_succeeds(name: str) -> None:
    arguments, expected, body = CASES[name]
    backend = RecordingBackend(ApiResponse(200, body))

    outcome = await execute(definition(name), arguments, backend)

    assert backend.requests == [expected]
    assert outcome.outcome == "ok", outcome.text
    assert outcome.http_status == 200


@pytest.mark.anyio
async def test_update_user_with_only_a_user_id_sends_an_empty_change_nowhere() -> None:
    backend = RecordingBackend()
    outcome = await execute(definition("update_user"), {"user_id": USER_ID}, backend)
    assert outcome.outcome == "rejected"
    assert "first_name" in outcome.text
    assert backend.requests == []


@pytest.mark.anyio
async def test_create_user_always_sends_the_four_flags_the_official_sdks_send() -> None:
    backend = RecordingBackend(ApiResponse(200, {"user_id": USER_ID}))
    await execute(definition("create_user"), {"email": "ada@example.com"}, backend)
    assert backend.requests[0].json == {
        "email": "ada@example.com",
        "email_confirmed": False,
        "send_email_to_confirm_email_address": True,
        "ask_user_to_update_password_on_login": False,
        "ignore_domain_restrictions": False,
    }


@pytest.mark.anyio
async def test_a_body_operation_called_without_optional_fields_sends_no_absent_field() -> None:
    backend = RecordingBackend(ApiResponse(200, {"user_id": USER_ID}))
    await execute(definition("create_magic_link"), {"email": "ada@example.com"}, backend)
    assert backend.requests[0].json == {"email": "ada@example.com"}


def test_path_parameters_are_percent_encoded() -> None:
    # A valid uuid never needs encoding, so hand the request builder a hostile value directly.
    request = build_request(definition("fetch_employee_by_id"), {"employee_id": "a/b?c"})
    assert request.path == "/api/backend/v1/employee/a%2Fb%3Fc"


@pytest.mark.anyio
async def test_absent_query_arguments_are_omitted_never_sent_as_null() -> None:
    backend = RecordingBackend(
        ApiResponse(
            200,
            {"users": [], "total_users": 0, "current_page": 0, "page_size": 10, "has_more_results": False},
        )
    )
    await execute(definition("query_users"), {}, backend)
    assert backend.requests == [ApiRequest("GET", "/api/backend/v1/user/query")]


@pytest.mark.anyio
async def test_a_call_without_any_arguments_is_a_call_with_none_given() -> None:
    # MCP lets a client leave "arguments" out: a tool with no required argument still runs.
    page = {"users": [], "total_users": 0, "current_page": 0, "page_size": 10, "has_more_results": False}
    backend = RecordingBackend(ApiResponse(200, page))

    outcome = await execute(definition("query_users"), None, backend)

    assert outcome.outcome == "ok"
    assert backend.requests == [ApiRequest("GET", "/api/backend/v1/user/query")]
