"""The authorization server's discovery and resource-server side: RFC 8414 metadata, RFC 7662
introspection, and the sandbox-only count of introspections."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.oauth_config import OAUTH_BASE, issuer_of, oauth_of
from sandbox.oauth_grants import holder_of
from sandbox.oauth_register import AUTH_METHODS, GRANT_TYPES
from sandbox.oauth_wire import (
    BadRequest,
    basic_credentials,
    form_params,
    no_store_json,
    oauth_error,
    same_secret,
)
from sandbox.web import sandbox_of

METADATA_PATHS = (
    f"/.well-known/oauth-authorization-server{OAUTH_BASE}",
    f"{OAUTH_BASE}/.well-known/oauth-authorization-server",
)
INTROSPECTIONS_PATH = "/_sandbox/oauth/introspections"


async def authorization_server_metadata(request: Request) -> Response:
    auth_url = sandbox_of(request).auth_url
    issuer = issuer_of(auth_url)
    metadata: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "registration_endpoint": f"{issuer}/register",
        "introspection_endpoint": f"{issuer}/introspect",
        "revocation_endpoint": f"{issuer}/revoke",
        "scopes_supported": list(oauth_of(request).settings.scopes),
        "response_types_supported": ["code"],
        "grant_types_supported": list(GRANT_TYPES),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
        # RFC 9207: redirects carry `iss`, so a client can tell which server answered.
        "authorization_response_iss_parameter_supported": True,
    }
    return JSONResponse(metadata)


async def introspect(request: Request) -> Response:
    oauth, sandbox = oauth_of(request), sandbox_of(request)
    settings = oauth.settings
    credentials = basic_credentials(request)
    if credentials is None or not (
        same_secret(credentials[0], settings.introspection_client_id)
        and same_secret(credentials[1], settings.introspection_client_secret)
    ):
        return oauth_error(401, "invalid_client", "the introspection credentials are missing or wrong")
    try:
        value = (await form_params(request)).get("token", "")
        if not value:
            raise BadRequest("invalid_request", "token is required")
    except BadRequest as refused:
        return oauth_error(400, refused.error, refused.description)
    oauth.store.count_introspection(value)
    token = oauth.store.access_token(value)
    now = sandbox.now()
    user = None if token is None or token.expires_at <= now else holder_of(sandbox, token.grant)
    if token is None or user is None:
        return no_store_json({"active": False})
    return no_store_json(
        {
            "active": True,
            "sub": token.grant.user_id,
            "client_id": token.grant.client_id,
            "scope": " ".join(token.scopes),
            "exp": token.expires_at,
            "iat": token.issued_at,
            "aud": token.grant.resource,
            "iss": issuer_of(sandbox.auth_url),
            "token_type": "Bearer",
            "email": user["email"],
        }
    )


async def introspection_counts(request: Request) -> Response:
    """Sandbox-only: how often each token was introspected (keyed by its digest's first 12 hex)."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not same_secret(key.strip(), sandbox_of(request).api_key):
        return JSONResponse({"message": "Unauthorized: a valid backend API key is required"}, status_code=401)
    counts = oauth_of(request).store.introspection_counts()
    return JSONResponse({"total": sum(counts.values()), "by_token": counts})
