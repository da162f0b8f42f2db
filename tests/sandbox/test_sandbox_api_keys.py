"""End-user API keys: create (personal, org, both), import, fetch, list current / archived, update,
delete, validate (and validate imported), usage per day; each over HTTP, status and body."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest

from sandbox.demo import DEMO_API_KEYS, KNOWN_USER_EMAIL, LUMEN_LABS, NORTHWIND, demo_user_id
from sandbox.state import Sandbox
from tests.sandbox.sandbox_testkit import API, MEMBERSHIP_WIRE_KEYS, add_member, create_org, create_user

pytestmark = pytest.mark.anyio

KEYS = f"{API}/end_user_api_keys"
KEY_KEYS = {"api_key_id", "created_at", "expires_at_seconds", "metadata", "user_id", "org_id", "display_name"}
VALIDATION_ORG_KEYS = {
    "org_id",
    "org_name",
    "max_users",
    "is_saml_configured",
    "legacy_org_id",
    "metadata",
    "custom_role_mapping_name",
}
NOW = 1_780_000_000  # 2026-05-28 UTC
UNKNOWN_KEY_ID = "0" * 32


@pytest.fixture
def fixed_clock(sandbox: Sandbox) -> Sandbox:
    sandbox.clock = lambda: NOW
    return sandbox


async def create_key(client: httpx2.AsyncClient, **fields: Any) -> dict[str, str]:
    response = await client.post(KEYS, json=fields)
    assert response.status_code == 200, response.text
    answer: dict[str, str] = response.json()
    return answer


async def validate(client: httpx2.AsyncClient, token: str, path: str = "validate") -> httpx2.Response:
    return await client.post(f"{KEYS}/{path}", json={"api_key_token": token})


async def test_create_answers_a_32_hex_id_and_a_hex_token_that_fetch_never_shows(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    user_id = await create_user(client)
    created = await create_key(client, user_id=user_id, display_name="CLI", metadata={"scope": "read"})
    assert set(created) == {"api_key_id", "api_key_token"}
    assert re.fullmatch(r"[0-9a-f]{32}", created["api_key_id"])
    assert re.fullmatch(r"[0-9a-f]{64}", created["api_key_token"])
    fetched = (await client.get(f"{KEYS}/{created['api_key_id']}")).json()
    assert set(fetched) == KEY_KEYS
    assert fetched["user_id"] == user_id and fetched["org_id"] is None
    assert fetched["display_name"] == "CLI" and fetched["metadata"] == {"scope": "read"}
    assert fetched["expires_at_seconds"] is None
    # stored only as a hash: the token is nowhere in the database
    dump = "\n".join(sandbox.store._conn.iterdump())  # what is stored, row by row
    assert created["api_key_token"] not in dump


async def test_a_personal_key_validates_with_its_user_and_no_org(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client, email="key.owner@example.com")
    created = await create_key(client, user_id=user_id, metadata={"a": 1})
    response = await validate(client, created["api_key_token"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"metadata", "user", "org", "user_in_org"}
    assert body["metadata"] == {"a": 1}
    assert body["user"]["user_id"] == user_id and body["user"]["email"] == "key.owner@example.com"
    assert body["org"] is None and body["user_in_org"] is None


async def test_a_users_key_in_an_org_validates_with_user_org_and_membership(
    client: httpx2.AsyncClient,
) -> None:
    user_id = await create_user(client)
    org_id = await create_org(client, name="Keyholders")
    assert (await add_member(client, user_id, org_id, "Admin")).status_code == 200
    created = await create_key(client, user_id=user_id, org_id=org_id)
    body = (await validate(client, f"Bearer {created['api_key_token']}")).json()
    assert set(body["org"]) == VALIDATION_ORG_KEYS
    assert body["org"]["org_id"] == org_id and body["org"]["org_name"] == "Keyholders"
    assert set(body["user_in_org"]) == MEMBERSHIP_WIRE_KEYS
    assert body["user_in_org"]["user_role"] == "Admin"
    assert body["user"]["user_id"] == user_id


async def test_an_org_key_validates_with_the_org_and_no_user(client: httpx2.AsyncClient) -> None:
    org_id = await create_org(client)
    created = await create_key(client, org_id=org_id)
    body = (await validate(client, created["api_key_token"])).json()
    assert body["org"]["org_id"] == org_id
    assert body["user"] is None and body["user_in_org"] is None


async def test_an_unknown_token_is_a_400_naming_the_token(client: httpx2.AsyncClient) -> None:
    response = await validate(client, "ab" * 32)
    assert response.status_code == 400
    assert list(response.json()) == ["api_key_token"]


async def test_create_refuses_unknown_owners_a_non_member_and_a_past_expiry(
    client: httpx2.AsyncClient, fixed_clock: Sandbox
) -> None:
    unknown = "5b0e8a7c-3f2d-4c1b-9a8e-7d6c5b4a3f21"
    response = await client.post(KEYS, json={"user_id": unknown, "org_id": unknown})
    assert response.status_code == 400
    assert set(response.json()) == {"user_id", "org_id"}
    user_id, org_id = await create_user(client), await create_org(client)
    response = await client.post(KEYS, json={"user_id": user_id, "org_id": org_id})
    assert response.status_code == 400 and list(response.json()) == ["user_id"]
    response = await client.post(KEYS, json={"user_id": user_id, "expires_at_seconds": NOW})
    assert response.status_code == 400 and list(response.json()) == ["expires_at_seconds"]
    response = await client.post(KEYS, json={"metadata": [1]})
    assert response.status_code == 400 and list(response.json()) == ["metadata"]


async def test_an_expired_key_fails_validation_and_lists_as_archived(
    client: httpx2.AsyncClient, fixed_clock: Sandbox
) -> None:
    created = await create_key(client, expires_at_seconds=NOW + 60)
    assert (await validate(client, created["api_key_token"])).status_code == 200
    fixed_clock.clock = lambda: NOW + 60
    assert (await validate(client, created["api_key_token"])).status_code == 400
    current = (await client.get(KEYS)).json()
    archived = (await client.get(f"{KEYS}/archived")).json()
    assert current["total_api_keys"] == 0
    assert [key["api_key_id"] for key in archived["api_keys"]] == [created["api_key_id"]]


async def test_update_changes_expiry_and_metadata_and_set_to_never_expire_clears_it(
    client: httpx2.AsyncClient, fixed_clock: Sandbox
) -> None:
    key_id = (await create_key(client, expires_at_seconds=NOW + 60))["api_key_id"]
    response = await client.patch(
        f"{KEYS}/{key_id}", json={"expires_at_seconds": NOW + 600, "metadata": {"b": 2}}
    )
    assert response.status_code == 200, response.text
    fetched = (await client.get(f"{KEYS}/{key_id}")).json()
    assert fetched["expires_at_seconds"] == NOW + 600 and fetched["metadata"] == {"b": 2}
    assert (await client.patch(f"{KEYS}/{key_id}", json={"set_to_never_expire": True})).status_code == 200
    assert (await client.get(f"{KEYS}/{key_id}")).json()["expires_at_seconds"] is None
    # node's SDK types metadata as a string: a JSON object in a string is accepted too
    assert (await client.patch(f"{KEYS}/{key_id}", json={"metadata": '{"c": 3}'})).status_code == 200
    assert (await client.get(f"{KEYS}/{key_id}")).json()["metadata"] == {"c": 3}
    both = {"set_to_never_expire": True, "expires_at_seconds": NOW + 5}
    response = await client.patch(f"{KEYS}/{key_id}", json=both)
    assert response.status_code == 400 and list(response.json()) == ["set_to_never_expire"]


async def test_delete_archives_the_key_and_it_no_longer_validates(client: httpx2.AsyncClient) -> None:
    created = await create_key(client)
    key_id = created["api_key_id"]
    assert (await client.delete(f"{KEYS}/{key_id}")).status_code == 200
    assert (await validate(client, created["api_key_token"])).status_code == 400
    assert (await client.get(f"{KEYS}/{key_id}")).status_code == 200  # still fetchable
    archived = (await client.get(f"{KEYS}/archived")).json()
    assert archived["api_keys"][0]["api_key_id"] == key_id
    response = await client.delete(f"{KEYS}/{key_id}")
    assert response.status_code == 404 and "message" in response.json()
    assert (await client.patch(f"{KEYS}/{key_id}", json={"metadata": {}})).status_code == 404


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_unknown_or_malformed_key_ids_are_404(client: httpx2.AsyncClient, method: str) -> None:
    for key_id in (UNKNOWN_KEY_ID, "not-hex"):
        response = await client.request(method, f"{KEYS}/{key_id}", json={} if method == "PATCH" else None)
        assert response.status_code == 404
        assert response.json() == {"message": "API key not found"}


async def test_lists_filter_by_org_user_and_user_email_and_page(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client, email="filter.me@example.com")
    org_id = await create_org(client)
    await add_member(client, user_id, org_id)
    personal = [(await create_key(client, user_id=user_id))["api_key_id"] for _ in range(3)]
    org_key = (await create_key(client, org_id=org_id))["api_key_id"]
    by_user = (await client.get(KEYS, params={"user_id": user_id})).json()
    assert [key["api_key_id"] for key in by_user["api_keys"]] == personal
    by_email = (await client.get(KEYS, params={"user_email": "FILTER.me@example.com"})).json()
    assert by_email["total_api_keys"] == 3
    by_org = (await client.get(KEYS, params={"org_id": org_id})).json()
    assert [key["api_key_id"] for key in by_org["api_keys"]] == [org_key]
    second = (await client.get(KEYS, params={"page_size": 2, "page_number": 1})).json()
    assert second == {
        "api_keys": second["api_keys"],
        "total_api_keys": 4,
        "current_page": 1,
        "page_size": 2,
        "has_more_results": False,
    }
    assert [key["api_key_id"] for key in second["api_keys"]] == [personal[2], org_key]
    typed = (await client.get(KEYS, params={"api_key_type": "org"})).json()
    assert typed["total_api_keys"] == 1


async def test_list_filters_are_validated(client: httpx2.AsyncClient) -> None:
    response = await client.get(KEYS, params={"org_id": "nope", "page_size": 0, "api_key_type": "x"})
    assert response.status_code == 400
    assert set(response.json()) == {"org_id", "page_size", "api_key_type"}


async def test_usage_counts_validations_per_day_with_filters(
    client: httpx2.AsyncClient, fixed_clock: Sandbox
) -> None:
    user_id = await create_user(client)
    first, second = await create_key(client, user_id=user_id), await create_key(client)
    for _ in range(3):
        await validate(client, first["api_key_token"])
    await validate(client, second["api_key_token"])
    await validate(client, "f" * 64)  # failed validations are not uses
    fixed_clock.clock = lambda: NOW + 86_400
    await validate(client, first["api_key_token"])
    day = "2026-05-28"

    async def usage(**params: str) -> Any:
        response = await client.get(f"{KEYS}/usage", params={"date": day, **params})
        assert response.status_code == 200, response.text
        return response.json()

    assert await usage() == {"count": 4}
    assert await usage(api_key_id=first["api_key_id"]) == {"count": 3}
    assert await usage(user_id=user_id) == {"count": 3}
    assert await usage(date="2026-05-29") == {"count": 1}


async def test_usage_needs_a_date_as_yyyy_mm_dd(client: httpx2.AsyncClient) -> None:
    response = await client.get(f"{KEYS}/usage")
    assert response.status_code == 400 and list(response.json()) == ["date"]
    response = await client.get(f"{KEYS}/usage", params={"date": "2026-02-30"})
    assert response.status_code == 400 and list(response.json()) == ["date"]


async def test_an_imported_key_validates_only_through_validate_imported(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client)
    imported = "legacy_sk_live_0123456789"
    response = await client.post(
        f"{KEYS}/import", json={"imported_api_key": imported, "user_id": user_id, "display_name": "Old"}
    )
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"api_key_id"}
    assert (await validate(client, imported)).status_code == 400
    response = await validate(client, imported, "validate_imported")
    assert response.status_code == 200 and response.json()["user"]["user_id"] == user_id
    again = await client.post(f"{KEYS}/import", json={"imported_api_key": imported})
    assert again.status_code == 400 and list(again.json()) == ["imported_api_key"]
    missing = await client.post(f"{KEYS}/import", json={})
    assert missing.status_code == 400 and list(missing.json()) == ["imported_api_key"]


async def test_demo_keys_cover_personal_org_expired_and_archived(seeded: httpx2.AsyncClient) -> None:
    ada = demo_user_id(KNOWN_USER_EMAIL)
    current = (await seeded.get(KEYS)).json()
    archived = (await seeded.get(f"{KEYS}/archived")).json()
    assert {key["display_name"] for key in current["api_keys"]} == {
        "Ada's CLI",
        "Northwind ERP sync",
        "Grace's Lumen key",
    }
    assert {key["display_name"] for key in archived["api_keys"]} == {
        "Old Northwind import",
        "Leaked Lumen key",
    }
    body = (await validate(seeded, DEMO_API_KEYS["Ada's CLI"].token)).json()
    assert body["user"]["user_id"] == ada and body["org"] is None
    body = (await validate(seeded, DEMO_API_KEYS["Grace's Lumen key"].token)).json()
    assert body["org"]["org_id"] == LUMEN_LABS and body["user_in_org"]["org_id"] == LUMEN_LABS
    body = (await validate(seeded, DEMO_API_KEYS["Northwind ERP sync"].token)).json()
    assert body["org"]["org_id"] == NORTHWIND and body["metadata"] == {"system": "erp"}
    assert (await validate(seeded, DEMO_API_KEYS["Old Northwind import"].token)).status_code == 400


async def test_expiry_may_be_a_number_or_a_string_of_digits_but_nothing_else(
    client: httpx2.AsyncClient, fixed_clock: Sandbox
) -> None:
    # python's SDK types expires_at_seconds as str; node and go send a number
    key_id = (await create_key(client, expires_at_seconds=str(NOW + 60)))["api_key_id"]
    assert (await client.get(f"{KEYS}/{key_id}")).json()["expires_at_seconds"] == NOW + 60
    for bad in ("soon", True, 1.5, 2**63):  # past a 64-bit integer: not one PropelAuth (or SQLite) holds
        response = await client.post(KEYS, json={"expires_at_seconds": bad})
        assert response.status_code == 400 and list(response.json()) == ["expires_at_seconds"]


async def test_a_key_whose_user_or_org_was_deleted_no_longer_validates(client: httpx2.AsyncClient) -> None:
    user_id, org_id = await create_user(client), await create_org(client)
    personal, org_key = await create_key(client, user_id=user_id), await create_key(client, org_id=org_id)
    assert (await client.delete(f"{API}/user/{user_id}")).status_code == 200
    assert (await client.delete(f"{API}/org/{org_id}")).status_code == 200
    for created in (personal, org_key):
        response = await validate(client, created["api_key_token"])
        assert response.status_code == 400 and list(response.json()) == ["api_key_token"]
