"""The official MCP Python client's OAuth models accept what the sandbox's authorization server answers."""

from __future__ import annotations

import pytest
from mcp.client.auth.utils import validate_authorization_response_iss
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthMetadata, OAuthToken

from tests.sandbox.oauth_testkit import (
    REDIRECT_URI,
    RESOURCE,
    authorize_params,
    oauth_sandbox,
    pkce,
    redirect_query,
)

pytestmark = pytest.mark.anyio


async def test_the_mcp_clients_registration_sign_in_and_token_models_accept_the_sandboxs_answers() -> None:
    async with oauth_sandbox() as s:
        metadata = OAuthMetadata.model_validate(
            (await s.http.get("/.well-known/oauth-authorization-server/oauth/2.1")).json()
        )
        request = OAuthClientMetadata(
            redirect_uris=[REDIRECT_URI],  # type: ignore[list-item]  # pydantic converts the string
            grant_types=["authorization_code", "refresh_token"],
        )
        registered = await s.http.post(
            "/oauth/2.1/register", json=request.model_dump(mode="json", exclude_none=True)
        )
        client = OAuthClientInformationFull.model_validate(registered.json())
        assert client.client_secret is not None  # no method given: client_secret_basic, as RFC 7591 says
        verifier, challenge = pkce()
        query = redirect_query(
            await s.http.get(
                "/oauth/2.1/authorize", params=authorize_params(client.client_id or "", challenge)
            )
        )
        validate_authorization_response_iss(query["iss"], metadata)  # raises on a mismatch
        form = {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "resource": RESOURCE,
        }
        answer = await s.http.post(
            "/oauth/2.1/token", data=form, auth=(client.client_id or "", client.client_secret)
        )
    token = OAuthToken.model_validate(answer.json())
    assert token.token_type == "Bearer" and token.refresh_token is not None
