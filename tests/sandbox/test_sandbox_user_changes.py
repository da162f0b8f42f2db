"""Changing users: update, email, password, enable/disable, 2FA, sessions, delete, confirmation."""

from __future__ import annotations

import httpx2
import pytest

from sandbox.state import Sandbox
from tests.sandbox.sandbox_testkit import API, create_user, fetch_user

pytestmark = pytest.mark.anyio

UNKNOWN_ID = "5b0e8a7c-3f2d-4c1b-9a8e-7d6c5b4a3f21"


async def test_update_user_applies_only_the_given_non_null_fields(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client, first_name="Ada", last_name="Byron", properties={"a": 1})
    response = await client.put(
        f"{API}/user/{user_id}",
        json={
            "last_name": "Lovelace",
            "first_name": None,
            "username": "ada",
            "metadata": {"tier": "gold"},
            "properties": {"b": 2},
            "picture_url": "https://img.example.com/ada.png",
            "update_password_required": True,
            "legacy_user_id": "legacy-1",
        },
    )
    assert response.status_code == 200
    assert response.json() == {}
    user = await fetch_user(client, user_id)
    assert (user["first_name"], user["last_name"], user["username"]) == ("Ada", "Lovelace", "ada")
    assert user["metadata"] == {"tier": "gold"}
    assert user["properties"] == {"a": 1, "b": 2}  # properties merge, metadata is replaced
    assert user["picture_url"] == "https://img.example.com/ada.png"
    assert user["update_password_required"] is True
    assert user["legacy_user_id"] == "legacy-1"


async def test_update_user_rejects_unknown_fields_such_as_locked(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client)
    response = await client.put(f"{API}/user/{user_id}", json={"locked": True, "first_name": 3})
    assert response.status_code == 400
    assert response.json() == {"locked": ["Unknown field"], "first_name": ["Must be a string"]}
    assert (await fetch_user(client, user_id))["locked"] is False


async def test_update_user_to_a_taken_username_is_400(client: httpx2.AsyncClient) -> None:
    await create_user(client, email="a@example.com", username="taken")
    user_id = await create_user(client, email="b@example.com", username="mine")
    taken = await client.put(f"{API}/user/{user_id}", json={"username": "TAKEN"})
    own = await client.put(f"{API}/user/{user_id}", json={"username": "Mine"})
    assert taken.status_code == 400
    assert taken.json() == {"username": ["Username is already taken"]}
    assert own.status_code == 200


async def test_update_unknown_user_is_404(client: httpx2.AsyncClient) -> None:
    response = await client.put(f"{API}/user/{UNKNOWN_ID}", json={"first_name": "X"})
    assert response.status_code == 404
    assert response.json() == {"message": "User not found"}


@pytest.mark.parametrize(("require", "confirmed"), [(True, False), (False, True)])
async def test_update_email_sets_email_confirmed_from_require_email_confirmation(
    client: httpx2.AsyncClient, require: bool, confirmed: bool
) -> None:
    user_id = await create_user(client, email="old@example.com", email_confirmed=True)
    response = await client.put(
        f"{API}/user/{user_id}/email",
        json={"new_email": "new@example.com", "require_email_confirmation": require},
    )
    assert response.status_code == 200 and response.json() == {}
    user = await fetch_user(client, user_id)
    assert (user["email"], user["email_confirmed"]) == ("new@example.com", confirmed)


async def test_update_email_requires_both_fields(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client)
    response = await client.put(f"{API}/user/{user_id}/email", json={"new_email": "new@example.com"})
    assert response.status_code == 400
    assert response.json() == {"require_email_confirmation": ["This field is required"]}


async def test_update_email_to_a_taken_or_invalid_address_is_400(client: httpx2.AsyncClient) -> None:
    await create_user(client, email="taken@example.com")
    user_id = await create_user(client, email="mine@example.com")
    taken = await client.put(
        f"{API}/user/{user_id}/email",
        json={"new_email": "taken@example.com", "require_email_confirmation": False},
    )
    invalid = await client.put(
        f"{API}/user/{user_id}/email", json={"new_email": "nope", "require_email_confirmation": False}
    )
    assert taken.json() == {"new_email": ["Email is already taken"]}
    assert invalid.json() == {"new_email": ["Invalid email address"]}
    assert (taken.status_code, invalid.status_code) == (400, 400)


async def test_update_password_sets_has_password_and_update_required(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client)
    response = await client.put(
        f"{API}/user/{user_id}/password",
        json={"password": "a long new password", "ask_user_to_update_password_on_login": True},
    )
    assert response.status_code == 200 and response.json() == {}
    user = await fetch_user(client, user_id)
    assert (user["has_password"], user["update_password_required"]) == (True, True)


async def test_update_password_defaults_ask_to_update_to_false(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client, ask_user_to_update_password_on_login=True, password="first password")
    await client.put(f"{API}/user/{user_id}/password", json={"password": "second password"})
    assert (await fetch_user(client, user_id))["update_password_required"] is False


async def test_update_password_validates_the_password(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client)
    short = await client.put(f"{API}/user/{user_id}/password", json={"password": "abc"})
    missing = await client.put(f"{API}/user/{user_id}/password", json={})
    assert short.json() == {"password": ["Password must be at least 8 characters"]}
    assert missing.json() == {"password": ["This field is required"]}


async def test_clear_password_makes_has_password_false(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client, password="a fine password")
    response = await client.put(f"{API}/user/{user_id}/clear_password")
    assert response.status_code == 200 and response.json() == {}
    assert (await fetch_user(client, user_id))["has_password"] is False


async def test_disable_and_enable_flip_enabled(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    user_id = await create_user(client)
    generation = sandbox.store.session_generation(user_id)
    disabled = await client.post(f"{API}/user/{user_id}/disable")
    assert disabled.status_code == 200 and disabled.json() == {}
    assert (await fetch_user(client, user_id))["enabled"] is False
    assert sandbox.store.session_generation(user_id) == (generation or 0) + 1  # sessions end too
    enabled = await client.post(f"{API}/user/{user_id}/enable")
    assert enabled.status_code == 200 and enabled.json() == {}
    assert (await fetch_user(client, user_id))["enabled"] is True


async def test_disable_2fa_turns_mfa_off(client: httpx2.AsyncClient) -> None:
    migrated = await client.post(
        f"{API}/migrate_user/",
        json={"email": "mfa@example.com", "existing_mfa_base32_encoded_secret": "JBSWY3DPEHPK3PXP"},
    )
    user_id = migrated.json()["user_id"]
    assert (await fetch_user(client, user_id))["mfa_enabled"] is True
    response = await client.post(f"{API}/user/{user_id}/disable_2fa")
    assert response.status_code == 200 and response.json() == {}
    assert (await fetch_user(client, user_id))["mfa_enabled"] is False


async def test_logout_all_sessions_ends_the_users_sessions(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    user_id = await create_user(client)
    response = await client.post(f"{API}/user/{user_id}/logout_all_sessions")
    assert response.status_code == 200 and response.json() == {}
    assert sandbox.store.session_generation(user_id) == 1


async def test_delete_user_removes_it(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    user_id = await create_user(client)
    response = await client.delete(f"{API}/user/{user_id}")
    assert response.status_code == 200 and response.json() == {}
    assert (await client.get(f"{API}/user/{user_id}")).status_code == 404
    assert sandbox.store.count_users() == 0
    again = await client.delete(f"{API}/user/{user_id}")
    assert again.status_code == 404 and again.json() == {"message": "User not found"}


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("POST", "disable"),
        ("POST", "enable"),
        ("POST", "disable_2fa"),
        ("POST", "logout_all_sessions"),
        ("PUT", "clear_password"),
        ("PUT", "password"),
        ("PUT", "email"),
    ],
)
async def test_operations_on_an_unknown_user_are_404(
    client: httpx2.AsyncClient, method: str, suffix: str
) -> None:
    response = await client.request(method, f"{API}/user/{UNKNOWN_ID}/{suffix}", json={})
    assert response.status_code == 404
    assert response.json() == {"message": "User not found"}


async def test_resend_email_confirmation_takes_a_user_id(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client, email_confirmed=False)
    response = await client.post(f"{API}/resend_email_confirmation", json={"user_id": user_id})
    assert response.status_code == 200 and response.json() == {}


async def test_resend_email_confirmation_when_already_confirmed_is_400_user_facing(
    client: httpx2.AsyncClient,
) -> None:
    user_id = await create_user(client, email_confirmed=True)
    response = await client.post(f"{API}/resend_email_confirmation", json={"user_id": user_id})
    assert response.status_code == 400
    assert response.json() == {"user_facing_error": "This user's email is already confirmed"}


async def test_resend_email_confirmation_body_errors_are_user_facing(client: httpx2.AsyncClient) -> None:
    by_email = await client.post(f"{API}/resend_email_confirmation", json={"email": "a@example.com"})
    assert by_email.status_code == 400
    assert list(by_email.json()) == ["user_facing_error"]
    unknown = await client.post(f"{API}/resend_email_confirmation", json={"user_id": UNKNOWN_ID})
    assert unknown.status_code == 404 and unknown.json() == {"message": "User not found"}


async def test_migrate_user_keeps_the_hash_and_never_returns_it(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    response = await client.post(
        f"{API}/migrate_user/",
        json={
            "email": "kenji@example.com",
            "email_confirmed": True,
            "existing_user_id": "auth0|kenji",
            "existing_password_hash": "$2b$12$abcdefghijklmnopqrstuv",
            "update_password_required": True,
            "enabled": False,
            "first_name": "Kenji",
            "last_name": "Watanabe",
            "username": "kenji",
            "picture_url": "https://img.example.com/k.png",
            "properties": {"plan": "pro"},
        },
    )
    assert response.status_code == 200
    assert list(response.json()) == ["user_id"]
    user = await fetch_user(client, response.json()["user_id"])
    assert user["has_password"] is True
    assert (user["legacy_user_id"], user["enabled"], user["email_confirmed"]) == ("auth0|kenji", False, True)
    assert (user["username"], user["properties"], user["update_password_required"]) == (
        "kenji",
        {"plan": "pro"},
        True,
    )
    assert "$2b$" not in str(user) and "$2b$" not in str(sandbox.store.get_user(user["user_id"]))


async def test_migrate_user_with_a_taken_email_is_400(client: httpx2.AsyncClient) -> None:
    await create_user(client, email="taken@example.com")
    response = await client.post(f"{API}/migrate_user/", json={"email": "taken@example.com"})
    assert response.status_code == 400
    assert response.json() == {"email": ["Email is already taken"]}


async def test_migrate_user_password_attaches_a_hash(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client)
    response = await client.post(
        f"{API}/migrate_user/password", json={"user_id": user_id, "password_hash": "$argon2id$v=19$xyz"}
    )
    assert response.status_code == 200 and response.json() == {}
    assert (await fetch_user(client, user_id))["has_password"] is True


async def test_migrate_user_password_rejects_password_hash_type(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client)
    response = await client.post(
        f"{API}/migrate_user/password",
        json={"user_id": user_id, "password_hash": "x", "password_hash_type": "bcrypt"},
    )
    assert response.status_code == 400
    assert response.json() == {"password_hash_type": ["Unknown field"]}


async def test_migrate_password_of_unknown_user_is_404(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        f"{API}/migrate_user/password", json={"user_id": UNKNOWN_ID, "password_hash": "x"}
    )
    assert response.status_code == 404 and response.json() == {"message": "User not found"}


async def test_fetch_employee_returns_its_email(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.get(f"{API}/employee/3f8a2c1e-6b4d-4e7a-9c2b-5d1e8f0a7b31")
    assert response.status_code == 200
    assert response.json() == {"email": "morgan.lee@example.com"}


async def test_unknown_employee_is_404(client: httpx2.AsyncClient) -> None:
    response = await client.get(f"{API}/employee/3f8a2c1e-6b4d-4e7a-9c2b-5d1e8f0a7b31")
    assert response.status_code == 404
    assert response.json() == {"message": "Employee not found"}
