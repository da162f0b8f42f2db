"""Magic links: a URL with a single-use token, sign-up on demand, and expiry."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from sandbox.state import Sandbox
from tests.sandbox.sandbox_testkit import API, AUTH_URL, create_user, fetch_user

pytestmark = pytest.mark.anyio


async def make_link(client: httpx2.AsyncClient, **body: object) -> str:
    response = await client.post(f"{API}/magic_link", json=body)
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["url"]
    url: str = response.json()["url"]
    return url


async def redeem(client: httpx2.AsyncClient, url: str) -> httpx2.Response:
    parts = urlsplit(url)
    return await client.get(parts.path, params=parse_qs(parts.query))


async def test_magic_link_is_a_url_on_the_auth_url_with_a_token(client: httpx2.AsyncClient) -> None:
    await create_user(client, email="ada@example.com")
    url = await make_link(client, email="ada@example.com")
    assert url.startswith(f"{AUTH_URL}/")
    assert len(parse_qs(urlsplit(url).query)["token"][0]) >= 40


async def test_magic_link_tokens_are_stored_hashed(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    await create_user(client, email="ada@example.com")
    token = parse_qs(urlsplit(await make_link(client, email="ada@example.com")).query)["token"][0]
    with sandbox.store._lock:  # the test peeks at the raw table on purpose
        stored = [row[0] for row in sandbox.store._conn.execute("SELECT token_hash FROM magic_links")]
    assert len(stored) == 1 and token not in stored[0]


async def test_magic_link_works_once(client: httpx2.AsyncClient) -> None:
    user_id = await create_user(client, email="ada@example.com", email_confirmed=False)
    url = await make_link(client, email="ada@example.com", redirect_to_url="https://app.example.com/home")
    first = await redeem(client, url)
    second = await redeem(client, url)
    assert first.status_code == 200
    assert first.json() == {
        "user_id": user_id,
        "email": "ada@example.com",
        "redirect_to_url": "https://app.example.com/home",
    }
    assert (await fetch_user(client, user_id))["email_confirmed"] is True
    assert second.status_code == 404
    assert second.json() == {"message": "This magic link is invalid, expired or already used"}


async def test_magic_link_may_be_reusable_until_it_expires(client: httpx2.AsyncClient) -> None:
    await create_user(client, email="ada@example.com")
    url = await make_link(client, email="ada@example.com", expire_after_first_use=False)
    assert [(await redeem(client, url)).status_code for _ in range(2)] == [200, 200]


async def test_magic_link_expires_after_expires_in_hours(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    await create_user(client, email="ada@example.com")
    now = sandbox.clock()
    url = await make_link(client, email="ada@example.com", expires_in_hours=2)
    sandbox.clock = lambda: now + 2 * 3600 + 1
    expired = await redeem(client, url)
    assert expired.status_code == 404
    assert expired.json() == {"message": "This magic link is invalid, expired or already used"}


async def test_magic_link_for_an_unknown_email_is_404_unless_asked_to_create(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    refused = await client.post(f"{API}/magic_link", json={"email": "new@example.com"})
    assert refused.status_code == 404 and refused.json() == {"message": "User not found"}
    url = await make_link(client, email="new@example.com", create_new_user_if_one_doesnt_exist=True)
    assert sandbox.store.count_users() == 0  # the user signs up by following the link
    redeemed = await redeem(client, url)
    user = await fetch_user(client, redeemed.json()["user_id"])
    assert (user["email"], user["email_confirmed"]) == ("new@example.com", True)


async def test_magic_link_request_is_validated(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        f"{API}/magic_link",
        json={"email": "ada@example.com", "expires_in_hours": "soon", "redirect_to_url": "not a url"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "expires_in_hours": ["Must be an integer"],
        "redirect_to_url": ["Must be a valid http(s) URL"],
    }


async def test_magic_link_host_follows_x_propelauth_url(client: httpx2.AsyncClient) -> None:
    await create_user(client, email="ada@example.com")
    response = await client.post(
        f"{API}/magic_link", json={"email": "ada@example.com"}, headers={"X-Propelauth-url": "auth.acme.com"}
    )
    assert response.json()["url"].startswith("https://auth.acme.com/")


async def test_an_unknown_token_is_404(client: httpx2.AsyncClient) -> None:
    response = await client.get("/magic-link", params={"token": "made-up"})
    assert response.status_code == 404
