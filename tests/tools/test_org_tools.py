"""The organization and membership tools: their gates preview the org, the membership or the invite and
change nothing; their special forms (array answers, empty updates, always-sent fields) hold."""

from __future__ import annotations

import pytest

from tests.tools.toolfakes import (
    ORG_ID,
    USER_ID,
    RecordingBackend,
    definition,
    invite_body,
    org_body,
    page_body,
    user_body,
)
from tools import execute
from tools.backend import ApiRequest, ApiResponse

V1 = "/api/backend/v1"


def membership(role: str = "Owner") -> dict[str, object]:
    return {
        "org_id": ORG_ID,
        "org_name": "Northwind",
        "org_metadata": {},
        "user_role": role,
        "url_safe_org_name": "northwind",
        "inherited_user_roles_plus_current_role": [role],
        "user_permissions": [],
    }


@pytest.mark.anyio
async def test_deleting_an_org_unconfirmed_names_it_with_its_members_and_invites_and_changes_nothing() -> (
    None
):
    backend = RecordingBackend(
        ApiResponse(200, org_body()),
        ApiResponse(200, page_body("users", [], total_users=12)),
        ApiResponse(200, page_body("invites", [], total_invites=3)),
    )

    outcome = await execute(definition("delete_org"), {"org_id": ORG_ID}, backend)

    assert [request.path for request in backend.requests] == [
        f"{V1}/org/{ORG_ID}",
        f"{V1}/user/org/{ORG_ID}",
        f"{V1}/pending_org_invites",
    ]
    assert backend.state_changing == []
    assert outcome.outcome == "preview" and outcome.details["reason"] == "confirmation_required"
    for fact in ("permanently delete", '"Northwind"', "12 members", "3 pending invites", "confirm: true"):
        assert fact in outcome.text
    assert outcome.target == {"org_id": ORG_ID}


@pytest.mark.anyio
async def test_changing_a_role_unconfirmed_says_the_role_now_and_the_role_asked_for() -> None:
    backend = RecordingBackend(ApiResponse(200, user_body(org_id_to_org_info={ORG_ID: membership("Owner")})))
    arguments = {"user_id": USER_ID, "org_id": ORG_ID, "role": "Member"}

    outcome = await execute(definition("change_user_role_in_org"), arguments, backend)

    assert backend.requests == [ApiRequest("GET", f"{V1}/user/{USER_ID}", query={"include_orgs": "true"})]
    assert outcome.details["reason"] == "confirmation_required"
    assert "from Owner to Member" in outcome.text
    assert outcome.target == {"user_id": USER_ID, "org_id": ORG_ID}


@pytest.mark.anyio
async def test_removing_someone_who_is_not_a_member_is_said_and_nothing_is_sent() -> None:
    backend = RecordingBackend(ApiResponse(200, user_body(org_id_to_org_info={})))

    outcome = await execute(
        definition("remove_user_from_org"), {"user_id": USER_ID, "org_id": ORG_ID}, backend
    )

    assert backend.state_changing == []
    assert outcome.details["reason"] == "not_found" and "not a member" in outcome.text


@pytest.mark.anyio
async def test_revoking_an_invite_unconfirmed_finds_it_by_the_invitee_email_without_case() -> None:
    backend = RecordingBackend(ApiResponse(200, page_body("invites", [invite_body("grace@example.com")])))
    arguments = {"invitee_email": "Grace@Example.com", "org_id": ORG_ID}

    outcome = await execute(definition("revoke_pending_invite"), arguments, backend)

    assert backend.state_changing == []
    assert outcome.details["reason"] == "confirmation_required"
    assert "revoke the pending invite of" in outcome.text and "role Member" in outcome.text


@pytest.mark.anyio
async def test_a_batch_fetch_returns_the_array_under_users_with_the_missing_ones_named() -> None:
    backend = RecordingBackend(ApiResponse(200, [user_body()]))
    missing = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

    outcome = await execute(definition("fetch_users_by_ids"), {"user_ids": [USER_ID, missing]}, backend)

    assert outcome.outcome == "ok", outcome.text
    assert outcome.structured == {"users": [user_body()]}
    assert f"not found: {missing}" in outcome.text


@pytest.mark.anyio
async def test_an_update_of_an_org_with_nothing_to_change_sends_nothing() -> None:
    backend = RecordingBackend()
    outcome = await execute(definition("update_org"), {"org_id": ORG_ID}, backend)
    assert outcome.outcome == "rejected" and backend.requests == []


@pytest.mark.anyio
async def test_subscribing_an_org_to_a_role_mapping_is_an_update_that_reports_the_field() -> None:
    backend = RecordingBackend(ApiResponse(200, {}))
    arguments = {"org_id": ORG_ID, "custom_role_mapping_name": "Enterprise"}

    outcome = await execute(definition("update_org"), arguments, backend)

    assert backend.requests[0].json == {"custom_role_mapping_name": "Enterprise"}
    assert outcome.structured == {"ok": True, "org_id": ORG_ID, "updated": ["custom_role_mapping_name"]}


@pytest.mark.anyio
async def test_an_invite_always_sends_additional_roles_as_the_official_sdks_do() -> None:
    backend = RecordingBackend(ApiResponse(200, {}))
    arguments = {"email": "grace@example.com", "org_id": ORG_ID, "role": "Member"}

    outcome = await execute(definition("invite_user_to_org"), arguments, backend)

    assert backend.requests[0].json == {**arguments, "additional_roles": []}
    assert outcome.text == f"Invited grace@example.com to organization {ORG_ID} as Member."


@pytest.mark.anyio
async def test_an_invite_to_an_unknown_org_says_the_org_is_unknown() -> None:
    backend = RecordingBackend(ApiResponse(404, {}))
    arguments = {"email": "grace@example.com", "org_id": ORG_ID, "role": "Member"}

    outcome = await execute(definition("invite_user_to_org"), arguments, backend)

    assert outcome.details["reason"] == "not_found"
    assert outcome.text.startswith(f"No organization with id {ORG_ID}.")
