"""Organizations: fetch, query (filters, orderings, paging), create, update, delete; role mappings."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from sandbox.demo import HARBOR_HEALTH, LUMEN_LABS, NORTHWIND, ORGS
from tests.sandbox.sandbox_testkit import API, add_member, create_org, create_user

pytestmark = pytest.mark.anyio

UNKNOWN_ORG = "0d6a3b2c-1e4f-4a5b-8c7d-9e0f1a2b3c4d"
ORG_KEYS = {
    "org_id",
    "name",
    "url_safe_org_slug",
    "can_setup_saml",
    "is_saml_configured",
    "is_saml_in_test_mode",
    "max_users",
    "metadata",
    "domain",
    "extra_domains",
    "domain_autojoin",
    "domain_restrict",
    "custom_role_mapping_name",
    "legacy_org_id",
    "password_rotation_enabled",
    "password_rotation_history_size",
    "password_rotation_period",
}
QUERY_ORG_KEYS = {
    "org_id",
    "name",
    "max_users",
    "is_saml_configured",
    "legacy_org_id",
    "metadata",
    "custom_role_mapping_name",
    "created_at",
}


async def fetch_org(client: httpx2.AsyncClient, org_id: str) -> dict[str, Any]:
    response = await client.get(f"{API}/org/{org_id}")
    assert response.status_code == 200, response.text
    org: dict[str, Any] = response.json()
    return org


async def query(client: httpx2.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{API}/org/query", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


# --- fetch ----------------------------------------------------------------------------------


async def test_a_demo_org_is_fetched_with_every_wire_field(seeded: httpx2.AsyncClient) -> None:
    org = await fetch_org(seeded, NORTHWIND)
    assert set(org) == ORG_KEYS
    assert org["org_id"] == NORTHWIND
    assert (org["name"], org["url_safe_org_slug"]) == ("Northwind Traders", "northwind-traders")
    assert (org["domain"], org["extra_domains"]) == ("northwind.example", ["northwind-traders.example"])
    assert (org["domain_autojoin"], org["domain_restrict"]) == (True, False)
    assert org["legacy_org_id"] == "nw-legacy-1987"
    assert org["metadata"] == {"plan": "growth", "region": "us-east"}
    assert (org["can_setup_saml"], org["is_saml_configured"], org["is_saml_in_test_mode"]) == (
        False,
        False,
        False,
    )
    assert (org["max_users"], org["custom_role_mapping_name"]) == (None, None)
    assert org["password_rotation_enabled"] is False


@pytest.mark.parametrize("org_id", [UNKNOWN_ORG, UNKNOWN_ORG.upper(), "not-a-uuid", "add_user"])
async def test_fetching_an_unknown_or_malformed_org_id_is_404(
    client: httpx2.AsyncClient, org_id: str
) -> None:
    response = await client.get(f"{API}/org/{org_id}")
    assert (response.status_code, response.json()) == (404, {"message": "Org not found"})


# --- create ---------------------------------------------------------------------------------


async def test_create_org_answers_its_id_and_name_and_stores_every_field(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        f"{API}/org/",
        json={
            "name": "Acme Rockets",
            "enable_auto_joining_by_domain": True,
            "members_must_have_matching_domain": True,
            "domain": "Acme.Example",
            "max_users": 5,
            "custom_role_mapping_name": "Reseller Partners",
            "legacy_org_id": "acme-77",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"org_id", "name"} and body["name"] == "Acme Rockets"
    org = await fetch_org(client, body["org_id"])
    assert org["url_safe_org_slug"] == "acme-rockets"
    assert (org["domain"], org["domain_autojoin"], org["domain_restrict"]) == ("acme.example", True, True)
    assert (org["max_users"], org["legacy_org_id"]) == (5, "acme-77")
    assert org["custom_role_mapping_name"] == "Reseller Partners"
    assert org["metadata"] == {}


async def test_two_orgs_of_the_same_name_get_distinct_slugs(client: httpx2.AsyncClient) -> None:
    first = await fetch_org(client, await create_org(client, name="Same Name"))
    second = await fetch_org(client, await create_org(client, name="Same Name"))
    assert first["url_safe_org_slug"] == "same-name"
    assert second["url_safe_org_slug"].startswith("same-name-")


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"name": ["This field is required"]}),
        ({"name": "  "}, {"name": ["Must not be empty"]}),
        ({"name": "A", "max_users": 0}, {"max_users": ["Must be at least 1"]}),
        ({"name": "A", "domain": "not a domain"}, {"domain": ["Must be a domain such as example.com"]}),
        (
            {"name": "A", "members_must_have_matching_domain": True},
            {"domain": ["A domain is required to auto-join or restrict members by domain"]},
        ),
        (
            {"name": "A", "custom_role_mapping_name": "Nope"},
            {"custom_role_mapping_name": ["Unknown role mapping: Nope"]},
        ),
        ({"name": "A", "colour": "red"}, {"colour": ["Unknown field"]}),
    ],
)
async def test_invalid_create_org_is_a_400_field_map(
    client: httpx2.AsyncClient, body: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    response = await client.post(f"{API}/org/", json=body)
    assert (response.status_code, response.json()) == (400, errors)


# --- update ---------------------------------------------------------------------------------


async def test_update_org_sets_every_field_it_is_given(client: httpx2.AsyncClient) -> None:
    org_id = await create_org(client, name="Before")
    response = await client.put(
        f"{API}/org/{org_id}",
        json={
            "name": "After Name",
            "can_setup_saml": True,
            "metadata": {"tier": "gold"},
            "max_users": 20,
            "autojoin_by_domain": True,
            "restrict_to_domain": True,
            "domain": "after.example",
            "extra_domains": ["After-Two.example", "after-two.example"],
            "legacy_org_id": "legacy-9",
            "require_2fa_by": "2030-01-01T00:00:00Z",
            "password_rotation_enabled": True,
            "password_rotation_history_size": 5,
            "password_rotation_period": 90,
        },
    )
    assert (response.status_code, response.json()) == (200, {})
    org = await fetch_org(client, org_id)
    assert (org["name"], org["url_safe_org_slug"]) == ("After Name", "after-name")
    assert (org["can_setup_saml"], org["metadata"], org["max_users"]) == (True, {"tier": "gold"}, 20)
    assert (org["domain_autojoin"], org["domain_restrict"], org["domain"]) == (True, True, "after.example")
    assert org["extra_domains"] == ["after-two.example"]
    assert org["legacy_org_id"] == "legacy-9"
    assert (org["password_rotation_enabled"], org["password_rotation_history_size"]) == (True, 5)
    assert org["password_rotation_period"] == 90


async def test_an_update_leaves_fields_it_is_not_given(seeded: httpx2.AsyncClient) -> None:
    before = await fetch_org(seeded, NORTHWIND)
    assert (await seeded.put(f"{API}/org/{NORTHWIND}", json={"legacy_org_id": "nw-2"})).status_code == 200
    after = await fetch_org(seeded, NORTHWIND)
    assert after == {**before, "legacy_org_id": "nw-2"}


async def test_max_users_cannot_drop_below_the_member_count(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.put(f"{API}/org/{HARBOR_HEALTH}", json={"max_users": 3})
    assert response.status_code == 400
    assert response.json() == {"max_users": ["The organization already has 11 members"]}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"require_2fa_by": "next tuesday"}, {"require_2fa_by": ["Must be an ISO 8601 date and time"]}),
        ({"extra_domains": ["ok.example", "bad domain"]}, {"extra_domains": ["Must be a list of domains"]}),
        ({"password_rotation_period": 0}, {"password_rotation_period": ["Must be at least 1"]}),
        ({"metadata": []}, {"metadata": ["Must be an object"]}),
        (
            {"restrict_to_domain": True},
            {"domain": ["A domain is required to auto-join or restrict members by domain"]},
        ),
        ({"custom_role_mapping_name": "Nope"}, {"custom_role_mapping_name": ["Unknown role mapping: Nope"]}),
    ],
)
async def test_invalid_update_org_is_a_400_field_map(
    client: httpx2.AsyncClient, body: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    org_id = await create_org(client)
    response = await client.put(f"{API}/org/{org_id}", json=body)
    assert (response.status_code, response.json()) == (400, errors)


async def test_updating_an_unknown_org_is_404(client: httpx2.AsyncClient) -> None:
    response = await client.put(f"{API}/org/{UNKNOWN_ORG}", json={"name": "X"})
    assert (response.status_code, response.json()) == (404, {"message": "Org not found"})


# --- role mappings --------------------------------------------------------------------------


async def test_role_mappings_count_the_orgs_subscribed(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.get(f"{API}/custom_role_mappings")
    assert response.status_code == 200
    assert response.json() == {
        "custom_role_mappings": [
            {"custom_role_mapping_name": "Clinical Roles", "num_orgs_subscribed": 1},
            {"custom_role_mapping_name": "Reseller Partners", "num_orgs_subscribed": 0},
        ]
    }


async def test_subscribing_an_org_to_a_mapping_moves_the_counts(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.put(
        f"{API}/org/{NORTHWIND}", json={"custom_role_mapping_name": "Reseller Partners"}
    )
    assert (response.status_code, response.json()) == (200, {})
    assert (await fetch_org(seeded, NORTHWIND))["custom_role_mapping_name"] == "Reseller Partners"
    counts = {
        mapping["custom_role_mapping_name"]: mapping["num_orgs_subscribed"]
        for mapping in (await seeded.get(f"{API}/custom_role_mappings")).json()["custom_role_mappings"]
    }
    assert counts == {"Clinical Roles": 1, "Reseller Partners": 1}


async def test_a_mapping_that_lacks_roles_held_in_the_org_is_refused(seeded: httpx2.AsyncClient) -> None:
    # Harbor Health has Clinicians and a Compliance Auditor, which Reseller Partners does not define.
    response = await seeded.put(
        f"{API}/org/{HARBOR_HEALTH}", json={"custom_role_mapping_name": "Reseller Partners"}
    )
    assert response.status_code == 400
    (text,) = response.json()["custom_role_mapping_name"]
    assert "Clinician" in text and "Compliance Auditor" in text
    assert (await fetch_org(seeded, HARBOR_HEALTH))["custom_role_mapping_name"] == "Clinical Roles"


# --- delete ---------------------------------------------------------------------------------


async def test_deleting_an_org_removes_it_its_memberships_and_its_invites(seeded: httpx2.AsyncClient) -> None:
    ada = (await seeded.get(f"{API}/user/email", params={"email": "ada@example.com"})).json()["user_id"]

    response = await seeded.delete(f"{API}/org/{LUMEN_LABS}")
    assert (response.status_code, response.json()) == (200, {})

    assert (await seeded.get(f"{API}/org/{LUMEN_LABS}")).status_code == 404
    memberships = (await seeded.get(f"{API}/user/{ada}", params={"include_orgs": "true"})).json()
    assert set(memberships["org_id_to_org_info"]) == {NORTHWIND}
    invites = (await seeded.get(f"{API}/pending_org_invites", params={"page_size": 100})).json()
    assert LUMEN_LABS not in {invite["org_id"] for invite in invites["invites"]}
    assert (await seeded.get(f"{API}/user/org/{LUMEN_LABS}")).status_code == 404
    again = await seeded.delete(f"{API}/org/{LUMEN_LABS}")
    assert (again.status_code, again.json()) == (404, {"message": "Org not found"})


# --- query ----------------------------------------------------------------------------------


async def test_query_lists_the_demo_orgs_in_creation_order_with_the_short_form(
    seeded: httpx2.AsyncClient,
) -> None:
    page = await query(seeded)
    assert [org["org_id"] for org in page["orgs"]] == [org.org_id for org in ORGS]
    assert set(page["orgs"][0]) == QUERY_ORG_KEYS
    assert (page["total_orgs"], page["current_page"], page["page_size"], page["has_more_results"]) == (
        3,
        0,
        10,
        False,
    )


@pytest.mark.parametrize(
    ("order_by", "names"),
    [
        ("CREATED_AT_ASC", ["Lumen Labs", "Northwind Traders", "Harbor Health"]),
        ("CREATED_AT_DESC", ["Harbor Health", "Northwind Traders", "Lumen Labs"]),
        ("NAME", ["Harbor Health", "Lumen Labs", "Northwind Traders"]),
    ],
)
async def test_query_orders_by_each_order_by_value(
    seeded: httpx2.AsyncClient, order_by: str, names: list[str]
) -> None:
    page = await query(seeded, order_by=order_by)
    assert [org["name"] for org in page["orgs"]] == names


async def test_query_filters_by_name_substring_case_insensitively(seeded: httpx2.AsyncClient) -> None:
    page = await query(seeded, name="NORTH")
    assert [org["org_id"] for org in page["orgs"]] == [NORTHWIND]
    assert page["total_orgs"] == 1


async def test_query_filters_by_domain_primary_or_extra(seeded: httpx2.AsyncClient) -> None:
    assert [org["org_id"] for org in (await query(seeded, domain="harborhealth.example"))["orgs"]] == [
        HARBOR_HEALTH
    ]
    extra = await query(seeded, domain="Northwind-Traders.example")
    assert [org["org_id"] for org in extra["orgs"]] == [NORTHWIND]
    assert (await query(seeded, domain="nowhere.example"))["orgs"] == []


async def test_query_filters_by_legacy_org_id_exactly(seeded: httpx2.AsyncClient) -> None:
    page = await query(seeded, legacy_org_id="lumen-0001")
    assert [org["org_id"] for org in page["orgs"]] == [LUMEN_LABS]
    assert page["orgs"][0]["legacy_org_id"] == "lumen-0001"
    assert (await query(seeded, legacy_org_id="lumen"))["orgs"] == []


async def test_query_pages(seeded: httpx2.AsyncClient) -> None:
    first = await query(seeded, page_size=2, order_by="NAME")
    second = await query(seeded, page_size=2, page_number=1, order_by="NAME")
    assert [org["name"] for org in first["orgs"]] == ["Harbor Health", "Lumen Labs"]
    assert first["has_more_results"] is True
    assert [org["name"] for org in second["orgs"]] == ["Northwind Traders"]
    assert (second["current_page"], second["has_more_results"]) == (1, False)
    far = await query(seeded, page_number=10**17)
    assert (far["orgs"], far["total_orgs"]) == ([], 3)


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"page_size": "0"}, {"page_size": ["Must be an integer of at least 1 and at most 100"]}),
        ({"page_size": "101"}, {"page_size": ["Must be an integer of at least 1 and at most 100"]}),
        ({"page_number": "-1"}, {"page_number": ["Must be an integer of at least 0"]}),
        ({"order_by": "EMAIL"}, {"order_by": ["Must be one of CREATED_AT_ASC, CREATED_AT_DESC, NAME"]}),
    ],
)
async def test_query_out_of_bounds_is_a_400_field_map(
    client: httpx2.AsyncClient, params: dict[str, str], errors: dict[str, list[str]]
) -> None:
    response = await client.get(f"{API}/org/query", params=params)
    assert (response.status_code, response.json()) == (400, errors)


async def test_query_accepts_a_json_body_by_post_or_get(seeded: httpx2.AsyncClient) -> None:
    body = {"page_size": 1, "page_number": 0, "order_by": "NAME", "name": "a", "legacy_org_id": None}
    posted = await seeded.post(f"{API}/org/query", json=body)
    got = await seeded.request("GET", f"{API}/org/query", json=body)
    for response in (posted, got):
        assert response.status_code == 200
        assert [org["name"] for org in response.json()["orgs"]] == ["Harbor Health"]
        assert (response.json()["page_size"], response.json()["total_orgs"]) == (1, 3)


async def test_a_query_body_of_the_wrong_types_is_a_400_field_map(client: httpx2.AsyncClient) -> None:
    response = await client.post(f"{API}/org/query", json={"page_size": "ten", "name": 3})
    assert response.status_code == 400
    assert response.json() == {"page_size": ["Must be an integer"], "name": ["Must be a string"]}


async def test_a_created_org_is_found_by_query(client: httpx2.AsyncClient) -> None:
    org_id = await create_org(client, name="Findable Co", legacy_org_id="find-1")
    user_id = await create_user(client)
    assert (await add_member(client, user_id, org_id)).status_code == 200
    page = await query(client, name="findable")
    (org,) = page["orgs"]
    assert (org["org_id"], org["legacy_org_id"], org["max_users"]) == (org_id, "find-1", None)
    assert isinstance(org["created_at"], int)


async def test_an_integer_field_past_64_bits_is_a_400_naming_it(client: httpx2.AsyncClient) -> None:
    response = await client.post(f"{API}/org/", json={"name": "Huge", "max_users": 2**63})
    assert response.status_code == 400 and list(response.json()) == ["max_users"]
