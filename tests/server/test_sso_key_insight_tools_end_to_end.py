"""The SSO, end-user API key and insights tools through the official MCP client against the sandbox:
a success per tool (structured content checked against the advertised schema, the sandbox state
where it changes), not found or PropelAuth errors, invalid arguments (named, nothing sent), the
gates of disallow_org_saml, saml_go_live, delete_saml_connection and delete_api_key, and the
created API key token kept out of the audit records."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from sandbox import Sandbox
from sandbox.demo import DEMO_API_KEYS, DEMO_SCIM_GROUPS, HARBOR_HEALTH, LUMEN_LABS, NORTHWIND
from server.audit import AuditTrail
from server.settings import Settings
from tests.server.org_testkit import (
    ADA,
    GRACE,
    SOFIA,
    UNKNOWN_ORG,
    call_error,
    call_ok,
    call_preview,
    call_unconfirmed,
    recorded_client,
    structured,
    text_of,
    writes,
)
from tests.trust.conftest import RecordingSandbox, read_records

pytestmark = pytest.mark.anyio

ADAS_CLI = DEMO_API_KEYS["Ada's CLI"]
ERP_SYNC = DEMO_API_KEYS["Northwind ERP sync"]
GRACES_KEY = DEMO_API_KEYS["Grace's Lumen key"]
LEAKED = DEMO_API_KEYS["Leaked Lumen key"]
UNKNOWN_KEY_ID = "0" * 32
ALL_STAFF_ID = DEMO_SCIM_GROUPS["All Staff"][0]
CLINICIANS_ID = DEMO_SCIM_GROUPS["Clinicians"][0]
SAML_IDP = {
    "idp_entity_id": "https://idp.harborhealth.example/entity",
    "idp_sso_url": "https://idp.harborhealth.example/sso",
    "idp_certificate": "MIIC-test-certificate",
    "provider": "Okta",
}


@pytest.fixture
def front(sandbox_app: Any) -> RecordingSandbox:
    return RecordingSandbox(app=sandbox_app)


@pytest.fixture
async def client(settings: Settings, audit: AuditTrail, front: RecordingSandbox) -> AsyncIterator[Client]:
    async with recorded_client(settings, audit, front) as connected:
        yield connected


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def saml_state(sandbox: Sandbox, org_id: str) -> tuple[Any, ...]:
    org = sandbox.store.orgs.get(org_id)
    assert org is not None
    return (
        org["can_setup_saml"],
        org["is_saml_configured"],
        org["is_saml_in_test_mode"],
        sandbox.store.sso.saml_idp(org_id),
    )


def is_live(sandbox: Sandbox, token: str) -> bool:
    return sandbox.store.api_keys.by_token(token, imported=False, now=int(time.time())) is not None


def assert_names_missing(text: str, missing_id: str) -> None:
    """A not-found answer: it says there is no such thing and names the id looked for."""
    assert text.lower().startswith("no ") and missing_id in text


async def harbor_with_saml_idp(client: Client) -> None:
    await call_ok(client, "set_saml_idp_metadata", {"org_id": HARBOR_HEALTH, **SAML_IDP})


# --- allow / disallow SAML ------------------------------------------------------------------------------


async def test_allow_org_saml_lets_the_org_set_up_saml(client: Client, sandbox: Sandbox) -> None:
    await call_ok(client, "allow_org_saml", {"org_id": LUMEN_LABS})
    assert saml_state(sandbox, LUMEN_LABS)[0] is True


async def test_disallow_org_saml_confirmed_stops_the_org_setting_up_saml(
    client: Client, sandbox: Sandbox
) -> None:
    await call_ok(client, "disallow_org_saml", {"org_id": HARBOR_HEALTH, "confirm": True})
    assert saml_state(sandbox, HARBOR_HEALTH)[0] is False


@pytest.mark.parametrize("tool", ["allow_org_saml", "disallow_org_saml"])
async def test_allowing_or_disallowing_saml_for_an_unknown_org_is_not_found(
    client: Client, tool: str
) -> None:
    arguments: dict[str, Any] = {
        "org_id": UNKNOWN_ORG,
        **({"confirm": True} if tool == "disallow_org_saml" else {}),
    }
    assert_names_missing(await call_error(client, tool, arguments), UNKNOWN_ORG)


# --- the gates ------------------------------------------------------------------------------------------

GATED_ORG_TOOLS = ["disallow_org_saml", "saml_go_live", "delete_saml_connection"]


@pytest.mark.parametrize("tool", GATED_ORG_TOOLS)
@pytest.mark.parametrize("confirm", [None, False, "true", 1])
async def test_a_gated_saml_tool_without_confirm_true_leaves_the_sandbox_unchanged_and_sends_no_write(
    client: Client, sandbox: Sandbox, front: RecordingSandbox, tool: str, confirm: Any
) -> None:
    await harbor_with_saml_idp(client)
    front.seen.clear()
    before = saml_state(sandbox, HARBOR_HEALTH)
    arguments: dict[str, Any] = {"org_id": HARBOR_HEALTH}
    if confirm is not None:
        arguments["confirm"] = confirm
    await call_unconfirmed(client, tool, arguments)
    assert saml_state(sandbox, HARBOR_HEALTH) == before
    assert writes(front) == []


@pytest.mark.parametrize("tool", GATED_ORG_TOOLS)
async def test_the_preview_of_a_gated_saml_tool_names_the_org(client: Client, tool: str) -> None:
    await harbor_with_saml_idp(client)
    text = await call_preview(client, tool, {"org_id": HARBOR_HEALTH})
    assert "Harbor Health" in text and "confirm" in text


@pytest.mark.parametrize("confirm", [None, False, "true"])
async def test_delete_api_key_without_confirm_true_keeps_the_key_and_sends_no_write(
    client: Client, sandbox: Sandbox, front: RecordingSandbox, confirm: Any
) -> None:
    arguments: dict[str, Any] = {"api_key_id": ADAS_CLI.api_key_id}
    if confirm is not None:
        arguments["confirm"] = confirm
    await call_unconfirmed(client, "delete_api_key", arguments)
    assert is_live(sandbox, ADAS_CLI.token)
    assert writes(front) == []


async def test_the_delete_api_key_preview_names_the_keys_display_name(
    client: Client, sandbox: Sandbox
) -> None:
    text = await call_preview(client, "delete_api_key", {"api_key_id": ERP_SYNC.api_key_id})
    assert "Northwind ERP sync" in text
    assert is_live(sandbox, ERP_SYNC.token)


# --- SAML connection life cycle -------------------------------------------------------------------------


async def test_create_saml_connection_link_answers_a_set_up_url_kept_out_of_the_audit(
    client: Client, audit_path: Path
) -> None:
    result = await call_ok(
        client, "create_saml_connection_link", {"org_id": HARBOR_HEALTH, "expires_in_seconds": 3600}
    )
    url = structured(result)["url"]
    assert url.startswith("http://sandbox.test/saml_setup/")
    assert url not in audit_path.read_text()


async def test_create_saml_connection_link_for_an_org_not_allowed_saml_is_a_propelauth_error(
    client: Client,
) -> None:
    assert "org_id" in await call_error(client, "create_saml_connection_link", {"org_id": LUMEN_LABS})


async def test_fetch_saml_sp_metadata_answers_the_orgs_entity_acs_and_logout_urls(client: Client) -> None:
    metadata = structured(await call_ok(client, "fetch_saml_sp_metadata", {"org_id": NORTHWIND}))
    assert NORTHWIND in metadata["entity_id"]
    assert metadata["acs_url"].endswith("/acs") and metadata["logout_url"].endswith("/logout")


async def test_fetch_saml_sp_metadata_of_an_unknown_org_is_not_found(client: Client) -> None:
    assert_names_missing(
        await call_error(client, "fetch_saml_sp_metadata", {"org_id": UNKNOWN_ORG}), UNKNOWN_ORG
    )


async def test_set_saml_idp_metadata_puts_the_connection_in_test_mode(
    client: Client, sandbox: Sandbox
) -> None:
    await harbor_with_saml_idp(client)
    can_setup, configured, test_mode, idp = saml_state(sandbox, HARBOR_HEALTH)
    assert (can_setup, configured, test_mode) == (True, False, True)
    assert idp is not None and idp.provider == "Okta"


async def test_set_saml_idp_metadata_for_an_org_not_allowed_saml_is_a_propelauth_error(
    client: Client, sandbox: Sandbox
) -> None:
    assert "org_id" in await call_error(client, "set_saml_idp_metadata", {"org_id": LUMEN_LABS, **SAML_IDP})
    assert sandbox.store.sso.saml_idp(LUMEN_LABS) is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"provider": "Keycloak"}, "provider"),
        ({"idp_sso_url": "ftp://idp.example/sso"}, "idp_sso_url"),
        ({"idp_entity_id": ""}, "idp_entity_id"),
        ({"idp_certificate": None}, "idp_certificate"),
    ],
)
async def test_set_saml_idp_metadata_with_invalid_arguments_names_the_field_and_sends_nothing(
    client: Client, front: RecordingSandbox, change: dict[str, Any], field: str
) -> None:
    arguments = {"org_id": HARBOR_HEALTH, **SAML_IDP, **change}
    assert field in await call_error(client, "set_saml_idp_metadata", arguments)
    assert front.seen == []


async def test_saml_go_live_confirmed_takes_the_connection_out_of_test_mode(
    client: Client, sandbox: Sandbox
) -> None:
    await harbor_with_saml_idp(client)
    await call_ok(client, "saml_go_live", {"org_id": HARBOR_HEALTH, "confirm": True})
    assert saml_state(sandbox, HARBOR_HEALTH)[1:3] == (True, False)


async def test_saml_go_live_without_idp_metadata_is_a_propelauth_error(
    client: Client, sandbox: Sandbox
) -> None:
    assert "org_id" in await call_error(client, "saml_go_live", {"org_id": HARBOR_HEALTH, "confirm": True})
    assert saml_state(sandbox, HARBOR_HEALTH)[1] is False


async def test_delete_saml_connection_confirmed_removes_the_idp_settings(
    client: Client, sandbox: Sandbox
) -> None:
    await harbor_with_saml_idp(client)
    await call_ok(client, "delete_saml_connection", {"org_id": HARBOR_HEALTH, "confirm": True})
    assert saml_state(sandbox, HARBOR_HEALTH) == (True, False, False, None)


async def test_delete_saml_connection_of_an_org_without_one_says_it_has_no_saml_connection(
    client: Client, sandbox: Sandbox
) -> None:
    text = await call_error(client, "delete_saml_connection", {"org_id": NORTHWIND, "confirm": True})
    assert sandbox.store.orgs.get(NORTHWIND) is not None
    assert "saml" in text.lower()


# --- OIDC -----------------------------------------------------------------------------------------------

OIDC_BASE = {"client_id": "harbor-client", "client_secret": "oidc-client-secret-xyz", "uses_pkce": True}


async def test_set_oidc_idp_metadata_stores_the_client_with_the_secret_only_hashed(
    client: Client, sandbox: Sandbox, audit_path: Path
) -> None:
    arguments = {
        "org_id": NORTHWIND,
        **OIDC_BASE,
        "idp_type": "Okta",
        "okta_sso_domain": "northwind.okta.com",
    }
    result = await call_ok(client, "set_oidc_idp_metadata", arguments)
    idp = sandbox.store.sso.oidc_idp(NORTHWIND)
    assert idp is not None and (idp.idp_type, idp.client_id) == ("Okta", "harbor-client")
    assert "oidc-client-secret-xyz" not in idp.client_secret_hash
    assert "oidc-client-secret-xyz" not in text_of(result)
    assert "oidc-client-secret-xyz" not in audit_path.read_text()


async def test_set_oidc_idp_metadata_without_the_fields_of_its_type_is_a_propelauth_error(
    client: Client, sandbox: Sandbox
) -> None:
    text = await call_error(
        client, "set_oidc_idp_metadata", {"org_id": NORTHWIND, **OIDC_BASE, "idp_type": "Generic"}
    )
    assert "auth_url" in text
    assert sandbox.store.sso.oidc_idp(NORTHWIND) is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"idp_type": "Ping"}, "idp_type"),
        ({"uses_pkce": "yes"}, "uses_pkce"),
        ({"client_secret": ""}, "client_secret"),
    ],
)
async def test_set_oidc_idp_metadata_with_invalid_arguments_names_the_field_and_sends_nothing(
    client: Client, front: RecordingSandbox, change: dict[str, Any], field: str
) -> None:
    arguments = {"org_id": NORTHWIND, **OIDC_BASE, "idp_type": "Azure", "entra_tenant_id": "t-1", **change}
    assert field in await call_error(client, "set_oidc_idp_metadata", arguments)
    assert front.seen == []


# --- SCIM groups ----------------------------------------------------------------------------------------


async def test_fetch_scim_groups_lists_harbor_healths_groups(client: Client) -> None:
    page = structured(await call_ok(client, "fetch_scim_groups", {"org_id": HARBOR_HEALTH}))
    assert page["total_groups"] == 3
    assert {group["display_name"] for group in page["groups"]} == set(DEMO_SCIM_GROUPS)


async def test_fetch_scim_groups_of_an_unknown_org_is_not_found(client: Client) -> None:
    assert_names_missing(await call_error(client, "fetch_scim_groups", {"org_id": UNKNOWN_ORG}), UNKNOWN_ORG)


async def test_fetch_scim_group_answers_the_group_and_a_page_of_members(client: Client) -> None:
    arguments = {"org_id": HARBOR_HEALTH, "group_id": ALL_STAFF_ID, "members_page_size": 5}
    group = structured(await call_ok(client, "fetch_scim_group", arguments))
    assert (group["display_name"], group["external_id_from_idp"]) == ("All Staff", "okta-00g-all-staff")
    assert len(group["members"]) == 5


async def test_fetch_scim_group_of_another_org_is_not_found(client: Client) -> None:
    text = await call_error(client, "fetch_scim_group", {"org_id": LUMEN_LABS, "group_id": CLINICIANS_ID})
    assert_names_missing(text, CLINICIANS_ID)


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("fetch_scim_groups", {"org_id": HARBOR_HEALTH, "page_size": 0}, "page_size"),
        ("fetch_scim_groups", {"org_id": HARBOR_HEALTH, "user_id": "ada"}, "user_id"),
        ("fetch_scim_group", {"org_id": HARBOR_HEALTH, "group_id": "../x"}, "group_id"),
        (
            "fetch_scim_group",
            {"org_id": HARBOR_HEALTH, "group_id": CLINICIANS_ID, "members_page_number": -1},
            "members_page_number",
        ),
        (
            "create_saml_connection_link",
            {"org_id": HARBOR_HEALTH, "expires_in_seconds": 0},
            "expires_in_seconds",
        ),
        ("fetch_saml_sp_metadata", {"org_id": "harbor"}, "org_id"),
        ("allow_org_saml", {}, "org_id"),
        ("saml_go_live", {"org_id": "x", "confirm": True}, "org_id"),
        ("delete_saml_connection", {"confirm": True}, "org_id"),
    ],
)
async def test_an_sso_tool_with_invalid_arguments_names_the_field_and_sends_nothing(
    client: Client, front: RecordingSandbox, tool: str, arguments: dict[str, Any], field: str
) -> None:
    assert field in await call_error(client, tool, arguments)
    assert front.seen == []


# --- API keys: reads ------------------------------------------------------------------------------------


async def test_fetch_api_key_answers_owner_and_metadata_and_never_a_token(client: Client) -> None:
    result = await call_ok(client, "fetch_api_key", {"api_key_id": ERP_SYNC.api_key_id})
    key = structured(result)
    assert (key["org_id"], key["user_id"], key["metadata"]) == (NORTHWIND, None, {"system": "erp"})
    assert ERP_SYNC.token not in json.dumps(key) and ERP_SYNC.token not in text_of(result)


async def test_fetch_api_key_of_an_unknown_id_is_not_found(client: Client) -> None:
    assert_names_missing(
        await call_error(client, "fetch_api_key", {"api_key_id": UNKNOWN_KEY_ID}), UNKNOWN_KEY_ID
    )


async def test_fetch_api_keys_lists_the_current_keys_of_an_org(client: Client) -> None:
    page = structured(await call_ok(client, "fetch_api_keys", {"org_id": NORTHWIND}))
    assert [key["display_name"] for key in page["api_keys"]] == ["Northwind ERP sync"]
    assert page["total_api_keys"] == 1


async def test_fetch_archived_api_keys_lists_the_expired_and_deleted_keys(client: Client) -> None:
    page = structured(await call_ok(client, "fetch_archived_api_keys", {}))
    assert {key["display_name"] for key in page["api_keys"]} == {"Old Northwind import", "Leaked Lumen key"}


async def test_fetch_api_keys_by_user_email(client: Client) -> None:
    page = structured(await call_ok(client, "fetch_api_keys", {"user_email": "grace.hopper@example.com"}))
    assert [key["api_key_id"] for key in page["api_keys"]] == [GRACES_KEY.api_key_id]


# --- API keys: create, update, delete -------------------------------------------------------------------


async def test_create_api_key_returns_the_token_to_the_caller_and_keeps_it_out_of_audit_and_logs(
    client: Client, sandbox: Sandbox, audit_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = {
        "user_id": ADA,
        "org_id": LUMEN_LABS,
        "display_name": "Ada's deploy key",
        "metadata": {"env": "ci"},
    }
    created = structured(await call_ok(client, "create_api_key", arguments))
    token = created["api_key_token"]
    assert len(token) == 64 and is_live(sandbox, token)
    stored = sandbox.store.api_keys.get(created["api_key_id"])
    assert stored is not None and stored["display_name"] == "Ada's deploy key"
    records = [record for record in read_records(audit_path) if record["tool"] == "create_api_key"]
    assert [record["outcome"] for record in records if record["kind"] == "outcome"] == ["ok"]
    assert token not in audit_path.read_text()
    logged = capsys.readouterr()
    assert token not in logged.out + logged.err


async def test_create_api_key_for_a_user_outside_the_org_is_a_propelauth_error(client: Client) -> None:
    assert "user_id" in await call_error(client, "create_api_key", {"user_id": SOFIA, "org_id": LUMEN_LABS})


async def test_update_api_key_changes_its_metadata_and_expiry(client: Client, sandbox: Sandbox) -> None:
    expires = int(time.time()) + 86_400
    arguments = {
        "api_key_id": ADAS_CLI.api_key_id,
        "metadata": {"scope": "write"},
        "expires_at_seconds": expires,
    }
    await call_ok(client, "update_api_key", arguments)
    stored = sandbox.store.api_keys.get(ADAS_CLI.api_key_id)
    assert stored is not None and (stored["metadata"], stored["expires_at_seconds"]) == (
        {"scope": "write"},
        expires,
    )


async def test_update_api_key_of_a_deleted_key_is_not_found(client: Client) -> None:
    text = await call_error(
        client, "update_api_key", {"api_key_id": LEAKED.api_key_id, "set_to_never_expire": True}
    )
    assert_names_missing(text, LEAKED.api_key_id)


async def test_delete_api_key_confirmed_revokes_the_key_at_once(client: Client, sandbox: Sandbox) -> None:
    await call_ok(client, "delete_api_key", {"api_key_id": GRACES_KEY.api_key_id, "confirm": True})
    assert not is_live(sandbox, GRACES_KEY.token)
    assert (
        "invalid"
        in (await call_error(client, "validate_api_key", {"api_key_token": GRACES_KEY.token})).lower()
    )


async def test_delete_api_key_of_an_unknown_id_is_not_found(client: Client) -> None:
    text = await call_error(client, "delete_api_key", {"api_key_id": UNKNOWN_KEY_ID, "confirm": True})
    assert_names_missing(text, UNKNOWN_KEY_ID)


# --- API keys: validation, import, usage ----------------------------------------------------------------


async def test_validate_api_key_says_the_keys_user_org_and_membership(client: Client) -> None:
    answer = structured(await call_ok(client, "validate_api_key", {"api_key_token": GRACES_KEY.token}))
    assert answer["user"]["user_id"] == GRACE
    assert answer["org"]["org_id"] == LUMEN_LABS
    assert answer["user_in_org"] is not None


async def test_validate_api_key_of_a_deleted_key_answers_invalid_key(client: Client) -> None:
    assert (
        "invalid" in (await call_error(client, "validate_api_key", {"api_key_token": LEAKED.token})).lower()
    )


async def test_import_api_key_stores_a_key_that_validates_as_imported(
    client: Client, sandbox: Sandbox
) -> None:
    imported = "legacy-system-key-0001"
    result = await call_ok(client, "import_api_key", {"imported_api_key": imported, "org_id": NORTHWIND})
    assert sandbox.store.api_keys.get(structured(result)["api_key_id"]) is not None
    assert imported not in text_of(result)
    answer = structured(await call_ok(client, "validate_imported_api_key", {"api_key_token": imported}))
    assert answer["org"]["org_id"] == NORTHWIND and answer["user"] is None


async def test_import_api_key_twice_is_a_propelauth_error(client: Client) -> None:
    await call_ok(client, "import_api_key", {"imported_api_key": "legacy-twice", "user_id": ADA})
    assert "imported_api_key" in await call_error(
        client, "import_api_key", {"imported_api_key": "legacy-twice"}
    )


async def test_validate_imported_api_key_does_not_accept_a_created_key(client: Client) -> None:
    text = await call_error(client, "validate_imported_api_key", {"api_key_token": ADAS_CLI.token})
    assert "invalid" in text.lower() and ADAS_CLI.token not in text


async def test_fetch_api_key_usage_counts_todays_validations(client: Client) -> None:
    for _ in range(2):
        await call_ok(client, "validate_api_key", {"api_key_token": ADAS_CLI.token})
    usage = structured(
        await call_ok(client, "fetch_api_key_usage", {"date": today(), "api_key_id": ADAS_CLI.api_key_id})
    )
    assert usage["count"] == 2


async def test_fetch_api_key_usage_of_an_impossible_date_is_a_propelauth_error(client: Client) -> None:
    assert "date" in await call_error(client, "fetch_api_key_usage", {"date": "2026-02-31"})


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("fetch_api_key", {"api_key_id": "ADA"}, "api_key_id"),
        ("fetch_api_keys", {"page_size": 101}, "page_size"),
        ("fetch_archived_api_keys", {"user_email": "not-an-email"}, "user_email"),
        ("create_api_key", {"org_id": "northwind"}, "org_id"),
        ("create_api_key", {"user_id": ADA, "token": "mine"}, "token"),
        ("update_api_key", {"api_key_id": ADAS_CLI.api_key_id, "metadata": "scope"}, "metadata"),
        ("delete_api_key", {"api_key_id": "../x", "confirm": True}, "api_key_id"),
        ("validate_api_key", {"api_key_token": ""}, "api_key_token"),
        ("import_api_key", {"org_id": NORTHWIND}, "imported_api_key"),
        ("validate_imported_api_key", {}, "api_key_token"),
        ("fetch_api_key_usage", {"date": "01/12/2026"}, "date"),
        ("fetch_api_key_usage", {"date": "2026-12-01", "user_id": "ada"}, "user_id"),
    ],
)
async def test_an_api_key_tool_with_invalid_arguments_names_the_field_and_sends_nothing(
    client: Client, front: RecordingSandbox, tool: str, arguments: dict[str, Any], field: str
) -> None:
    assert field in await call_error(client, tool, arguments)
    assert front.seen == []


async def test_update_api_key_with_nothing_to_change_is_refused_and_sends_nothing(
    client: Client, front: RecordingSandbox
) -> None:
    await call_error(client, "update_api_key", {"api_key_id": ADAS_CLI.api_key_id})
    assert front.seen == []


# --- insights -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("report", "interval"),
    [("reengagement", "Weekly"), ("churn", "30"), ("top_inviter", "90"), ("champion", None)],
)
async def test_fetch_user_report_answers_a_page_of_the_report(
    client: Client, report: str, interval: str | None
) -> None:
    arguments: dict[str, Any] = {"report": report, "page_size": 5}
    if interval is not None:
        arguments["report_interval"] = interval
    page = structured(await call_ok(client, "fetch_user_report", arguments))
    assert len(page["user_reports"]) <= 5 and page["total_count"] >= len(page["user_reports"])


@pytest.mark.parametrize("report", ["attrition", "reengagement", "growth", "churn"])
async def test_fetch_org_report_answers_a_page_of_the_report(client: Client, report: str) -> None:
    page = structured(await call_ok(client, "fetch_org_report", {"report": report}))
    assert {org["org_id"] for org in page["org_reports"]} <= {LUMEN_LABS, NORTHWIND, HARBOR_HEALTH}


async def test_fetch_org_report_with_an_interval_of_another_report_is_a_propelauth_error(
    client: Client,
) -> None:
    assert "report_interval" in await call_error(
        client, "fetch_org_report", {"report": "growth", "report_interval": "Weekly"}
    )


@pytest.mark.parametrize("cadence", ["Daily", "Weekly", "Monthly"])
async def test_fetch_chart_metrics_answers_a_point_per_period(client: Client, cadence: str) -> None:
    arguments = {
        "metric": "signups",
        "cadence": cadence,
        "start_date": "2026-01-05",
        "end_date": "2026-03-01",
    }
    chart = structured(await call_ok(client, "fetch_chart_metrics", arguments))
    expected = {"Daily": 56, "Weekly": 8, "Monthly": 3}[cadence]
    assert len(chart["metrics"]) == expected


async def test_fetch_chart_metrics_of_the_last_30_days_counts_the_demo_signups(
    client: Client, sandbox: Sandbox
) -> None:
    chart = structured(await call_ok(client, "fetch_chart_metrics", {"metric": "signups"}))
    assert len(chart["metrics"]) >= 30
    assert sum(point["result"] for point in chart["metrics"]) <= sandbox.store.count_users()


async def test_fetch_chart_metrics_ending_before_it_starts_is_a_propelauth_error(client: Client) -> None:
    text = await call_error(
        client,
        "fetch_chart_metrics",
        {"metric": "active_orgs", "start_date": "2026-03-01", "end_date": "2026-01-01"},
    )
    assert "date" in text


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("fetch_user_report", {"report": "growth"}, "report"),
        ("fetch_user_report", {"report": "churn", "report_interval": "45"}, "report_interval"),
        ("fetch_user_report", {}, "report"),
        ("fetch_org_report", {"report": "churn", "page_number": -1}, "page_number"),
        ("fetch_chart_metrics", {"metric": "revenue"}, "metric"),
        ("fetch_chart_metrics", {"metric": "signups", "cadence": "Hourly"}, "cadence"),
        ("fetch_chart_metrics", {"metric": "signups", "start_date": "yesterday"}, "start_date"),
    ],
)
async def test_an_insights_tool_with_invalid_arguments_names_the_field_and_sends_nothing(
    client: Client, front: RecordingSandbox, tool: str, arguments: dict[str, Any], field: str
) -> None:
    assert field in await call_error(client, tool, arguments)
    assert front.seen == []
