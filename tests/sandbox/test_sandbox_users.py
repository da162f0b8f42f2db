"""Creating and fetching users: ids, lookups, literal routes and the 400 field map."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx2
import pytest

from sandbox import create_app
from sandbox.passwords import verify_password
from sandbox.state import Sandbox
from tests.sandbox.sandbox_testkit import API, API_KEY, client_for, create_user, fetch_user

pytestmark = pytest.mark.anyio

UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
UNKNOWN_ID = "5b0e8a7c-3f2d-4c1b-9a8e-7d6c5b4a3f21"

USER_KEYS = {
    "user_id",
    "email",
    "email_confirmed",
    "has_password",
    "username",
    "first_name",
    "last_name",
    "picture_url",
    "locked",
    "enabled",
    "mfa_enabled",
    "can_create_orgs",
    "created_at",
    "last_active_at",
    "legacy_user_id",
    "impersonator_user_id",
    "metadata",
    "properties",
    "update_password_required",
}


async def test_create_user_returns_only_a_lowercase_uuid4_user_id(client: httpx2.AsyncClient) -> None:
    response = await client.post(f"{API}/user/", json={"email": "ada@example.com"})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["user_id"]
    assert UUID_V4.match(body["user_id"])


async def test_created_user_is_fetched_with_every_wire_field(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(
        client,
        email="grace@example.com",
        first_name="Grace",
        last_name="Hopper",
        username="ghopper",
        password="correct horse battery",
        email_confirmed=True,
        properties={"team": "navy"},
        ask_user_to_update_password_on_login=True,
        send_email_to_confirm_email_address=False,
        ignore_domain_restrictions=True,
    )
    user = await fetch_user(client, user_id)
    assert set(user) == USER_KEYS
    assert user["user_id"] == user_id
    assert user["email"] == "grace@example.com"
    assert (user["first_name"], user["last_name"], user["username"]) == ("Grace", "Hopper", "ghopper")
    assert user["email_confirmed"] is True
    assert user["has_password"] is True
    assert user["update_password_required"] is True
    assert user["properties"] == {"team": "navy"}
    assert (user["enabled"], user["locked"], user["mfa_enabled"]) == (True, False, False)
    assert isinstance(user["created_at"], int)
    assert user["impersonator_user_id"] is None


async def test_user_without_password_has_password_false(client: httpx2.AsyncClient) -> None:
    user = await fetch_user(client, await create_user(client))
    assert user["has_password"] is False
    assert user["email_confirmed"] is False


async def test_unknown_user_id_is_404(client: httpx2.AsyncClient) -> None:
    response = await client.get(f"{API}/user/{UNKNOWN_ID}")
    assert response.status_code == 404
    assert response.json() == {"message": "User not found"}


@pytest.mark.parametrize(
    "bad_id", ["not-a-uuid", "5B0E8A7C-3F2D-4C1B-9A8E-7D6C5B4A3F21", "5b0e8a7c-3f2d-1c1b-9a8e-7d6c5b4a3f21"]
)
async def test_ids_that_are_not_lowercase_uuid4_are_404(client: httpx2.AsyncClient, bad_id: str) -> None:
    response = await client.get(f"{API}/user/{bad_id}")
    assert response.status_code == 404
    assert response.json() == {"message": "User not found"}


async def test_uppercase_form_of_an_existing_id_is_not_that_user(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client)
    response = await client.get(f"{API}/user/{user_id.upper()}")
    assert response.status_code == 404


async def test_fetch_by_email_is_case_insensitive(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client, email="Ada.Lovelace@Example.com")
    response = await client.get(f"{API}/user/email", params={"email": "ada.lovelace@example.com"})
    assert response.status_code == 200
    assert response.json()["user_id"] == user_id
    assert response.json()["email"] == "Ada.Lovelace@Example.com"


async def test_fetch_by_unknown_email_is_404(client: httpx2.AsyncClient) -> None:
    response = await client.get(f"{API}/user/email", params={"email": "nobody@example.com"})
    assert response.status_code == 404
    assert response.json() == {"message": "User not found"}


async def test_fetch_by_email_without_email_is_400(client: httpx2.AsyncClient) -> None:
    response = await client.get(f"{API}/user/email")
    assert response.status_code == 400
    assert response.json() == {"email": ["This field is required"]}


async def test_fetch_by_username(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client, username="ada")
    found = await client.get(f"{API}/user/username", params={"username": "ADA"})
    missing = await client.get(f"{API}/user/username", params={"username": "bob"})
    assert found.json()["user_id"] == user_id
    assert missing.status_code == 404
    assert missing.json() == {"message": "User not found"}


async def test_literal_routes_are_never_taken_for_a_user_id(client: httpx2.AsyncClient) -> None:
    # Each literal route answers with its own validation error, not "user not found".
    email = await client.get(f"{API}/user/email")
    username = await client.get(f"{API}/user/username")
    query = await client.get(f"{API}/user/query")
    assert email.json() == {"email": ["This field is required"]}
    assert username.json() == {"username": ["This field is required"]}
    assert query.status_code == 200
    assert set(query.json()) == {"users", "total_users", "current_page", "page_size", "has_more_results"}


async def test_trailing_slash_matters_as_on_the_real_service(client: httpx2.AsyncClient) -> None:
    response = await client.post(f"{API}/user", json={"email": "a@example.com"})
    assert response.status_code in (404, 405)
    assert "location" not in response.headers


async def test_taken_email_is_400_with_the_field_map(client: httpx2.AsyncClient) -> None:
    await create_user(client, email="ada@example.com")
    response = await client.post(f"{API}/user/", json={"email": "ADA@example.com"})
    assert response.status_code == 400
    assert response.json() == {"email": ["Email is already taken"]}


async def test_taken_username_is_400_with_the_field_map(client: httpx2.AsyncClient) -> None:
    await create_user(client, email="a@example.com", username="ada")
    response = await client.post(f"{API}/user/", json={"email": "b@example.com", "username": "Ada"})
    assert response.status_code == 400
    assert response.json() == {"username": ["Username is already taken"]}


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com", "sp ace@example.com"])
async def test_invalid_email_is_400(client: httpx2.AsyncClient, email: str) -> None:
    response = await client.post(f"{API}/user/", json={"email": email})
    assert response.status_code == 400
    assert response.json() == {"email": ["Invalid email address"]}


async def test_bad_and_unknown_fields_are_each_reported(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        f"{API}/user/", json={"email": "a@example.com", "email_confirmed": "yes", "locked": True}
    )
    assert response.status_code == 400
    assert response.json() == {"email_confirmed": ["Must be true or false"], "locked": ["Unknown field"]}


async def test_missing_email_is_400(client: httpx2.AsyncClient) -> None:
    response = await client.post(f"{API}/user/", json={"first_name": "Ada"})
    assert response.status_code == 400
    assert response.json() == {"email": ["This field is required"]}


async def test_short_password_is_400(client: httpx2.AsyncClient) -> None:
    response = await client.post(f"{API}/user/", json={"email": "a@example.com", "password": "short"})
    assert response.status_code == 400
    assert response.json() == {"password": ["Password must be at least 8 characters"]}


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"", b'{"email": NaN}'])
async def test_a_body_that_is_not_a_json_object_is_400(client: httpx2.AsyncClient, raw: bytes) -> None:
    response = await client.post(f"{API}/user/", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert list(response.json()) == ["body"]


async def test_passwords_are_stored_only_as_salted_scrypt_hashes(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    app = create_app(api_key=API_KEY, db_path=str(db))
    async with client_for(app) as client:
        first = await create_user(client, email="a@example.com", password="same password")
        second = await create_user(client, email="b@example.com", password="same password")
    app.state.sandbox.store.close()
    with closing(sqlite3.connect(db)) as conn:  # a sqlite3 connection's own `with` does not close it
        hashes = dict(conn.execute("SELECT user_id, password_hash FROM users").fetchall())
    assert all(h.startswith("scrypt$") and "same password" not in h for h in hashes.values())
    assert hashes[first] != hashes[second]  # salted
    assert verify_password("same password", hashes[first])
    assert not verify_password("other password", hashes[first])


async def test_get_user_and_count_users_read_the_store(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    assert sandbox.store.count_users() == 0
    user_id = await create_user(client, email="a@example.com")
    stored = sandbox.store.get_user(user_id)
    assert stored is not None and stored["email"] == "a@example.com"
    assert sandbox.store.count_users() == 1
    assert sandbox.store.get_user(UNKNOWN_ID) is None
