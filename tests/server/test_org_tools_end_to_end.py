"""The organization tools through the official MCP client against the sandbox: success, not found,
invalid arguments; delete_org's gate and preview; the audit target; 426 with organizations off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from sandbox import Sandbox
from sandbox.demo import HARBOR_HEALTH, LUMEN_LABS, NORTHWIND
from server.audit import AuditTrail
from server.settings import Settings
from tests.server.org_testkit import (
    ADA,
    UNKNOWN_ORG,
    call_error,
    call_ok,
    call_preview,
    call_unconfirmed,
    org_state,
    recorded_client,
    structured,
    text_of,
    writes,
)
from tests.trust.conftest import RecordingSandbox, read_records

pytestmark = pytest.mark.anyio


@pytest.fixture
def front(sandbox_app: Any) -> RecordingSandbox:
    return RecordingSandbox(app=sandbox_app)


@pytest.fixture
async def client(settings: Settings, audit: AuditTrail, front: RecordingSandbox) -> AsyncIterator[Client]:
    async with recorded_client(settings, audit, front) as connected:
        yield connected


# --- fetch_org -----------------------------------------------------------------------------------------


async def test_fetch_org_returns_the_org_and_says_it_in_one_line(client: Client) -> None:
    result = await call_ok(client, "fetch_org", {"org_id": LUMEN_LABS})
    org = structured(result)
    assert (org["org_id"], org["name"], org["domain"], org["max_users"]) == (
        LUMEN_LABS,
        "Lumen Labs",
        "example.com",
        50,
    )
    text = text_of(result)
    assert "Lumen Labs" in text and LUMEN_LABS in text
    assert len(text.strip().splitlines()) == 1


async def test_an_uppercase_org_id_is_accepted_and_sent_lower_cased(client: Client) -> None:
    result = await call_ok(client, "fetch_org", {"org_id": NORTHWIND.upper()})
    assert structured(result)["org_id"] == NORTHWIND


async def test_fetching_an_unknown_org_says_which_org_was_not_found(client: Client) -> None:
    assert UNKNOWN_ORG in await call_error(client, "fetch_org", {"org_id": UNKNOWN_ORG})


# Valid arguments of each tool that names an org by id, apart from the org id itself.
ORG_ID_TOOLS: dict[str, dict[str, Any]] = {
    "fetch_org": {},
    "update_org": {"name": "Renamed"},
    "delete_org": {"confirm": True},
    "fetch_users_in_org": {},
}


@pytest.mark.parametrize("tool", sorted(ORG_ID_TOOLS))
@pytest.mark.parametrize(
    "org_id", ["../user/x", "lumen-labs", "", None], ids=["path", "slug", "empty", "missing"]
)
async def test_a_malformed_org_id_is_refused_naming_it_and_nothing_is_sent(
    client: Client, front: RecordingSandbox, sandbox: Sandbox, tool: str, org_id: str | None
) -> None:
    before = org_state(sandbox)
    arguments = {**ORG_ID_TOOLS[tool], **({} if org_id is None else {"org_id": org_id})}
    assert "org_id" in await call_error(client, tool, arguments)
    assert front.seen == [] and org_state(sandbox) == before


# --- query_orgs ----------------------------------------------------------------------------------------


async def test_query_orgs_by_name_substring_ignores_case(client: Client) -> None:
    result = await call_ok(client, "query_orgs", {"name": "NORTH"})
    page = structured(result)
    assert [org["org_id"] for org in page["orgs"]] == [NORTHWIND]
    assert page["total_orgs"] == 1 and "Northwind Traders" in text_of(result)


async def test_query_orgs_by_domain_and_by_legacy_org_id(client: Client) -> None:
    by_domain = await call_ok(client, "query_orgs", {"domain": "harborhealth.example"})
    by_legacy = await call_ok(client, "query_orgs", {"legacy_org_id": "nw-legacy-1987"})
    assert [org["org_id"] for org in structured(by_domain)["orgs"]] == [HARBOR_HEALTH]
    assert [org["org_id"] for org in structured(by_legacy)["orgs"]] == [NORTHWIND]


async def test_query_orgs_pages_in_name_order(client: Client) -> None:
    first = structured(await call_ok(client, "query_orgs", {"order_by": "NAME", "page_size": 2}))
    second = structured(
        await call_ok(client, "query_orgs", {"order_by": "NAME", "page_size": 2, "page_number": 1})
    )
    assert [org["name"] for org in first["orgs"]] == ["Harbor Health", "Lumen Labs"]
    assert first["has_more_results"] is True
    assert [org["name"] for org in second["orgs"]] == ["Northwind Traders"]
    assert second["has_more_results"] is False


async def test_query_orgs_matching_nothing_is_an_empty_page_not_an_error(client: Client) -> None:
    result = await call_ok(client, "query_orgs", {"name": "no such organization"})
    assert structured(result)["orgs"] == [] and structured(result)["total_orgs"] == 0


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
        ({"page_number": -1}, "page_number"),
        ({"order_by": "SIZE"}, "order_by"),
        ({"name": 7}, "name"),
    ],
)
async def test_query_orgs_with_invalid_arguments_names_the_field_and_sends_nothing(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any], field: str
) -> None:
    assert field in await call_error(client, "query_orgs", arguments)
    assert front.seen == []


# --- create_org and update_org -------------------------------------------------------------------------


async def test_create_org_returns_the_new_id_and_the_org_exists(client: Client, sandbox: Sandbox) -> None:
    result = await call_ok(
        client, "create_org", {"name": "Acme Rockets", "domain": "acme.example", "max_users": 5}
    )
    org_id = structured(result)["org_id"]
    stored = sandbox.store.orgs.get(org_id)
    assert stored is not None
    assert (stored["name"], stored["domain"], stored["max_users"]) == ("Acme Rockets", "acme.example", 5)
    assert (stored["domain_autojoin"], stored["domain_restrict"]) == (False, False)


async def test_create_org_with_an_unknown_role_mapping_lists_the_field_error_and_creates_nothing(
    client: Client, sandbox: Sandbox
) -> None:
    before = org_state(sandbox)
    text = await call_error(
        client, "create_org", {"name": "Acme", "custom_role_mapping_name": "No Such Mapping"}
    )
    assert "custom_role_mapping_name" in text and "No Such Mapping" in text
    assert org_state(sandbox) == before


@pytest.mark.parametrize(
    "arguments",
    [{}, {"name": ""}, {"name": "Acme", "max_users": 0}, {"name": "Acme", "colour": "red"}],
    ids=["missing-name", "empty-name", "max-users-0", "unknown-argument"],
)
async def test_create_org_with_invalid_arguments_sends_nothing(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any]
) -> None:
    await call_error(client, "create_org", arguments)
    assert front.seen == []


async def test_update_org_changes_only_the_given_fields(client: Client, sandbox: Sandbox) -> None:
    before = sandbox.store.orgs.get(NORTHWIND)
    assert before is not None
    await call_ok(
        client, "update_org", {"org_id": NORTHWIND, "name": "Northwind Trading Co", "max_users": 40}
    )
    after = sandbox.store.orgs.get(NORTHWIND)
    assert after is not None
    assert (after["name"], after["max_users"]) == ("Northwind Trading Co", 40)
    unchanged = {k: v for k, v in after.items() if k not in ("name", "max_users", "url_safe_org_slug")}
    assert unchanged == {
        k: v for k, v in before.items() if k not in ("name", "max_users", "url_safe_org_slug")
    }


async def test_update_org_subscribes_the_org_to_a_role_mapping(client: Client, sandbox: Sandbox) -> None:
    await call_ok(
        client, "update_org", {"org_id": NORTHWIND, "custom_role_mapping_name": "Reseller Partners"}
    )
    assert sandbox.store.orgs.get(NORTHWIND)["custom_role_mapping_name"] == "Reseller Partners"  # type: ignore[index]
    mappings = structured(await call_ok(client, "fetch_custom_role_mappings", {}))["custom_role_mappings"]
    assert {"custom_role_mapping_name": "Reseller Partners", "num_orgs_subscribed": 1} in mappings


async def test_update_org_to_a_mapping_missing_a_held_role_is_refused_naming_the_role(
    client: Client, sandbox: Sandbox
) -> None:
    # Lumen Labs has a Support Agent; "Reseller Partners" defines no such role.
    before = org_state(sandbox)
    text = await call_error(
        client, "update_org", {"org_id": LUMEN_LABS, "custom_role_mapping_name": "Reseller Partners"}
    )
    assert "custom_role_mapping_name" in text and "Support Agent" in text
    assert org_state(sandbox) == before


async def test_update_org_below_its_member_count_is_refused_and_changes_nothing(
    client: Client, sandbox: Sandbox
) -> None:
    before = org_state(sandbox)
    assert "max_users" in await call_error(client, "update_org", {"org_id": LUMEN_LABS, "max_users": 2})
    assert org_state(sandbox) == before


async def test_updating_an_unknown_org_says_which_org_was_not_found(client: Client) -> None:
    assert UNKNOWN_ORG in await call_error(client, "update_org", {"org_id": UNKNOWN_ORG, "name": "Ghost"})


@pytest.mark.parametrize(
    "arguments",
    [{"org_id": NORTHWIND}, {"org_id": NORTHWIND, "name": ""}, {"org_id": NORTHWIND, "colour": "red"}],
    ids=["nothing-to-change", "empty-name", "unknown-argument"],
)
async def test_update_org_with_invalid_arguments_sends_nothing(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any]
) -> None:
    await call_error(client, "update_org", arguments)
    assert front.seen == []


# --- fetch_custom_role_mappings ------------------------------------------------------------------------


async def test_role_mappings_list_each_mapping_with_its_subscribers(client: Client) -> None:
    result = await call_ok(client, "fetch_custom_role_mappings", {})
    assert sorted(
        (m["custom_role_mapping_name"], m["num_orgs_subscribed"])
        for m in structured(result)["custom_role_mappings"]
    ) == [("Clinical Roles", 1), ("Reseller Partners", 0)]
    assert "Clinical Roles" in text_of(result)


async def test_role_mappings_take_no_arguments(client: Client, front: RecordingSandbox) -> None:
    await call_error(client, "fetch_custom_role_mappings", {"org_id": LUMEN_LABS})
    assert front.seen == []


# --- delete_org: the gate --------------------------------------------------------------------------------


@pytest.mark.parametrize("confirm", [None, False, "true", 1])
async def test_delete_org_without_confirm_true_leaves_the_sandbox_unchanged_and_sends_no_write(
    client: Client, sandbox: Sandbox, front: RecordingSandbox, confirm: Any
) -> None:
    before = org_state(sandbox)
    arguments: dict[str, Any] = {"org_id": LUMEN_LABS}
    if confirm is not None:
        arguments["confirm"] = confirm
    await call_unconfirmed(client, "delete_org", arguments)
    assert org_state(sandbox) == before
    assert writes(front) == []


async def test_the_delete_org_preview_names_the_org_its_domain_members_and_pending_invites(
    client: Client,
) -> None:
    text = await call_preview(client, "delete_org", {"org_id": LUMEN_LABS})
    for fact in ("Lumen Labs", "example.com", "13 members", "2 pending invites", "confirm"):
        assert fact in text


async def test_the_delete_org_preview_of_an_empty_org_says_no_members_and_no_domain(
    client: Client, sandbox: Sandbox
) -> None:
    org_id = structured(await call_ok(client, "create_org", {"name": "Empty Shell"}))["org_id"]
    text = await call_preview(client, "delete_org", {"org_id": org_id})
    assert "Empty Shell" in text and "0 members" in text and "0 pending invites" in text
    assert sandbox.store.orgs.get(org_id) is not None


async def test_the_delete_org_preview_is_recorded_as_awaiting_confirmation(
    client: Client, audit_path: Path
) -> None:
    await call_preview(client, "delete_org", {"org_id": HARBOR_HEALTH})
    [record] = [r for r in read_records(audit_path) if r["tool"] == "delete_org"]
    assert (record["outcome"], record["confirmed"], record["details"]["reason"]) == (
        "preview",
        False,
        "confirmation_required",
    )
    assert record["target"] == {"org_id": HARBOR_HEALTH}
    assert record["details"]["preview"]["name"] == "Harbor Health"
    assert record["details"]["preview"]["members"] == 11


async def test_the_delete_org_preview_of_an_unknown_org_says_it_does_not_exist(
    client: Client, front: RecordingSandbox
) -> None:
    text = await call_error(client, "delete_org", {"org_id": UNKNOWN_ORG})
    assert UNKNOWN_ORG in text and "confirm: true" not in text
    assert writes(front) == []


async def test_confirmed_delete_org_removes_the_org_its_memberships_and_invites(
    client: Client, sandbox: Sandbox
) -> None:
    await call_ok(client, "delete_org", {"org_id": LUMEN_LABS, "confirm": True})
    assert sandbox.store.orgs.get(LUMEN_LABS) is None
    assert LUMEN_LABS not in sandbox.store.get_user(ADA, include_orgs=True)["org_id_to_org_info"]  # type: ignore[index]
    invites, _ = sandbox.store.invites.pending_page(
        now=sandbox.now(), org_id=None, page_size=100, page_number=0
    )
    assert all(invite["org_id"] != LUMEN_LABS for invite in invites)
    assert sandbox.store.get_user(ADA) is not None  # the users stay


async def test_confirmed_delete_of_an_unknown_org_says_which_org(client: Client) -> None:
    assert UNKNOWN_ORG in await call_error(client, "delete_org", {"org_id": UNKNOWN_ORG, "confirm": True})


async def test_a_confirmed_delete_org_is_audited_intent_then_outcome_naming_the_org(
    client: Client, audit_path: Path
) -> None:
    await call_ok(client, "delete_org", {"org_id": NORTHWIND, "confirm": True})
    records = [r for r in read_records(audit_path) if r["tool"] == "delete_org"]
    assert [(r["kind"], r["outcome"], r["confirmed"]) for r in records] == [
        ("intent", None, True),
        ("outcome", "ok", True),
    ]
    assert all(r["target"] == {"org_id": NORTHWIND} for r in records)


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("fetch_org", {"org_id": LUMEN_LABS}),
        ("update_org", {"org_id": LUMEN_LABS, "name": "Lumen"}),
        ("fetch_users_in_org", {"org_id": LUMEN_LABS}),
    ],
)
async def test_an_org_read_or_write_is_audited_with_the_org_as_target(
    client: Client, audit_path: Path, tool: str, arguments: dict[str, Any]
) -> None:
    await call_ok(client, tool, arguments)
    records = [r for r in read_records(audit_path) if r["tool"] == tool]
    assert records and all(record["target"] == {"org_id": LUMEN_LABS} for record in records)


# --- organizations turned off ----------------------------------------------------------------------------


ORG_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("fetch_org", {"org_id": LUMEN_LABS}),
    ("query_orgs", {}),
    ("create_org", {"name": "Acme"}),
    ("update_org", {"org_id": LUMEN_LABS, "name": "Lumen"}),
    ("delete_org", {"org_id": LUMEN_LABS, "confirm": True}),
    ("delete_org", {"org_id": LUMEN_LABS}),
    ("fetch_custom_role_mappings", {}),
    ("fetch_users_in_org", {"org_id": LUMEN_LABS}),
    ("add_user_to_org", {"user_id": ADA, "org_id": HARBOR_HEALTH, "role": "Member"}),
    # The membership previews read the user (a user endpoint): organizations off shows on the write.
    ("change_user_role_in_org", {"user_id": ADA, "org_id": LUMEN_LABS, "role": "Admin", "confirm": True}),
    ("remove_user_from_org", {"user_id": ADA, "org_id": LUMEN_LABS, "confirm": True}),
    ("invite_user_to_org", {"email": "new.hire@example.com", "org_id": LUMEN_LABS, "role": "Member"}),
    ("fetch_pending_invites", {"org_id": LUMEN_LABS}),
    ("revoke_pending_invite", {"invitee_email": "jordan.blake@example.com", "org_id": LUMEN_LABS}),
]


@pytest.mark.parametrize(("tool", "arguments"), ORG_CALLS, ids=[t for t, _ in ORG_CALLS])
async def test_with_organizations_off_an_org_tool_says_they_are_not_enabled_and_changes_nothing(
    client: Client, sandbox: Sandbox, tool: str, arguments: dict[str, Any]
) -> None:
    sandbox.orgs_enabled = False
    before = org_state(sandbox)
    text = await call_error(client, tool, arguments)
    assert "not enabled" in text.lower() and "426" in text
    assert org_state(sandbox) == before
