"""Access tokens: RS256 JWTs verifiable with the served PEM, exactly as the official SDKs verify them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import jwt
import pytest

from sandbox import create_app
from sandbox.demo import KNOWN_USER_EMAIL, LUMEN_LABS, NORTHWIND, demo_user_id
from sandbox.state import Sandbox
from tests.sandbox.sandbox_testkit import (
    API,
    API_KEY,
    AUTH_URL,
    MEMBERSHIP_WIRE_KEYS,
    client_for,
    create_user,
)

pytestmark = pytest.mark.anyio

ADA = demo_user_id(KNOWN_USER_EMAIL)


async def verifier_key(client: httpx2.AsyncClient) -> str:
    response = await client.get("/api/v1/token_verification_metadata")
    assert response.status_code == 200
    assert list(response.json()) == ["verifier_key_pem"]
    pem: str = response.json()["verifier_key_pem"]
    return pem


def verify_like_the_sdk(token: str, pem: str, issuer: str) -> dict[str, Any]:
    """RS256 only; exp, iat and iss required; issuer https://<auth host>; 60 s leeway."""
    claims: dict[str, Any] = jwt.decode(
        token,
        pem,
        algorithms=["RS256"],
        issuer=issuer,
        leeway=60,
        options={"require": ["exp", "iat", "iss"]},
    )
    return claims


async def mint(client: httpx2.AsyncClient, **body: Any) -> str:
    response = await client.post(f"{API}/access_token", json={"duration_in_minutes": 30, **body})
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["access_token"]
    token: str = response.json()["access_token"]
    return token


async def test_verification_metadata_serves_a_public_key_pem(client: httpx2.AsyncClient) -> None:
    pem = await verifier_key(client)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in pem


async def test_token_verifies_with_the_served_key_and_carries_the_user(seeded: httpx2.AsyncClient) -> None:
    token = await mint(seeded, user_id=ADA)
    claims = verify_like_the_sdk(token, await verifier_key(seeded), AUTH_URL)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert claims["user_id"] == ADA
    assert claims["email"] == KNOWN_USER_EMAIL
    assert (claims["first_name"], claims["last_name"], claims["username"]) == ("Ada", "Lovelace", "ada")
    assert claims["login_method"] == {"login_method": "generated_from_backend_api"}
    assert claims["exp"] - claims["iat"] == 30 * 60
    orgs = claims["org_id_to_org_member_info"]
    assert set(orgs) == {LUMEN_LABS, NORTHWIND}
    assert set(orgs[LUMEN_LABS]) == MEMBERSHIP_WIRE_KEYS
    assert orgs[LUMEN_LABS]["user_role"] == "Owner"
    assert "org_member_info" not in claims


async def test_token_minted_with_active_org_carries_only_that_membership(seeded: httpx2.AsyncClient) -> None:
    token = await mint(seeded, user_id=ADA, active_org_id=NORTHWIND)
    claims = verify_like_the_sdk(token, await verifier_key(seeded), AUTH_URL)
    assert claims["org_member_info"]["org_id"] == NORTHWIND
    assert set(claims["org_member_info"]) == MEMBERSHIP_WIRE_KEYS
    assert "org_id_to_org_member_info" not in claims


async def test_active_org_the_user_is_not_in_is_400(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client)
    response = await client.post(
        f"{API}/access_token",
        json={"user_id": user_id, "duration_in_minutes": 5, "active_org_id": LUMEN_LABS},
    )
    assert response.status_code == 400
    assert response.json() == {"active_org_id": ["The user is not a member of this organization"]}


async def test_issuer_follows_the_x_propelauth_url_header(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.post(
        f"{API}/access_token",
        json={"user_id": ADA, "duration_in_minutes": 5},
        headers={"X-Propelauth-url": "auth.acme.com:8443"},
    )
    token = response.json()["access_token"]
    claims = verify_like_the_sdk(token, await verifier_key(seeded), "https://auth.acme.com:8443")
    assert claims["iss"] == "https://auth.acme.com:8443"
    with pytest.raises(jwt.InvalidIssuerError):
        verify_like_the_sdk(token, await verifier_key(seeded), AUTH_URL)


async def test_token_expires_after_duration_in_minutes(seeded: httpx2.AsyncClient, seeded_app: Any) -> None:
    sandbox: Sandbox = seeded_app.state.sandbox
    real_now = sandbox.clock()
    sandbox.clock = lambda: real_now - 5 * 60  # minted five minutes ago
    token = await mint(seeded, user_id=ADA, duration_in_minutes=3)
    with pytest.raises(jwt.ExpiredSignatureError):
        verify_like_the_sdk(token, await verifier_key(seeded), AUTH_URL)


async def test_token_for_an_unknown_user_is_403(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        f"{API}/access_token",
        json={"user_id": "5b0e8a7c-3f2d-4c1b-9a8e-7d6c5b4a3f21", "duration_in_minutes": 5},
    )
    assert response.status_code == 403
    assert response.json() == {"message": "User not found"}


async def test_access_tokens_disabled_for_the_project_is_404(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    user_id = await create_user(client)
    sandbox.access_tokens_enabled = False
    response = await client.post(f"{API}/access_token", json={"user_id": user_id, "duration_in_minutes": 5})
    assert response.status_code == 404
    assert response.json() == {"message": "Access token creation is not enabled for this project"}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"user_id": "5b0e8a7c-3f2d-4c1b-9a8e-7d6c5b4a3f21"},
            {"duration_in_minutes": ["This field is required"]},
        ),
        ({"user_id": "x", "duration_in_minutes": 5}, {"user_id": ["Must be a UUID"]}),
        (
            {"user_id": "5b0e8a7c-3f2d-4c1b-9a8e-7d6c5b4a3f21", "duration_in_minutes": 0},
            {"duration_in_minutes": ["Must be between 1 and 1440"]},
        ),
    ],
)
async def test_access_token_request_is_validated(
    client: httpx2.AsyncClient, body: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    response = await client.post(f"{API}/access_token", json=body)
    assert response.status_code == 400
    assert response.json() == errors


async def test_the_key_pair_is_generated_once_and_kept_in_the_store(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    first = create_app(api_key=API_KEY, db_path=db)
    async with client_for(first) as client:
        user_id = await create_user(client)
        token = await mint(client, user_id=user_id)
    first.state.sandbox.store.close()
    second = create_app(api_key=API_KEY, db_path=db)
    async with client_for(second) as client:
        pem = await verifier_key(client)
    assert verify_like_the_sdk(token, pem, "http://localhost:8787")["user_id"] == user_id
