"""queryUsers: filters, the six orderings, paging bounds, include_orgs and the 426."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from sandbox.demo import KNOWN_USER_EMAIL, LUMEN_LABS, NORTHWIND, USERS
from sandbox.state import Sandbox
from tests.sandbox.sandbox_testkit import API, MEMBERSHIP_WIRE_KEYS, create_user

pytestmark = pytest.mark.anyio


async def query(client: httpx2.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{API}/user/query", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_default_page_is_ten_users_in_creation_order(seeded: httpx2.AsyncClient) -> None:
    page = await query(seeded)
    assert page["page_size"] == 10
    assert page["current_page"] == 0
    assert page["total_users"] == len(USERS)
    assert page["has_more_results"] is True
    assert [u["email"] for u in page["users"]] == [u.address for u in USERS[:10]]
    assert "org_id_to_org_info" not in page["users"][0]


async def test_email_or_username_is_a_case_insensitive_substring_match(client: httpx2.AsyncClient) -> None:
    await create_user(client, email="ada.lovelace@example.com")
    await create_user(client, email="grace@example.com", username="AdaFan")
    await create_user(client, email="alan@example.com")
    page = await query(client, email_or_username="aDa")
    assert sorted(u["email"] for u in page["users"]) == ["ada.lovelace@example.com", "grace@example.com"]
    assert page["total_users"] == 2


async def test_legacy_user_id_finds_a_migrated_user(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        f"{API}/migrate_user/", json={"email": "kenji@example.com", "existing_user_id": "auth0|42"}
    )
    await create_user(client, email="other@example.com")
    page = await query(client, legacy_user_id="auth0|42")
    assert [u["user_id"] for u in page["users"]] == [response.json()["user_id"]]
    assert page["users"][0]["legacy_user_id"] == "auth0|42"


async def ordered(client: httpx2.AsyncClient, order_by: str) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = (await query(client, page_size=100, order_by=order_by))["users"]
    return users


@pytest.mark.parametrize(
    ("order_by", "key", "descending"),
    [
        ("CREATED_AT_ASC", "created_at", False),
        ("CREATED_AT_DESC", "created_at", True),
        ("LAST_ACTIVE_AT_ASC", "last_active_at", False),
        ("LAST_ACTIVE_AT_DESC", "last_active_at", True),
        ("EMAIL", "email", False),
    ],
)
async def test_order_by_sorts_the_whole_result(
    seeded: httpx2.AsyncClient, order_by: str, key: str, descending: bool
) -> None:
    values = [u[key] for u in await ordered(seeded, order_by)]
    assert len(values) == len(USERS)
    assert values == sorted(values, reverse=descending)


async def test_order_by_username_puts_users_without_one_last(seeded: httpx2.AsyncClient) -> None:
    usernames = [u["username"] for u in await ordered(seeded, "USERNAME")]
    named = [n for n in usernames if n is not None]
    assert len(named) >= 5
    assert usernames[: len(named)] == sorted(named, key=str.casefold)
    assert all(n is None for n in usernames[len(named) :])


async def test_order_by_last_active_differs_from_creation_order(seeded: httpx2.AsyncClient) -> None:
    created = [u["user_id"] for u in (await query(seeded, page_size=100))["users"]]
    active = [
        u["user_id"] for u in (await query(seeded, page_size=100, order_by="LAST_ACTIVE_AT_ASC"))["users"]
    ]
    assert sorted(created) == sorted(active) and created != active


async def test_pages_partition_the_result(seeded: httpx2.AsyncClient) -> None:
    pages = [await query(seeded, page_size=15, page_number=n) for n in range(3)]
    assert [len(p["users"]) for p in pages] == [15, 15, len(USERS) - 30]
    assert [p["has_more_results"] for p in pages] == [True, True, False]
    assert [p["current_page"] for p in pages] == [0, 1, 2]
    ids = [u["user_id"] for p in pages for u in p["users"]]
    assert len(set(ids)) == len(USERS)


async def test_a_page_past_the_end_is_empty_not_an_error(seeded: httpx2.AsyncClient) -> None:
    page = await query(seeded, page_size=100, page_number=10**17)
    assert page["users"] == [] and page["total_users"] == len(USERS) and page["has_more_results"] is False


@pytest.mark.parametrize("page_size", ["0", "101", "-1", "ten", "1.5"])
async def test_page_size_outside_1_to_100_is_400(client: httpx2.AsyncClient, page_size: str) -> None:
    response = await client.get(f"{API}/user/query", params={"page_size": page_size})
    assert response.status_code == 400
    assert response.json() == {"page_size": ["Must be an integer of at least 1 and at most 100"]}


@pytest.mark.parametrize("page_size", ["1", "100"])
async def test_page_size_bounds_are_accepted(seeded: httpx2.AsyncClient, page_size: str) -> None:
    page = await query(seeded, page_size=page_size)
    assert len(page["users"]) == min(int(page_size), len(USERS))


async def test_negative_page_number_is_400(client: httpx2.AsyncClient) -> None:
    response = await client.get(f"{API}/user/query", params={"page_number": "-1"})
    assert response.status_code == 400
    assert response.json() == {"page_number": ["Must be an integer of at least 0"]}


async def test_unknown_order_by_is_400(client: httpx2.AsyncClient) -> None:
    response = await client.get(f"{API}/user/query", params={"order_by": "NAME"})
    assert response.status_code == 400
    assert list(response.json()) == ["order_by"]
    assert "CREATED_AT_ASC" in response.json()["order_by"][0]


@pytest.mark.parametrize("value", ["True", "1", "yes"])
async def test_include_orgs_accepts_only_true_or_false(client: httpx2.AsyncClient, value: str) -> None:
    for path in (
        "user/query",
        "user/email?email=a@example.com",
        "user/username?username=a",
        "user/00000000-0000-4000-8000-000000000000",
    ):
        response = await client.get(f"{API}/{path}", params={"include_orgs": value})
        assert response.status_code == 400, path
        assert response.json() == {"include_orgs": ["Must be true or false"]}


async def test_include_orgs_adds_memberships_with_seven_keys_and_three_optional(
    seeded: httpx2.AsyncClient,
) -> None:
    page = await query(seeded, email_or_username=KNOWN_USER_EMAIL, include_orgs="true")
    orgs = page["users"][0]["org_id_to_org_info"]
    assert set(orgs) == {LUMEN_LABS, NORTHWIND}
    lumen = orgs[LUMEN_LABS]
    assert set(lumen) == MEMBERSHIP_WIRE_KEYS
    assert lumen["org_id"] == LUMEN_LABS
    assert lumen["org_name"] == "Lumen Labs"
    assert lumen["url_safe_org_name"] == "lumen-labs"
    assert lumen["user_role"] == "Owner"
    assert lumen["inherited_user_roles_plus_current_role"] == ["Owner", "Admin", "Member"]
    assert "propelauth::can_invite" in lumen["user_permissions"]
    assert orgs[NORTHWIND]["user_role"] == "Member"
    assert orgs[NORTHWIND]["user_permissions"] == []


async def test_include_orgs_applies_to_every_fetch(seeded: httpx2.AsyncClient) -> None:
    by_email = (
        await seeded.get(f"{API}/user/email", params={"email": KNOWN_USER_EMAIL, "include_orgs": "true"})
    ).json()
    by_username = (
        await seeded.get(f"{API}/user/username", params={"username": "ada", "include_orgs": "true"})
    ).json()
    by_id = (await seeded.get(f"{API}/user/{by_email['user_id']}", params={"include_orgs": "true"})).json()
    plain = (await seeded.get(f"{API}/user/{by_email['user_id']}", params={"include_orgs": "false"})).json()
    for user in (by_email, by_username, by_id):
        assert set(user["org_id_to_org_info"]) == {LUMEN_LABS, NORTHWIND}
    assert "org_id_to_org_info" not in plain


async def test_a_user_in_no_org_gets_an_empty_map(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client)
    response = await client.get(f"{API}/user/{user_id}", params={"include_orgs": "true"})
    assert response.json()["org_id_to_org_info"] == {}


async def test_include_orgs_with_organizations_disabled_is_426(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.orgs_enabled = False
    refused = await client.get(f"{API}/user/query", params={"include_orgs": "true"})
    allowed = await client.get(f"{API}/user/query")
    assert refused.status_code == 426
    assert refused.json() == {"message": "Organizations are not enabled for this project"}
    assert allowed.status_code == 200
