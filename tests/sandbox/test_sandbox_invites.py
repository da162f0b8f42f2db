"""Invites: by email and by user id, the rules they follow, listing with expiry, revoking."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from sandbox.demo import (
    EXPIRED_INVITE_EMAIL,
    HARBOR_HEALTH,
    KNOWN_USER_EMAIL,
    LUMEN_LABS,
    NORTHWIND,
    demo_user_id,
)
from sandbox.invite_store import INVITE_LIFETIME_SECONDS
from sandbox.state import Sandbox
from tests.sandbox.sandbox_testkit import API, create_org, create_user

pytestmark = pytest.mark.anyio

UNKNOWN_ID = "5b0e8a7c-3f2d-4c1b-9a8e-7d6c5b4a3f21"
INVITE_KEYS = {
    "invitee_email",
    "org_id",
    "org_name",
    "role_in_org",
    "additional_roles_in_org",
    "created_at",
    "expires_at",
    "inviter_email",
    "inviter_user_id",
}


async def pending(client: httpx2.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{API}/pending_org_invites", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def invite(client: httpx2.AsyncClient, **body: Any) -> httpx2.Response:
    return await client.post(f"{API}/invite_user", json={"role": "Member", **body})


async def test_the_demo_lists_its_unexpired_invites_only(seeded: httpx2.AsyncClient) -> None:
    page = await pending(seeded)
    emails = [item["invitee_email"] for item in page["invites"]]
    assert EXPIRED_INVITE_EMAIL not in emails
    assert set(emails) == {"jordan.blake@example.com", "noor.hassan@example.com", "sofia.rossi@example.com"}
    assert (page["total_invites"], page["current_page"], page["page_size"], page["has_more_results"]) == (
        3,
        0,
        10,
        False,
    )
    jordan = next(item for item in page["invites"] if item["invitee_email"] == "jordan.blake@example.com")
    assert set(jordan) == INVITE_KEYS
    assert (jordan["org_id"], jordan["org_name"]) == (LUMEN_LABS, "Lumen Labs")
    assert (jordan["role_in_org"], jordan["additional_roles_in_org"]) == ("Member", ["Billing Admin"])
    assert (jordan["inviter_email"], jordan["inviter_user_id"]) == (
        KNOWN_USER_EMAIL,
        demo_user_id(KNOWN_USER_EMAIL),
    )
    assert jordan["expires_at"] - jordan["created_at"] == INVITE_LIFETIME_SECONDS


async def test_an_invite_by_email_is_pending_until_it_expires(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    org_id = await create_org(client)
    response = await invite(
        client, email="new@example.com", org_id=org_id, additional_roles=["Support Agent"]
    )
    assert (response.status_code, response.json()) == (200, {})

    (item,) = (await pending(client, org_id=org_id))["invites"]
    assert (item["invitee_email"], item["role_in_org"], item["additional_roles_in_org"]) == (
        "new@example.com",
        "Member",
        ["Support Agent"],
    )
    assert (item["inviter_email"], item["inviter_user_id"]) == (None, None)
    assert item["expires_at"] == item["created_at"] + INVITE_LIFETIME_SECONDS

    start = sandbox.clock()
    sandbox.clock = lambda: start + INVITE_LIFETIME_SECONDS + 1
    assert (await pending(client, org_id=org_id))["invites"] == []


async def test_inviting_again_replaces_the_earlier_invite(client: httpx2.AsyncClient) -> None:
    org_id = await create_org(client)
    await invite(client, email="twice@example.com", org_id=org_id)
    await invite(client, email="TWICE@example.com", org_id=org_id, role="Admin")
    (item,) = (await pending(client, org_id=org_id))["invites"]
    assert item["role_in_org"] == "Admin"


async def test_an_invite_by_user_id_invites_that_users_email(seeded: httpx2.AsyncClient) -> None:
    liam = demo_user_id("liam.murphy@example.com")
    response = await seeded.post(
        f"{API}/invite_user_by_id", json={"user_id": liam, "org_id": LUMEN_LABS, "role": "Admin"}
    )
    assert (response.status_code, response.json()) == (200, {})
    emails = {item["invitee_email"]: item for item in (await pending(seeded, org_id=LUMEN_LABS))["invites"]}
    assert emails["liam.murphy@example.com"]["role_in_org"] == "Admin"


async def test_inviting_an_existing_member_is_a_400(seeded: httpx2.AsyncClient) -> None:
    by_email = await invite(seeded, email="ADA@example.com", org_id=LUMEN_LABS)
    assert by_email.status_code == 400
    assert by_email.json() == {"email": ["This user is already a member of this organization"]}
    by_id = await seeded.post(
        f"{API}/invite_user_by_id",
        json={"user_id": demo_user_id(KNOWN_USER_EMAIL), "org_id": LUMEN_LABS, "role": "Member"},
    )
    assert (by_id.status_code, by_id.json()) == (
        400,
        {"user_id": ["This user is already a member of this organization"]},
    )


async def test_an_invite_with_an_unknown_role_is_a_400_naming_it(seeded: httpx2.AsyncClient) -> None:
    response = await invite(seeded, email="x@example.com", org_id=LUMEN_LABS, role="Captain")
    assert (response.status_code, response.json()) == (400, {"role": ["Unknown role: Captain"]})


async def test_a_domain_restricted_org_refuses_invites_to_other_domains(seeded: httpx2.AsyncClient) -> None:
    # Lumen Labs takes only example.com addresses.
    response = await invite(seeded, email="eve@elsewhere.example", org_id=LUMEN_LABS)
    assert response.status_code == 400
    assert response.json() == {
        "email": ["Members of this organization must have an email address at example.com"]
    }


async def test_an_org_at_its_max_users_refuses_invites(seeded: httpx2.AsyncClient) -> None:
    response = await invite(seeded, email="one.more@example.com", org_id=HARBOR_HEALTH, role="Clinician")
    assert response.status_code == 400
    assert response.json() == {"org_id": ["This organization has reached its limit of 11 users"]}


@pytest.mark.parametrize(
    ("path", "body", "status", "answer"),
    [
        ("invite_user", {"email": "a@example.com", "org_id": UNKNOWN_ID}, 404, {"message": "Org not found"}),
        (
            "invite_user_by_id",
            {"user_id": UNKNOWN_ID, "org_id": LUMEN_LABS},
            404,
            {"message": "User not found"},
        ),
        (
            "invite_user",
            {"email": "not-an-email", "org_id": LUMEN_LABS},
            400,
            {"email": ["Invalid email address"]},
        ),
        ("invite_user", {"org_id": LUMEN_LABS}, 400, {"email": ["This field is required"]}),
    ],
)
async def test_invite_refusals_say_what_is_wrong(
    seeded: httpx2.AsyncClient, path: str, body: dict[str, Any], status: int, answer: dict[str, Any]
) -> None:
    response = await seeded.post(f"{API}/{path}", json={"role": "Member", **body})
    assert (response.status_code, response.json()) == (status, answer)


async def test_pending_invites_page_and_filter_by_org(seeded: httpx2.AsyncClient) -> None:
    first = await pending(seeded, page_size=2)
    second = await pending(seeded, page_size=2, page_number=1)
    assert (len(first["invites"]), first["has_more_results"]) == (2, True)
    assert (len(second["invites"]), second["has_more_results"]) == (1, False)
    northwind = await pending(seeded, org_id=NORTHWIND)
    assert [item["invitee_email"] for item in northwind["invites"]] == ["sofia.rossi@example.com"]


@pytest.mark.parametrize(
    ("params", "status", "answer"),
    [
        ({"org_id": UNKNOWN_ID}, 404, {"message": "Org not found"}),
        ({"org_id": "nope"}, 400, {"org_id": ["Must be a UUID"]}),
        ({"page_size": "0"}, 400, {"page_size": ["Must be an integer of at least 1 and at most 100"]}),
    ],
)
async def test_pending_invites_bad_parameters(
    seeded: httpx2.AsyncClient, params: dict[str, str], status: int, answer: dict[str, Any]
) -> None:
    response = await seeded.get(f"{API}/pending_org_invites", params=params)
    assert (response.status_code, response.json()) == (status, answer)


async def test_revoking_an_invite_takes_a_json_body_and_removes_it(seeded: httpx2.AsyncClient) -> None:
    body = {"invitee_email": "noor.hassan@example.com", "org_id": LUMEN_LABS}
    response = await seeded.request("DELETE", f"{API}/pending_org_invites", json=body)
    assert (response.status_code, response.json()) == (200, {})
    emails = [item["invitee_email"] for item in (await pending(seeded, org_id=LUMEN_LABS))["invites"]]
    assert "noor.hassan@example.com" not in emails
    again = await seeded.request("DELETE", f"{API}/pending_org_invites", json=body)
    assert (again.status_code, again.json()) == (404, {"message": "Invite not found"})


@pytest.mark.parametrize(
    ("body", "status", "answer"),
    [
        ({"invitee_email": "a@example.com", "org_id": UNKNOWN_ID}, 404, {"message": "Org not found"}),
        ({"org_id": LUMEN_LABS}, 400, {"invitee_email": ["This field is required"]}),
    ],
)
async def test_revoke_refusals(
    seeded: httpx2.AsyncClient, body: dict[str, Any], status: int, answer: dict[str, Any]
) -> None:
    response = await seeded.request("DELETE", f"{API}/pending_org_invites", json=body)
    assert (response.status_code, response.json()) == (status, answer)


async def test_a_user_who_signs_up_after_an_invite_is_still_invited(client: httpx2.AsyncClient) -> None:
    org_id = await create_org(client)
    await invite(client, email="later@example.com", org_id=org_id)
    await create_user(client, email="later@example.com")
    assert [item["invitee_email"] for item in (await pending(client, org_id=org_id))["invites"]] == [
        "later@example.com"
    ]
