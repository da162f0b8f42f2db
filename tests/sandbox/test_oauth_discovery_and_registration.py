"""The authorization server's RFC 8414 metadata and RFC 7591 dynamic client registration."""

from __future__ import annotations

import pytest

from tests.sandbox.oauth_testkit import ISSUER, REDIRECT_URI, oauth_sandbox, register

pytestmark = pytest.mark.anyio

METADATA_PATHS = [
    "/.well-known/oauth-authorization-server/oauth/2.1",
    "/oauth/2.1/.well-known/oauth-authorization-server",
]


@pytest.mark.parametrize("path", METADATA_PATHS)
async def test_metadata_names_the_issuer_and_every_endpoint_at_both_paths(path: str) -> None:
    async with oauth_sandbox(oauth_scopes=["read:users", "admin:users"]) as s:
        response = await s.http.get(path)
    assert response.status_code == 200
    metadata = response.json()
    assert metadata["issuer"] == ISSUER
    for name, suffix in [
        ("authorization_endpoint", "authorize"),
        ("token_endpoint", "token"),
        ("registration_endpoint", "register"),
        ("introspection_endpoint", "introspect"),
        ("revocation_endpoint", "revoke"),
    ]:
        assert metadata[name] == f"{ISSUER}/{suffix}"
    assert metadata["scopes_supported"] == ["read:users", "admin:users"]
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["token_endpoint_auth_methods_supported"] == [
        "none",
        "client_secret_post",
        "client_secret_basic",
    ]


async def test_a_public_client_registers_without_a_secret() -> None:
    async with oauth_sandbox() as s:
        registered = await register(s.http, token_endpoint_auth_method="none")
    assert set(registered) >= {"client_id", "client_id_issued_at", "redirect_uris", "grant_types"}
    assert "client_secret" not in registered
    assert registered["redirect_uris"] == [REDIRECT_URI]
    assert registered["token_endpoint_auth_method"] == "none"
    assert registered["client_name"] == "Test client"


async def test_a_confidential_client_gets_a_secret_that_never_expires() -> None:
    async with oauth_sandbox() as s:
        registered = await register(s.http, token_endpoint_auth_method="client_secret_post")
    assert isinstance(registered["client_secret"], str) and len(registered["client_secret"]) >= 32
    assert registered["client_secret_expires_at"] == 0


async def test_registration_without_a_method_defaults_to_client_secret_basic_as_rfc_7591_says() -> None:
    async with oauth_sandbox() as s:
        response = await s.http.post(
            "/oauth/2.1/register", json={"redirect_uris": ["https://app.example/cb"]}
        )
    assert response.status_code == 201
    assert response.json()["token_endpoint_auth_method"] == "client_secret_basic"
    assert response.json()["grant_types"] == ["authorization_code"]


@pytest.mark.parametrize(
    "redirect_uris",
    [
        [],
        "https://app.example/cb",
        ["http://app.example/cb"],  # plain http off loopback
        ["https://app.example/cb#frag"],
        ["ftp://127.0.0.1/cb"],
        ["/relative/cb"],
    ],
)
async def test_registration_refuses_redirect_uris_that_are_not_https_or_loopback_http(
    redirect_uris: object,
) -> None:
    async with oauth_sandbox() as s:
        response = await s.http.post("/oauth/2.1/register", json={"redirect_uris": redirect_uris})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_redirect_uri"


@pytest.mark.parametrize(
    "metadata",
    [
        {"token_endpoint_auth_method": "private_key_jwt"},
        {"grant_types": ["client_credentials"]},
        {"response_types": ["token"]},
        {"client_name": 7},
    ],
)
async def test_registration_refuses_metadata_the_server_does_not_support(metadata: dict[str, object]) -> None:
    async with oauth_sandbox() as s:
        response = await s.http.post(
            "/oauth/2.1/register", json={"redirect_uris": [REDIRECT_URI], **metadata}
        )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


async def test_registration_refuses_a_body_that_is_not_a_json_object() -> None:
    async with oauth_sandbox() as s:
        response = await s.http.post("/oauth/2.1/register", content=b"[1, 2]")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
