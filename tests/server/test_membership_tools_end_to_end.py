"""The membership and invite tools through the official MCP client against the sandbox: success, not
found, invalid arguments; the gates of change_user_role_in_org, remove_user_from_org and
revoke_pending_invite and their previews; the audit target; the blast-radius limit."""

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
from tests.conftest import make_settings
from tests.server.org_testkit import (
    ADA,
    GRACE,
    LIAM,
    SOFIA,
    UNKNOWN,
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

JORDAN = "jordan.blake@example.com"  # invited to Lumen Labs as Member + Billing Admin by Ada
NOOR = "noor.hassan@example.com"  # invited to Lumen Labs as Admin by Grace
SAM = "sam.taylor@example.com"  # invited to Northwind, expired


@pytest.fixture
def front(sandbox_app: Any) -> RecordingSandbox:
    return RecordingSandbox(app=sandbox_app)


@pytest.fixture
async def client(settings: Settings, audit: AuditTrail, front: RecordingSandbox) -> AsyncIterator[Client]:
    async with recorded_client(settings, audit, front) as connected:
        yield connected


def role_of(sandbox: Sandbox, user_id: str, org_id: str) -> tuple[str, tuple[str, ...]] | None:
    membership = sandbox.store.orgs.membership(user_id, org_id)
    return None if membership is None else (membership.role, membership.additional_roles)


def pending(sandbox: Sandbox, org_id: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    invites, _ = sandbox.store.invites.pending_page(
        now=sandbox.now(), org_id=org_id, page_size=100, page_number=0
    )
    return {(invite["invitee_email"], invite["org_id"]): invite for invite in invites}


async def refused_before_sending(
    client: Client, front: RecordingSandbox, tool: str, arguments: dict[str, Any]
) -> str:
    text = await call_error(client, tool, arguments)
    assert front.seen == []
    return text


# --- fetch_users_in_org ----------------------------------------------------------------------------------


async def test_fetch_users_in_org_lists_members_one_per_line_with_their_role(client: Client) -> None:
    result = await call_ok(client, "fetch_users_in_org", {"org_id": LUMEN_LABS, "page_size": 100})
    page = structured(result)
    assert page["total_users"] == 13 and len(page["users"]) == 13
    roles = {user["email"]: user["role_in_org"] for user in page["users"]}
    assert (roles["ada@example.com"], roles["grace.hopper@example.com"]) == ("Owner", "Admin")
    [ada_line] = [line for line in text_of(result).splitlines() if "ada@example.com" in line]
    assert "Owner" in ada_line


async def test_fetch_users_in_org_filters_by_exact_role(client: Client) -> None:
    result = await call_ok(client, "fetch_users_in_org", {"org_id": LUMEN_LABS, "role": "Owner"})
    assert [user["user_id"] for user in structured(result)["users"]] == [ADA]


async def test_fetch_users_in_org_pages(client: Client) -> None:
    page = structured(await call_ok(client, "fetch_users_in_org", {"org_id": LUMEN_LABS, "page_size": 5}))
    assert len(page["users"]) == 5 and page["has_more_results"] is True


async def test_fetch_users_in_org_by_an_unknown_role_is_refused_naming_the_role(client: Client) -> None:
    text = await call_error(client, "fetch_users_in_org", {"org_id": LUMEN_LABS, "role": "Wizard"})
    assert "role" in text and "Wizard" in text


async def test_fetch_users_in_an_unknown_org_says_which_org(client: Client) -> None:
    assert UNKNOWN_ORG in await call_error(client, "fetch_users_in_org", {"org_id": UNKNOWN_ORG})


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"org_id": LUMEN_LABS, "page_size": 0}, "page_size"),
        ({"org_id": LUMEN_LABS, "page_size": 101}, "page_size"),
        ({"org_id": LUMEN_LABS, "include_orgs": "yes"}, "include_orgs"),
        ({"org_id": LUMEN_LABS, "role": ""}, "role"),
    ],
)
async def test_fetch_users_in_org_with_invalid_arguments_names_the_field_and_sends_nothing(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any], field: str
) -> None:
    assert field in await refused_before_sending(client, front, "fetch_users_in_org", arguments)


# --- add_user_to_org -------------------------------------------------------------------------------------


async def test_add_user_to_org_makes_the_user_a_member_with_the_roles(
    client: Client, sandbox: Sandbox
) -> None:
    await call_ok(
        client,
        "add_user_to_org",
        {"user_id": SOFIA, "org_id": LUMEN_LABS, "role": "Admin", "additional_roles": ["Billing Admin"]},
    )
    assert role_of(sandbox, SOFIA, LUMEN_LABS) == ("Admin", ("Billing Admin",))
    user = sandbox.store.get_user(SOFIA, include_orgs=True)
    assert user is not None and user["org_id_to_org_info"][LUMEN_LABS]["user_role"] == "Admin"


async def test_add_user_to_org_without_additional_roles_gives_none(client: Client, sandbox: Sandbox) -> None:
    await call_ok(client, "add_user_to_org", {"user_id": LIAM, "org_id": NORTHWIND, "role": "Member"})
    assert role_of(sandbox, LIAM, NORTHWIND) == ("Member", ())


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"user_id": UNKNOWN, "org_id": LUMEN_LABS, "role": "Member"}, UNKNOWN),
        ({"user_id": SOFIA, "org_id": UNKNOWN_ORG, "role": "Member"}, UNKNOWN_ORG),
    ],
    ids=["unknown-user", "unknown-org"],
)
async def test_add_user_to_org_with_an_unknown_user_or_org_names_it(
    client: Client, sandbox: Sandbox, arguments: dict[str, Any], named: str
) -> None:
    before = org_state(sandbox)
    assert named in await call_error(client, "add_user_to_org", arguments)
    assert org_state(sandbox) == before


@pytest.mark.parametrize(
    ("arguments", "fact"),
    [
        ({"user_id": SOFIA, "org_id": LUMEN_LABS, "role": "Wizard"}, "Wizard"),
        (
            {"user_id": SOFIA, "org_id": LUMEN_LABS, "role": "Member", "additional_roles": ["Clinician"]},
            "Clinician",
        ),
        ({"user_id": ADA, "org_id": LUMEN_LABS, "role": "Member"}, "already a member"),
        ({"user_id": SOFIA, "org_id": HARBOR_HEALTH, "role": "Member"}, "limit"),
    ],
    ids=["unknown-role", "unknown-additional-role", "already-a-member", "org-at-max-users"],
)
async def test_add_user_to_org_against_a_rule_says_why_and_changes_nothing(
    client: Client, sandbox: Sandbox, arguments: dict[str, Any], fact: str
) -> None:
    before = org_state(sandbox)
    assert fact in await call_error(client, "add_user_to_org", arguments)
    assert org_state(sandbox) == before


async def test_add_user_to_org_outside_a_restricted_domain_is_refused(
    client: Client, sandbox: Sandbox
) -> None:
    created = await call_ok(client, "create_user", {"email": "outsider@elsewhere.example"})
    outsider = structured(created)["user_id"]
    text = await call_error(
        client, "add_user_to_org", {"user_id": outsider, "org_id": LUMEN_LABS, "role": "Member"}
    )
    assert "example.com" in text
    assert role_of(sandbox, outsider, LUMEN_LABS) is None


@pytest.mark.parametrize(
    "arguments",
    [
        {"user_id": SOFIA, "org_id": LUMEN_LABS},
        {"user_id": SOFIA, "org_id": LUMEN_LABS, "role": ""},
        {"user_id": "sofia", "org_id": LUMEN_LABS, "role": "Member"},
        {"user_id": SOFIA, "org_id": LUMEN_LABS, "role": "Member", "additional_roles": "Billing Admin"},
        {"user_id": SOFIA, "org_id": LUMEN_LABS, "role": "Member", "confirm": True},
    ],
    ids=["missing-role", "empty-role", "bad-user-id", "additional-roles-not-a-list", "unknown-argument"],
)
async def test_add_user_to_org_with_invalid_arguments_sends_nothing(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any]
) -> None:
    await refused_before_sending(client, front, "add_user_to_org", arguments)


# --- change_user_role_in_org (gated) ---------------------------------------------------------------------


@pytest.mark.parametrize("confirm", [None, False, "true", 1])
async def test_change_role_without_confirm_true_leaves_the_sandbox_unchanged_and_sends_no_write(
    client: Client, sandbox: Sandbox, front: RecordingSandbox, confirm: Any
) -> None:
    before = org_state(sandbox)
    arguments: dict[str, Any] = {"user_id": ADA, "org_id": LUMEN_LABS, "role": "Member"}
    if confirm is not None:
        arguments["confirm"] = confirm
    await call_unconfirmed(client, "change_user_role_in_org", arguments)
    assert org_state(sandbox) == before and writes(front) == []


async def test_the_change_role_preview_names_the_user_the_org_the_current_and_the_new_role(
    client: Client,
) -> None:
    text = await call_preview(
        client, "change_user_role_in_org", {"user_id": ADA, "org_id": LUMEN_LABS, "role": "Member"}
    )
    for fact in ("ada@example.com", "Ada Lovelace", "Lumen Labs", "Owner", "Member", "confirm"):
        assert fact in text


async def test_confirmed_change_role_sets_the_role_and_replaces_the_additional_roles(
    client: Client, sandbox: Sandbox
) -> None:
    assert role_of(sandbox, GRACE, LUMEN_LABS) == ("Admin", ("Billing Admin",))
    await call_ok(
        client,
        "change_user_role_in_org",
        {
            "user_id": GRACE,
            "org_id": LUMEN_LABS,
            "role": "Member",
            "additional_roles": ["Support Agent"],
            "confirm": True,
        },
    )
    assert role_of(sandbox, GRACE, LUMEN_LABS) == ("Member", ("Support Agent",))


async def test_confirmed_change_role_without_additional_roles_clears_them(
    client: Client, sandbox: Sandbox
) -> None:
    await call_ok(
        client,
        "change_user_role_in_org",
        {"user_id": GRACE, "org_id": LUMEN_LABS, "role": "Admin", "confirm": True},
    )
    assert role_of(sandbox, GRACE, LUMEN_LABS) == ("Admin", ())


async def test_the_change_role_preview_of_a_non_member_says_so_and_sends_no_write(
    client: Client, front: RecordingSandbox
) -> None:
    text = await call_error(
        client, "change_user_role_in_org", {"user_id": SOFIA, "org_id": LUMEN_LABS, "role": "Admin"}
    )
    assert "not a member" in text and "confirm: true" not in text
    assert writes(front) == []


async def test_the_change_role_preview_of_an_unknown_user_names_the_user(client: Client) -> None:
    text = await call_error(
        client, "change_user_role_in_org", {"user_id": UNKNOWN, "org_id": LUMEN_LABS, "role": "Admin"}
    )
    assert UNKNOWN in text and "confirm: true" not in text


async def test_confirmed_change_to_an_unknown_role_names_it_and_keeps_the_role(
    client: Client, sandbox: Sandbox
) -> None:
    text = await call_error(
        client,
        "change_user_role_in_org",
        {"user_id": ADA, "org_id": LUMEN_LABS, "role": "Wizard", "confirm": True},
    )
    assert "Wizard" in text
    assert role_of(sandbox, ADA, LUMEN_LABS) == ("Owner", ())


@pytest.mark.parametrize(
    "arguments",
    [
        {"user_id": ADA, "org_id": LUMEN_LABS, "confirm": True},
        {"user_id": ADA, "org_id": "lumen", "role": "Admin", "confirm": True},
        {"user_id": ADA, "role": "Admin", "confirm": True},
    ],
    ids=["missing-role", "bad-org-id", "missing-org-id"],
)
async def test_change_role_with_invalid_arguments_sends_nothing(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any]
) -> None:
    await refused_before_sending(client, front, "change_user_role_in_org", arguments)


# --- remove_user_from_org (gated) ------------------------------------------------------------------------


@pytest.mark.parametrize("confirm", [None, False, "true", 1])
async def test_remove_without_confirm_true_leaves_the_sandbox_unchanged_and_sends_no_write(
    client: Client, sandbox: Sandbox, front: RecordingSandbox, confirm: Any
) -> None:
    before = org_state(sandbox)
    arguments: dict[str, Any] = {"user_id": ADA, "org_id": NORTHWIND}
    if confirm is not None:
        arguments["confirm"] = confirm
    await call_unconfirmed(client, "remove_user_from_org", arguments)
    assert org_state(sandbox) == before and writes(front) == []


async def test_the_remove_preview_names_the_user_the_org_and_the_current_role(client: Client) -> None:
    text = await call_preview(client, "remove_user_from_org", {"user_id": ADA, "org_id": NORTHWIND})
    for fact in ("ada@example.com", "Ada Lovelace", "Northwind Traders", "Member", "confirm"):
        assert fact in text


async def test_confirmed_remove_ends_the_membership_and_keeps_the_user(
    client: Client, sandbox: Sandbox
) -> None:
    await call_ok(client, "remove_user_from_org", {"user_id": ADA, "org_id": NORTHWIND, "confirm": True})
    assert role_of(sandbox, ADA, NORTHWIND) is None
    user = sandbox.store.get_user(ADA, include_orgs=True)
    assert user is not None and NORTHWIND not in user["org_id_to_org_info"]
    assert LUMEN_LABS in user["org_id_to_org_info"]
    fetched = await call_ok(client, "fetch_user_by_id", {"user_id": ADA, "include_orgs": True})
    assert NORTHWIND not in structured(fetched)["org_id_to_org_info"]


async def test_the_remove_preview_of_a_non_member_says_so_and_sends_no_write(
    client: Client, front: RecordingSandbox
) -> None:
    text = await call_error(client, "remove_user_from_org", {"user_id": SOFIA, "org_id": NORTHWIND})
    assert "not a member" in text and "confirm: true" not in text
    assert writes(front) == []


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("remove_user_from_org", {"user_id": SOFIA, "org_id": NORTHWIND, "confirm": True}),
        (
            "change_user_role_in_org",
            {"user_id": SOFIA, "org_id": NORTHWIND, "role": "Admin", "confirm": True},
        ),
    ],
)
async def test_a_confirmed_change_for_a_non_member_says_they_are_not_a_member(
    client: Client, sandbox: Sandbox, tool: str, arguments: dict[str, Any]
) -> None:
    before = org_state(sandbox)
    text = await call_error(client, tool, arguments)
    assert org_state(sandbox) == before
    assert "not a member" in text.lower()


@pytest.mark.parametrize(
    "arguments",
    [{"user_id": ADA, "confirm": True}, {"user_id": "ada", "org_id": NORTHWIND, "confirm": True}],
    ids=["missing-org-id", "bad-user-id"],
)
async def test_remove_with_invalid_arguments_sends_nothing(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any]
) -> None:
    await refused_before_sending(client, front, "remove_user_from_org", arguments)


# --- invite_user_to_org and invite_user_to_org_by_user_id ------------------------------------------------


async def test_invite_user_to_org_leaves_a_pending_invite_with_the_role(
    client: Client, sandbox: Sandbox
) -> None:
    await call_ok(
        client,
        "invite_user_to_org",
        {
            "email": "new.hire@example.com",
            "org_id": LUMEN_LABS,
            "role": "Admin",
            "additional_roles": ["Support Agent"],
        },
    )
    invite = pending(sandbox)[("new.hire@example.com", LUMEN_LABS)]
    assert (invite["role_in_org"], invite["additional_roles_in_org"]) == ("Admin", ["Support Agent"])


@pytest.mark.parametrize(
    ("arguments", "fact"),
    [
        ({"email": "ada@example.com", "org_id": LUMEN_LABS, "role": "Member"}, "already a member"),
        ({"email": "new.hire@example.com", "org_id": LUMEN_LABS, "role": "Wizard"}, "Wizard"),
        ({"email": "someone@elsewhere.example", "org_id": LUMEN_LABS, "role": "Member"}, "example.com"),
        ({"email": "new.hire@example.com", "org_id": HARBOR_HEALTH, "role": "Member"}, "limit"),
    ],
    ids=["existing-member", "unknown-role", "outside-the-domain", "org-at-max-users"],
)
async def test_an_invite_against_a_rule_says_why_and_leaves_no_invite(
    client: Client, sandbox: Sandbox, arguments: dict[str, Any], fact: str
) -> None:
    before = org_state(sandbox)
    assert fact in await call_error(client, "invite_user_to_org", arguments)
    assert org_state(sandbox) == before


async def test_inviting_to_an_unknown_org_names_the_org(client: Client, sandbox: Sandbox) -> None:
    before = org_state(sandbox)
    text = await call_error(
        client,
        "invite_user_to_org",
        {"email": "new.hire@example.com", "org_id": UNKNOWN_ORG, "role": "Member"},
    )
    assert UNKNOWN_ORG in text and org_state(sandbox) == before


@pytest.mark.parametrize(
    "arguments",
    [
        {"email": "not an email", "org_id": LUMEN_LABS, "role": "Member"},
        {"org_id": LUMEN_LABS, "role": "Member"},
        {"email": "new.hire@example.com", "org_id": LUMEN_LABS},
        {"email": "new.hire@example.com", "org_id": "lumen", "role": "Member"},
    ],
    ids=["bad-email", "missing-email", "missing-role", "bad-org-id"],
)
async def test_invite_with_invalid_arguments_sends_nothing(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any]
) -> None:
    await refused_before_sending(client, front, "invite_user_to_org", arguments)


async def test_invite_by_user_id_invites_that_users_email(client: Client, sandbox: Sandbox) -> None:
    await call_ok(
        client, "invite_user_to_org_by_user_id", {"user_id": LIAM, "org_id": NORTHWIND, "role": "Member"}
    )
    assert pending(sandbox)[("liam.murphy@example.com", NORTHWIND)]["role_in_org"] == "Member"


async def test_invite_by_user_id_of_a_member_is_refused(client: Client, sandbox: Sandbox) -> None:
    before = org_state(sandbox)
    text = await call_error(
        client, "invite_user_to_org_by_user_id", {"user_id": ADA, "org_id": LUMEN_LABS, "role": "Admin"}
    )
    assert "already a member" in text and org_state(sandbox) == before


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"user_id": UNKNOWN, "org_id": NORTHWIND, "role": "Member"}, UNKNOWN),
        ({"user_id": LIAM, "org_id": UNKNOWN_ORG, "role": "Member"}, UNKNOWN_ORG),
    ],
    ids=["unknown-user", "unknown-org"],
)
async def test_invite_by_user_id_of_an_unknown_user_or_org_names_it(
    client: Client, sandbox: Sandbox, arguments: dict[str, Any], named: str
) -> None:
    before = org_state(sandbox)
    assert named in await call_error(client, "invite_user_to_org_by_user_id", arguments)
    assert org_state(sandbox) == before


@pytest.mark.parametrize(
    "arguments",
    [{"user_id": "liam", "org_id": NORTHWIND, "role": "Member"}, {"user_id": LIAM, "org_id": NORTHWIND}],
    ids=["bad-user-id", "missing-role"],
)
async def test_invite_by_user_id_with_invalid_arguments_sends_nothing(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any]
) -> None:
    await refused_before_sending(client, front, "invite_user_to_org_by_user_id", arguments)


# --- fetch_pending_invites -------------------------------------------------------------------------------


async def test_fetch_pending_invites_lists_unexpired_invites_of_every_org(client: Client) -> None:
    result = await call_ok(client, "fetch_pending_invites", {})
    page = structured(result)
    invitees = sorted(invite["invitee_email"] for invite in page["invites"])
    assert invitees == sorted([JORDAN, NOOR, "sofia.rossi@example.com"])  # Sam's has expired
    assert page["total_invites"] == 3
    assert JORDAN in text_of(result)


async def test_fetch_pending_invites_of_one_org(client: Client) -> None:
    result = await call_ok(client, "fetch_pending_invites", {"org_id": LUMEN_LABS})
    roles = {invite["invitee_email"]: invite["role_in_org"] for invite in structured(result)["invites"]}
    assert roles == {JORDAN: "Member", NOOR: "Admin"}


async def test_fetch_pending_invites_of_an_unknown_org_says_which_org(client: Client) -> None:
    assert UNKNOWN_ORG in await call_error(client, "fetch_pending_invites", {"org_id": UNKNOWN_ORG})


@pytest.mark.parametrize(
    ("arguments", "field"),
    [({"org_id": "lumen"}, "org_id"), ({"page_size": 0}, "page_size"), ({"page_number": -1}, "page_number")],
)
async def test_fetch_pending_invites_with_invalid_arguments_names_the_field_and_sends_nothing(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any], field: str
) -> None:
    assert field in await refused_before_sending(client, front, "fetch_pending_invites", arguments)


# --- revoke_pending_invite (gated) -----------------------------------------------------------------------


@pytest.mark.parametrize("confirm", [None, False, "true", 1])
async def test_revoke_without_confirm_true_leaves_the_sandbox_unchanged_and_sends_no_write(
    client: Client, sandbox: Sandbox, front: RecordingSandbox, confirm: Any
) -> None:
    before = org_state(sandbox)
    arguments: dict[str, Any] = {"invitee_email": JORDAN, "org_id": LUMEN_LABS}
    if confirm is not None:
        arguments["confirm"] = confirm
    await call_unconfirmed(client, "revoke_pending_invite", arguments)
    assert org_state(sandbox) == before and writes(front) == []


async def test_the_revoke_preview_names_the_invitee_the_org_and_the_role(client: Client) -> None:
    text = await call_preview(client, "revoke_pending_invite", {"invitee_email": NOOR, "org_id": LUMEN_LABS})
    for fact in (NOOR, "Lumen Labs", "Admin", "grace.hopper@example.com", "confirm"):
        assert fact in text


async def test_the_revoke_preview_finds_the_invite_whatever_the_case_of_the_email(client: Client) -> None:
    text = await call_preview(
        client, "revoke_pending_invite", {"invitee_email": NOOR.upper(), "org_id": LUMEN_LABS}
    )
    assert "Lumen Labs" in text and "confirm: true" in text


async def test_confirmed_revoke_withdraws_only_that_invite(client: Client, sandbox: Sandbox) -> None:
    await call_ok(
        client, "revoke_pending_invite", {"invitee_email": JORDAN, "org_id": LUMEN_LABS, "confirm": True}
    )
    assert set(pending(sandbox, LUMEN_LABS)) == {(NOOR, LUMEN_LABS)}


@pytest.mark.parametrize(
    "arguments",
    [
        {"invitee_email": "nobody@example.com", "org_id": LUMEN_LABS},
        {"invitee_email": SAM, "org_id": NORTHWIND},
        {"invitee_email": JORDAN, "org_id": NORTHWIND},
    ],
    ids=["never-invited", "expired", "invited-elsewhere"],
)
async def test_the_revoke_preview_of_no_pending_invite_says_so_and_sends_no_write(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any]
) -> None:
    text = await call_error(client, "revoke_pending_invite", arguments)
    assert "No pending invite" in text and "confirm: true" not in text
    assert writes(front) == []


async def test_the_revoke_preview_in_an_unknown_org_names_the_org(
    client: Client, front: RecordingSandbox
) -> None:
    text = await call_error(client, "revoke_pending_invite", {"invitee_email": JORDAN, "org_id": UNKNOWN_ORG})
    assert UNKNOWN_ORG in text and writes(front) == []


async def test_confirmed_revoke_of_no_pending_invite_says_so(client: Client, sandbox: Sandbox) -> None:
    before = org_state(sandbox)
    text = await call_error(
        client,
        "revoke_pending_invite",
        {"invitee_email": "nobody@example.com", "org_id": LUMEN_LABS, "confirm": True},
    )
    assert "nobody@example.com" in text and org_state(sandbox) == before


@pytest.mark.parametrize(
    "arguments",
    [
        {"invitee_email": "not an email", "org_id": LUMEN_LABS, "confirm": True},
        {"org_id": LUMEN_LABS, "confirm": True},
        {"invitee_email": JORDAN, "confirm": True},
    ],
    ids=["bad-email", "missing-email", "missing-org-id"],
)
async def test_revoke_with_invalid_arguments_sends_nothing(
    client: Client, front: RecordingSandbox, arguments: dict[str, Any]
) -> None:
    await refused_before_sending(client, front, "revoke_pending_invite", arguments)


# --- what the gated tools advertise ------------------------------------------------------------------------


GATED = ["change_user_role_in_org", "remove_user_from_org", "revoke_pending_invite", "delete_org"]


@pytest.mark.parametrize("tool", GATED)
async def test_a_gated_tool_advertises_confirm_and_a_destructive_idempotent_hint(
    client: Client, tool: str
) -> None:
    listed = {t.name: t for t in (await client.list_tools()).tools}[tool]
    assert "boolean" in listed.input_schema["properties"]["confirm"]["type"]
    hints = listed.annotations
    assert hints is not None
    assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (False, True, True)


# --- the audit target ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "arguments", "target"),
    [
        (
            "add_user_to_org",
            {"user_id": SOFIA, "org_id": LUMEN_LABS, "role": "Member"},
            {"user_id": SOFIA, "org_id": LUMEN_LABS},
        ),
        (
            "change_user_role_in_org",
            {"user_id": ADA, "org_id": NORTHWIND, "role": "Admin", "confirm": True},
            {"user_id": ADA, "org_id": NORTHWIND},
        ),
        (
            "remove_user_from_org",
            {"user_id": ADA, "org_id": NORTHWIND},
            {"user_id": ADA, "org_id": NORTHWIND},
        ),
        (
            "invite_user_to_org",
            {"email": "new.hire@example.com", "org_id": LUMEN_LABS, "role": "Member"},
            {"email": "new.hire@example.com", "org_id": LUMEN_LABS},
        ),
        (
            "invite_user_to_org_by_user_id",
            {"user_id": LIAM, "org_id": NORTHWIND, "role": "Member"},
            {"user_id": LIAM, "org_id": NORTHWIND},
        ),
        (
            "revoke_pending_invite",
            {"invitee_email": JORDAN, "org_id": LUMEN_LABS, "confirm": True},
            {"invitee_email": JORDAN, "org_id": LUMEN_LABS},
        ),
    ],
)
async def test_membership_and_invite_calls_are_audited_with_the_general_target(
    client: Client, audit_path: Path, tool: str, arguments: dict[str, Any], target: dict[str, str]
) -> None:
    await client.call_tool(tool, arguments)
    records = [r for r in read_records(audit_path) if r["tool"] == tool]
    assert records and all(r["target"] == target for r in records)


# --- the blast-radius limit -------------------------------------------------------------------------------

NEXT_DESTRUCTIVE: list[tuple[str, dict[str, Any]]] = [
    ("remove_user_from_org", {"user_id": ADA, "org_id": NORTHWIND, "confirm": True}),
    ("change_user_role_in_org", {"user_id": ADA, "org_id": NORTHWIND, "role": "Admin", "confirm": True}),
    (
        "revoke_pending_invite",
        {"invitee_email": "sofia.rossi@example.com", "org_id": NORTHWIND, "confirm": True},
    ),
    ("delete_org", {"org_id": NORTHWIND, "confirm": True}),
]


@pytest.mark.parametrize(("tool", "arguments"), NEXT_DESTRUCTIVE, ids=[t for t, _ in NEXT_DESTRUCTIVE])
async def test_a_confirmed_delete_org_uses_the_destructive_slot_and_the_next_destructive_call_is_refused(
    audit_path: Path, audit: AuditTrail, sandbox_app: Any, tool: str, arguments: dict[str, Any]
) -> None:
    front = RecordingSandbox(app=sandbox_app)
    async with recorded_client(make_settings(audit_path, destructive_limit=1), audit, front) as client:
        await call_ok(client, "delete_org", {"org_id": HARBOR_HEALTH, "confirm": True})
        before, sent_before = org_state(front.sandbox), writes(front)
        text = await call_error(client, tool, arguments)
    assert "limit of 1" in text and "Nothing was sent" in text
    assert writes(front) == sent_before == [f"DELETE /api/backend/v1/org/{HARBOR_HEALTH}"]
    assert org_state(front.sandbox) == before
    refused = [r for r in read_records(audit_path) if r["tool"] == tool][-1]
    assert (refused["outcome"], refused["confirmed"], refused["details"]["reason"]) == (
        "rejected",
        True,
        "refused",
    )


async def test_previews_of_the_new_gated_tools_do_not_use_up_the_destructive_slot(
    audit_path: Path, audit: AuditTrail, sandbox_app: Any
) -> None:
    front = RecordingSandbox(app=sandbox_app)
    async with recorded_client(make_settings(audit_path, destructive_limit=1), audit, front) as client:
        for tool, arguments in NEXT_DESTRUCTIVE:
            await call_preview(client, tool, {k: v for k, v in arguments.items() if k != "confirm"})
        await call_ok(client, "remove_user_from_org", {"user_id": ADA, "org_id": NORTHWIND, "confirm": True})
    assert role_of(front.sandbox, ADA, NORTHWIND) is None
