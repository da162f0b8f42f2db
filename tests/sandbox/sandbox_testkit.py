"""Shared constants and helpers of the sandbox tests (a unique module name: no clash across test dirs)."""

from __future__ import annotations

from typing import Any

import httpx2
from starlette.applications import Starlette

API_KEY = "test-api-key"
AUTH_URL = "https://auth.sandbox.test"
API = "/api/backend/v1"
# The seven keys of an org membership, in a User's org_id_to_org_info and in access tokens alike.
MEMBERSHIP_KEYS = {
    "org_id",
    "org_name",
    "org_metadata",
    "user_role",
    "url_safe_org_name",
    "inherited_user_roles_plus_current_role",
    "user_permissions",
}
# The optional keys the sandbox sends as well (the SDK reads them when present).
MEMBERSHIP_OPTIONAL_KEYS = {"org_role_structure", "additional_roles", "legacy_org_id"}
MEMBERSHIP_WIRE_KEYS = MEMBERSHIP_KEYS | MEMBERSHIP_OPTIONAL_KEYS


def client_for(app: Starlette, *, api_key: str | None = API_KEY) -> httpx2.AsyncClient:
    headers = {} if api_key is None else {"Authorization": f"Bearer {api_key}"}
    return httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://sandbox.test", headers=headers
    )


async def create_user(client: httpx2.AsyncClient, **fields: Any) -> str:
    """Create a user through the API and return its id."""
    body = {"email": "someone@example.com", **fields}
    response = await client.post(f"{API}/user/", json=body)
    assert response.status_code == 200, response.text
    user_id: str = response.json()["user_id"]
    return user_id


async def fetch_user(client: httpx2.AsyncClient, user_id: str, **params: str) -> dict[str, Any]:
    response = await client.get(f"{API}/user/{user_id}", params=params)
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()
    return user


async def create_org(client: httpx2.AsyncClient, **fields: Any) -> str:
    """Create an org through the API and return its id."""
    body = {"name": "Acme", **fields}
    response = await client.post(f"{API}/org/", json=body)
    assert response.status_code == 200, response.text
    org_id: str = response.json()["org_id"]
    return org_id


async def add_member(
    client: httpx2.AsyncClient, user_id: str, org_id: str, role: str = "Member", **fields: Any
) -> httpx2.Response:
    body = {"user_id": user_id, "org_id": org_id, "role": role, **fields}
    return await client.post(f"{API}/org/add_user", json=body)
