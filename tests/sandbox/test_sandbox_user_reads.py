"""More user endpoints: batch fetches, MFA methods, the org-creation right, sign-up query parameters."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from sandbox.demo import KNOWN_USER_EMAIL, LUMEN_LABS, demo_user_id
from tests.sandbox.sandbox_testkit import API, create_user, fetch_user

pytestmark = pytest.mark.anyio

UNKNOWN_ID = "5b0e8a7c-3f2d-4c1b-9a8e-7d6c5b4a3f21"
ADA = demo_user_id(KNOWN_USER_EMAIL)
GRACE = demo_user_id("grace.hopper@example.com")


async def test_batch_by_ids_answers_an_array_in_request_order_without_unknown_or_repeated_ids(
    seeded: httpx2.AsyncClient,
) -> None:
    response = await seeded.post(
        f"{API}/user/user_ids", json={"user_ids": [GRACE, UNKNOWN_ID, ADA, GRACE, "not-an-id"]}
    )
    assert response.status_code == 200
    users = response.json()
    assert isinstance(users, list)
    assert [user["user_id"] for user in users] == [GRACE, ADA]
    assert "org_id_to_org_info" not in users[0]


async def test_batch_by_ids_with_include_orgs_adds_memberships(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.post(
        f"{API}/user/user_ids", params={"include_orgs": "true"}, json={"user_ids": [ADA]}
    )
    assert response.status_code == 200
    (ada,) = response.json()
    assert ada["org_id_to_org_info"][LUMEN_LABS]["user_role"] == "Owner"


async def test_batch_by_emails_matches_case_insensitively(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.post(
        f"{API}/user/emails",
        json={"emails": ["ADA@example.com", "nobody@example.com", "grace.hopper@example.com"]},
    )
    assert response.status_code == 200
    assert [user["email"] for user in response.json()] == [KNOWN_USER_EMAIL, "grace.hopper@example.com"]


async def test_batch_by_usernames_omits_unknown_usernames(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.post(f"{API}/user/usernames", json={"usernames": ["ghopper", "ghost", "ada"]})
    assert response.status_code == 200
    assert [user["username"] for user in response.json()] == ["ghopper", "ada"]


async def test_an_empty_batch_is_an_empty_array(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.post(f"{API}/user/user_ids", json={"user_ids": []})
    assert (response.status_code, response.json()) == (200, [])


@pytest.mark.parametrize(
    ("path", "body", "errors"),
    [
        ("user_ids", {}, {"user_ids": ["This field is required"]}),
        ("emails", {"emails": "ada@example.com"}, {"emails": ["Must be a list of strings"]}),
        ("usernames", {"usernames": [1, 2]}, {"usernames": ["Must be a list of strings"]}),
        ("user_ids", {"user_ids": [], "extra": 1}, {"extra": ["Unknown field"]}),
    ],
)
async def test_a_malformed_batch_is_a_400_field_map(
    client: httpx2.AsyncClient, path: str, body: dict[str, object], errors: dict[str, list[str]]
) -> None:
    response = await client.post(f"{API}/user/{path}", json=body)
    assert (response.status_code, response.json()) == (400, errors)


async def test_mfa_methods_say_totp_phone_or_none(seeded: httpx2.AsyncClient) -> None:
    totp = await seeded.get(f"{API}/user/{ADA}/mfa")
    assert (totp.status_code, totp.json()) == (200, {"mfa_setup": {"type": "Totp"}})
    none = await seeded.get(f"{API}/user/{GRACE}/mfa")
    assert (none.status_code, none.json()) == (200, {"mfa_setup": None})
    phone = (await seeded.get(f"{API}/user/{demo_user_id('marcus.reed@example.com')}/mfa")).json()
    assert phone["mfa_setup"]["type"] == "Phone"
    (number,) = phone["mfa_setup"]["phone_numbers"]
    assert set(number) == {"mfa_phone_number_suffix", "mfa_phone_id"}
    assert number["mfa_phone_number_suffix"] == "4821"


async def test_disabling_2fa_clears_a_phone_factor_too(seeded: httpx2.AsyncClient) -> None:
    marcus = demo_user_id("marcus.reed@example.com")
    assert (await fetch_user(seeded, marcus))["mfa_enabled"] is True
    assert (await seeded.post(f"{API}/user/{marcus}/disable_2fa")).status_code == 200
    assert (await seeded.get(f"{API}/user/{marcus}/mfa")).json() == {"mfa_setup": None}
    assert (await fetch_user(seeded, marcus))["mfa_enabled"] is False


@pytest.mark.parametrize("path", ["mfa", "signup_query_parameters"])
@pytest.mark.parametrize("user_id", [UNKNOWN_ID, UNKNOWN_ID.upper(), "not-a-uuid"])
async def test_reads_of_an_unknown_or_malformed_user_id_are_404(
    client: httpx2.AsyncClient, path: str, user_id: str
) -> None:
    response = await client.get(f"{API}/user/{user_id}/{path}")
    assert (response.status_code, response.json()) == (404, {"message": "User not found"})


@pytest.mark.parametrize("method", ["PUT", "POST"])
async def test_can_create_orgs_is_switched_by_put_or_post(client: httpx2.AsyncClient, method: str) -> None:
    user_id = await create_user(client)
    assert (await fetch_user(client, user_id))["can_create_orgs"] is False
    enabled = await client.request(method, f"{API}/user/{user_id}/can_create_orgs/enable")
    assert (enabled.status_code, enabled.json()) == (200, {})
    assert (await fetch_user(client, user_id))["can_create_orgs"] is True
    disabled = await client.request(method, f"{API}/user/{user_id}/can_create_orgs/disable")
    assert (disabled.status_code, disabled.json()) == (200, {})
    assert (await fetch_user(client, user_id))["can_create_orgs"] is False


async def test_can_create_orgs_of_an_unknown_user_is_404(client: httpx2.AsyncClient) -> None:
    response = await client.put(f"{API}/user/{UNKNOWN_ID}/can_create_orgs/enable")
    assert (response.status_code, response.json()) == (404, {"message": "User not found"})


async def test_signup_query_parameters_are_those_of_the_magic_link_that_signed_the_user_up(
    client: httpx2.AsyncClient,
) -> None:
    link = await client.post(
        f"{API}/magic_link",
        json={
            "email": "newcomer@example.com",
            "create_new_user_if_one_doesnt_exist": True,
            "user_signup_query_parameters": {"utm_source": "ads", "ref": "friend"},
        },
    )
    parts = urlsplit(link.json()["url"])
    landed = await client.get(parts.path, params=parse_qs(parts.query))
    user_id = landed.json()["user_id"]

    response = await client.get(f"{API}/user/{user_id}/signup_query_parameters")
    assert response.status_code == 200
    assert response.json() == {"user_signup_query_parameters": {"utm_source": "ads", "ref": "friend"}}


async def test_a_user_created_through_the_api_has_no_signup_query_parameters(
    client: httpx2.AsyncClient,
) -> None:
    user_id = await create_user(client)
    response = await client.get(f"{API}/user/{user_id}/signup_query_parameters")
    assert (response.status_code, response.json()) == (200, {"user_signup_query_parameters": {}})


async def test_a_demo_user_has_signup_query_parameters(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.get(
        f"{API}/user/{demo_user_id('liam.murphy@example.com')}/signup_query_parameters"
    )
    assert response.json() == {
        "user_signup_query_parameters": {"utm_source": "newsletter", "utm_campaign": "spring-launch"}
    }
