"""Memberships: add, change role, remove; users in an org; roles, inheritance and permissions."""

from __future__ import annotations

from typing import Any

import httpx2
import jwt
import pytest

from sandbox.demo import HARBOR_HEALTH, KNOWN_USER_EMAIL, LUMEN_LABS, NORTHWIND, demo_user_id
from tests.sandbox.sandbox_testkit import API, add_member, create_org, create_user, fetch_user

pytestmark = pytest.mark.anyio

UNKNOWN_ID = "5b0e8a7c-3f2d-4c1b-9a8e-7d6c5b4a3f21"
ADA = demo_user_id(KNOWN_USER_EMAIL)
GRACE = demo_user_id("grace.hopper@example.com")
SOFIA = demo_user_id("sofia.rossi@example.com")
NOT_A_MEMBER = {"message": "The user is not a member of this organization"}


async def membership(client: httpx2.AsyncClient, user_id: str, org_id: str) -> dict[str, Any] | None:
    user = await fetch_user(client, user_id, include_orgs="true")
    found: dict[str, Any] | None = user["org_id_to_org_info"].get(org_id)
    return found


async def members(client: httpx2.AsyncClient, org_id: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{API}/user/org/{org_id}", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


# --- add ------------------------------------------------------------------------------------


async def test_an_added_user_holds_the_role_additional_roles_and_their_permissions(
    seeded: httpx2.AsyncClient,
) -> None:
    response = await add_member(seeded, SOFIA, NORTHWIND, "Admin", additional_roles=["Billing Admin"])
    assert (response.status_code, response.json()) == (200, {})

    member = await membership(seeded, SOFIA, NORTHWIND)
    assert member is not None
    assert member["user_role"] == "Admin"
    assert member["additional_roles"] == ["Billing Admin"]
    assert member["inherited_user_roles_plus_current_role"] == ["Admin", "Member"]
    assert "propelauth::can_invite" in member["user_permissions"]
    assert "billing::view_invoices" in member["user_permissions"]
    assert "propelauth::can_delete_org" not in member["user_permissions"]
    assert (member["org_role_structure"], member["legacy_org_id"]) == (
        "single_role_in_hierarchy",
        "nw-legacy-1987",
    )


async def test_adding_a_user_answers_their_pending_invite_to_that_org(seeded: httpx2.AsyncClient) -> None:
    # Sofia has a pending invite to Northwind in the demo data.
    assert (await add_member(seeded, SOFIA, NORTHWIND)).status_code == 200
    invites = (await seeded.get(f"{API}/pending_org_invites", params={"org_id": NORTHWIND})).json()["invites"]
    assert "sofia.rossi@example.com" not in [invite["invitee_email"] for invite in invites]


async def test_an_unknown_role_is_a_400_naming_it(seeded: httpx2.AsyncClient) -> None:
    response = await add_member(seeded, SOFIA, NORTHWIND, "Wizard", additional_roles=["Member", "Sorcerer"])
    assert response.status_code == 400
    assert response.json() == {
        "role": ["Unknown role: Wizard"],
        "additional_roles": ["Unknown role: Sorcerer"],
    }
    assert await membership(seeded, SOFIA, NORTHWIND) is None


async def test_roles_follow_the_role_mapping_of_the_org(seeded: httpx2.AsyncClient) -> None:
    # Clinician exists only in Harbor Health's mapping (Clinical Roles), not in the default roles.
    response = await add_member(seeded, SOFIA, NORTHWIND, "Clinician")
    assert (response.status_code, response.json()) == (400, {"role": ["Unknown role: Clinician"]})
    ibrahim = await membership(seeded, demo_user_id("ibrahim.yusuf@example.com"), HARBOR_HEALTH)
    assert ibrahim is not None
    assert ibrahim["inherited_user_roles_plus_current_role"] == ["Admin", "Clinician", "Member"]
    assert "audit::read_access_logs" in ibrahim["user_permissions"]  # from Compliance Auditor
    assert "records::read_patient_charts" in ibrahim["user_permissions"]  # inherited from Clinician


async def test_adding_an_existing_member_is_a_400(seeded: httpx2.AsyncClient) -> None:
    response = await add_member(seeded, ADA, LUMEN_LABS, "Member")
    assert response.status_code == 400
    assert response.json() == {"user_id": ["The user is already a member of this organization"]}
    assert (await membership(seeded, ADA, LUMEN_LABS) or {})["user_role"] == "Owner"


async def test_adding_past_max_users_is_a_400(seeded: httpx2.AsyncClient) -> None:
    # Harbor Health is at its max_users in the demo data.
    response = await add_member(seeded, SOFIA, HARBOR_HEALTH)
    assert response.status_code == 400
    assert response.json() == {"org_id": ["This organization has reached its limit of 11 users"]}


async def test_a_domain_restricted_org_refuses_users_of_other_domains(client: httpx2.AsyncClient) -> None:
    org_id = await create_org(client, domain="acme.example", members_must_have_matching_domain=True)
    outsider = await create_user(client, email="eve@elsewhere.example")
    insider = await create_user(client, email="Bob@ACME.example")

    refused = await add_member(client, outsider, org_id)
    assert refused.status_code == 400
    assert refused.json() == {
        "user_id": ["Members of this organization must have an email address at acme.example"]
    }
    assert (await add_member(client, insider, org_id)).status_code == 200


async def test_an_extra_domain_is_accepted_by_a_domain_restricted_org(client: httpx2.AsyncClient) -> None:
    org_id = await create_org(client, domain="acme.example", members_must_have_matching_domain=True)
    await client.put(f"{API}/org/{org_id}", json={"extra_domains": ["acme-labs.example"]})
    user_id = await create_user(client, email="kim@acme-labs.example")
    assert (await add_member(client, user_id, org_id)).status_code == 200


@pytest.mark.parametrize(
    ("fields", "status", "body"),
    [
        ({"org_id": UNKNOWN_ID}, 404, {"message": "Org not found"}),
        ({"user_id": UNKNOWN_ID}, 404, {"message": "User not found"}),
        ({"org_id": "nope"}, 400, {"org_id": ["Must be a UUID"]}),
        ({"role": None}, 400, {"role": ["This field is required"]}),
        ({"additional_roles": "Admin"}, 400, {"additional_roles": ["Must be a list of strings"]}),
    ],
)
async def test_add_user_refusals_say_what_is_wrong(
    seeded: httpx2.AsyncClient, fields: dict[str, Any], status: int, body: dict[str, Any]
) -> None:
    request = {"user_id": SOFIA, "org_id": NORTHWIND, "role": "Member", **fields}
    response = await seeded.post(f"{API}/org/add_user", json=request)
    assert (response.status_code, response.json()) == (status, body)


# --- change role ----------------------------------------------------------------------------


async def test_change_role_replaces_the_role_and_the_additional_roles(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.post(
        f"{API}/org/change_role", json={"user_id": GRACE, "org_id": LUMEN_LABS, "role": "Member"}
    )
    assert (response.status_code, response.json()) == (200, {})
    member = await membership(seeded, GRACE, LUMEN_LABS)
    assert member is not None
    assert (member["user_role"], member["additional_roles"], member["user_permissions"]) == ("Member", [], [])


async def test_change_role_to_an_unknown_role_is_a_400_and_changes_nothing(
    seeded: httpx2.AsyncClient,
) -> None:
    response = await seeded.post(
        f"{API}/org/change_role", json={"user_id": GRACE, "org_id": LUMEN_LABS, "role": "Overlord"}
    )
    assert (response.status_code, response.json()) == (400, {"role": ["Unknown role: Overlord"]})
    assert (await membership(seeded, GRACE, LUMEN_LABS) or {})["user_role"] == "Admin"


async def test_change_role_of_a_non_member_is_404(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.post(
        f"{API}/org/change_role", json={"user_id": SOFIA, "org_id": LUMEN_LABS, "role": "Member"}
    )
    assert (response.status_code, response.json()) == (404, NOT_A_MEMBER)


# --- remove ---------------------------------------------------------------------------------


async def test_a_removed_member_no_longer_shows_in_include_orgs_nor_in_the_org(
    seeded: httpx2.AsyncClient,
) -> None:
    response = await seeded.post(f"{API}/org/remove_user", json={"user_id": ADA, "org_id": NORTHWIND})
    assert (response.status_code, response.json()) == (200, {})

    assert set((await fetch_user(seeded, ADA, include_orgs="true"))["org_id_to_org_info"]) == {LUMEN_LABS}
    listed = await members(seeded, NORTHWIND, page_size=100)
    assert ADA not in [user["user_id"] for user in listed["users"]]
    again = await seeded.post(f"{API}/org/remove_user", json={"user_id": ADA, "org_id": NORTHWIND})
    assert (again.status_code, again.json()) == (404, NOT_A_MEMBER)


async def test_removing_from_an_unknown_org_is_404(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.post(f"{API}/org/remove_user", json={"user_id": ADA, "org_id": UNKNOWN_ID})
    assert (response.status_code, response.json()) == (404, {"message": "Org not found"})


async def test_a_removed_member_frees_a_seat_in_a_full_org(seeded: httpx2.AsyncClient) -> None:
    leaving = demo_user_id("ethan.brooks@example.com")
    assert (
        await seeded.post(f"{API}/org/remove_user", json={"user_id": leaving, "org_id": HARBOR_HEALTH})
    ).status_code == 200
    assert (await add_member(seeded, SOFIA, HARBOR_HEALTH, "Clinician")).status_code == 200


# --- users in an org ------------------------------------------------------------------------


async def test_users_in_an_org_carry_their_role_and_additional_roles(seeded: httpx2.AsyncClient) -> None:
    page = await members(seeded, LUMEN_LABS, page_size=100)
    assert page["total_users"] == 13
    assert page["has_more_results"] is False
    by_id = {user["user_id"]: user for user in page["users"]}
    assert (by_id[ADA]["role_in_org"], by_id[ADA]["additional_roles_in_org"]) == ("Owner", [])
    assert (by_id[GRACE]["role_in_org"], by_id[GRACE]["additional_roles_in_org"]) == (
        "Admin",
        ["Billing Admin"],
    )
    assert "org_id_to_org_info" not in by_id[ADA]
    created = [user["created_at"] for user in page["users"]]
    assert created == sorted(created)


async def test_users_in_an_org_filter_by_role(seeded: httpx2.AsyncClient) -> None:
    page = await members(seeded, LUMEN_LABS, role="Admin")
    assert {user["email"] for user in page["users"]} == {
        "grace.hopper@example.com",
        "margaret.hamilton@example.com",
    }
    assert page["total_users"] == 2


async def test_users_in_an_org_page_and_include_orgs(seeded: httpx2.AsyncClient) -> None:
    first = await members(seeded, NORTHWIND, page_size=4, include_orgs="true")
    second = await members(seeded, NORTHWIND, page_size=4, page_number=1)
    assert len(first["users"]) == 4 and first["has_more_results"] is True
    assert {user["user_id"] for user in first["users"]}.isdisjoint(
        user["user_id"] for user in second["users"]
    )
    assert all(NORTHWIND in user["org_id_to_org_info"] for user in first["users"])


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"role": "Wizard"}, {"role": ["Unknown role: Wizard"]}),
        ({"page_size": "101"}, {"page_size": ["Must be an integer of at least 1 and at most 100"]}),
        ({"include_orgs": "yes"}, {"include_orgs": ["Must be true or false"]}),
    ],
)
async def test_users_in_an_org_bad_parameters_are_a_400_field_map(
    seeded: httpx2.AsyncClient, params: dict[str, str], errors: dict[str, list[str]]
) -> None:
    response = await seeded.get(f"{API}/user/org/{LUMEN_LABS}", params=params)
    assert (response.status_code, response.json()) == (400, errors)


@pytest.mark.parametrize("org_id", [UNKNOWN_ID, LUMEN_LABS.upper(), "not-an-id"])
async def test_users_in_an_unknown_or_malformed_org_is_404(seeded: httpx2.AsyncClient, org_id: str) -> None:
    response = await seeded.get(f"{API}/user/org/{org_id}")
    assert (response.status_code, response.json()) == (404, {"message": "Org not found"})


async def test_an_access_token_for_an_org_carries_the_additional_roles(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.post(
        f"{API}/access_token", json={"user_id": GRACE, "duration_in_minutes": 5, "active_org_id": LUMEN_LABS}
    )
    assert response.status_code == 200
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["org_member_info"]["additional_roles"] == ["Billing Admin"]
    assert "billing::manage_subscription" in claims["org_member_info"]["user_permissions"]
