"""The authorize endpoint: PKCE S256 and resource required, refusals before and after the redirect URI
is trusted, auto-approval, and the sign-in page with its one-time form."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest

from tests.sandbox.oauth_testkit import (
    ALICE,
    ISSUER,
    REDIRECT_URI,
    SignInForm,
    authorize_params,
    exchange,
    oauth_sandbox,
    pkce,
    redirect_query,
    register,
)
from tests.sandbox.sandbox_testkit import create_user

pytestmark = pytest.mark.anyio


async def test_auto_approval_signs_the_configured_user_in_and_redirects_with_code_state_and_issuer() -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http))["client_id"]
        response = await s.http.get("/oauth/2.1/authorize", params=authorize_params(client_id, pkce()[1]))
    query = redirect_query(response)
    assert query["state"] == "state-123"
    assert query["iss"] == ISSUER
    assert len(query["code"]) >= 32


async def test_an_unknown_client_gets_a_400_page_and_no_redirect() -> None:
    async with oauth_sandbox() as s:
        response = await s.http.get(
            "/oauth/2.1/authorize", params=authorize_params("no-such-client", pkce()[1])
        )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")


async def test_a_redirect_uri_not_registered_exactly_gets_a_400_page_and_no_redirect() -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http))["client_id"]
        params = authorize_params(client_id, pkce()[1], redirect_uri=REDIRECT_URI + "/other")
        response = await s.http.get("/oauth/2.1/authorize", params=params)
    assert response.status_code == 400
    assert "location" not in response.headers


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"resource": None}, "invalid_request"),
        ({"resource": "not a uri"}, "invalid_target"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "write:everything"}, "invalid_scope"),
    ],
)
async def test_a_bad_request_from_a_trusted_client_is_refused_through_its_redirect_uri(
    overrides: dict[str, str | None], error: str
) -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http))["client_id"]
        response = await s.http.get(
            "/oauth/2.1/authorize", params=authorize_params(client_id, pkce()[1], **overrides)
        )
    query = redirect_query(response)
    assert query["error"] == error
    assert query["state"] == "state-123"
    assert "code" not in query


async def test_a_missing_state_is_refused_as_propelauth_requires_it() -> None:
    async with oauth_sandbox() as s:
        client_id = (await register(s.http))["client_id"]
        response = await s.http.get(
            "/oauth/2.1/authorize", params=authorize_params(client_id, pkce()[1], state=None)
        )
    query = redirect_query(response)
    assert query["error"] == "invalid_request"
    assert "state" not in query


async def test_granted_scopes_are_the_requested_ones_the_sandbox_offers() -> None:
    async with oauth_sandbox(oauth_scopes=["read:users", "admin:users"]) as s:
        client_id = (await register(s.http))["client_id"]
        verifier, challenge = pkce()
        params = authorize_params(client_id, challenge, scope="read:users unknown:scope")
        code = redirect_query(await s.http.get("/oauth/2.1/authorize", params=params))["code"]
        response = await exchange(s.http, client_id, code, verifier)
    assert response.json()["scope"] == "read:users"


async def test_no_requested_scope_grants_every_scope_the_sandbox_offers() -> None:
    async with oauth_sandbox(oauth_scopes=["read:users", "admin:users"]) as s:
        client_id = (await register(s.http))["client_id"]
        verifier, challenge = pkce()
        code = redirect_query(
            await s.http.get("/oauth/2.1/authorize", params=authorize_params(client_id, challenge))
        )["code"]
        response = await exchange(s.http, client_id, code, verifier)
    assert response.json()["scope"] == "read:users admin:users"


async def test_auto_approval_of_a_disabled_user_is_access_denied() -> None:
    async with oauth_sandbox() as s:
        alice = (await s.api.get("/api/backend/v1/user/email", params={"email": ALICE})).json()["user_id"]
        await s.api.post(f"/api/backend/v1/user/{alice}/disable")
        client_id = (await register(s.http))["client_id"]
        response = await s.http.get("/oauth/2.1/authorize", params=authorize_params(client_id, pkce()[1]))
    assert redirect_query(response)["error"] == "access_denied"


async def test_without_auto_approval_the_page_lists_the_users_and_its_post_signs_the_chosen_one_in() -> None:
    async with oauth_sandbox(oauth_auto_approve=None) as s:
        client_id = (await register(s.http))["client_id"]
        verifier, challenge = pkce()
        page = await s.http.get("/oauth/2.1/authorize", params=authorize_params(client_id, challenge))
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        form = SignInForm(page.text)
        assert len(form.user_ids) == 1 and form.fields["client_id"] == client_id
        posted = await s.http.post("/oauth/2.1/authorize", data={**form.fields, "user_id": form.user_ids[0]})
        code = redirect_query(posted)["code"]
        token = await exchange(s.http, client_id, code, verifier)
        introspected = await s.http.post(
            "/oauth/2.1/introspect",
            data={"token": token.json()["access_token"]},
            auth=("introspector", "introspection-secret"),
        )
    assert introspected.json()["sub"] == form.user_ids[0]


async def test_the_sign_in_form_is_good_for_one_post_only() -> None:
    async with oauth_sandbox(oauth_auto_approve=None) as s:
        client_id = (await register(s.http))["client_id"]
        page = await s.http.get("/oauth/2.1/authorize", params=authorize_params(client_id, pkce()[1]))
        form = SignInForm(page.text)
        first = await s.http.post("/oauth/2.1/authorize", data={**form.fields, "user_id": form.user_ids[0]})
        second = await s.http.post("/oauth/2.1/authorize", data={**form.fields, "user_id": form.user_ids[0]})
    assert first.status_code == 302
    assert second.status_code == 400 and "location" not in second.headers


async def test_the_sign_in_form_cannot_be_replayed_with_other_parameters() -> None:
    async with oauth_sandbox(oauth_auto_approve=None) as s:
        client_id = (await register(s.http))["client_id"]
        page = await s.http.get("/oauth/2.1/authorize", params=authorize_params(client_id, pkce()[1]))
        form = SignInForm(page.text)
        tampered = {**form.fields, "code_challenge": pkce()[1], "user_id": form.user_ids[0]}
        response = await s.http.post("/oauth/2.1/authorize", data=tampered)
    assert response.status_code == 400 and "location" not in response.headers


async def test_the_sign_in_page_escapes_a_hostile_user_name() -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    async with oauth_sandbox(oauth_auto_approve=None, with_alice=False) as s:
        await create_user(s.api, email="mallory@example.com", first_name=hostile)
        client_id = (await register(s.http, client_name="<b>client</b>"))["client_id"]
        page = await s.http.get("/oauth/2.1/authorize", params=authorize_params(client_id, pkce()[1]))
    assert page.status_code == 200
    assert "<script>" not in page.text and "<img" not in page.text and "<b>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img" in page.text
    assert re.search(r"default-src 'none'", page.headers["content-security-policy"])


async def consent(s: Any, granted: str, *, scope: str = "read:users admin:users") -> httpx2.Response:
    """Sign the page's one user in, asking for `scope` and granting `granted` on the page."""
    client_id = (await register(s.http))["client_id"]
    verifier, challenge = pkce()
    params = authorize_params(client_id, challenge, scope=scope)
    form = SignInForm((await s.http.get("/oauth/2.1/authorize", params=params)).text)
    posted = await s.http.post(
        "/oauth/2.1/authorize", data={**form.fields, "granted_scope": granted, "user_id": form.user_ids[0]}
    )
    if posted.status_code != 302 or "code=" not in posted.headers["location"]:
        return posted
    return await exchange(s.http, client_id, redirect_query(posted)["code"], verifier)


async def test_the_person_may_grant_fewer_scopes_than_the_client_asked_for() -> None:
    async with oauth_sandbox(oauth_auto_approve=None) as s:
        token = await consent(s, "read:users")
    assert token.json()["scope"] == "read:users"


async def test_granting_no_scope_or_one_not_asked_for_redirects_with_invalid_scope() -> None:
    async with oauth_sandbox(oauth_auto_approve=None) as s:
        refused = [await consent(s, granted, scope="read:users") for granted in ("", "admin:users")]
    assert [redirect_query(r)["error"] for r in refused] == ["invalid_scope", "invalid_scope"]
