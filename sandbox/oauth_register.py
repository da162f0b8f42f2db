"""RFC 7591 dynamic client registration: `POST /oauth/2.1/register`."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.oauth_config import oauth_of
from sandbox.oauth_store import Client, digest, new_secret
from sandbox.oauth_wire import MAX_FORM_BYTES, is_allowed_redirect_uri, no_store_json
from sandbox.web import sandbox_of

AUTH_METHODS = ("none", "client_secret_post", "client_secret_basic")
GRANT_TYPES = ("authorization_code", "refresh_token")
_MAX_REDIRECT_URIS = 20
_MAX_NAME_CHARS = 200


class InvalidMetadata(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _string_list(body: dict[str, Any], name: str, default: list[str]) -> list[str]:
    value = body.get(name, default)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidMetadata("invalid_client_metadata", f"{name} must be a list of strings")
    return list(dict.fromkeys(value))


def _client_from(body: dict[str, Any], now: int) -> tuple[Client, str | None]:
    redirect_uris = body.get("redirect_uris")
    if not isinstance(redirect_uris, list) or not redirect_uris or len(redirect_uris) > _MAX_REDIRECT_URIS:
        raise InvalidMetadata("invalid_redirect_uri", "redirect_uris must list 1 to 20 redirect URIs")
    if not all(isinstance(uri, str) and is_allowed_redirect_uri(uri) for uri in redirect_uris):
        raise InvalidMetadata(
            "invalid_redirect_uri",
            "each redirect URI must be https, or http on a loopback host, without fragment",
        )
    # RFC 7591 section 2: the default method is client_secret_basic, the default grant the code.
    method = body.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        raise InvalidMetadata(
            "invalid_client_metadata", f"token_endpoint_auth_method must be one of {AUTH_METHODS}"
        )
    grant_types = _string_list(body, "grant_types", ["authorization_code"])
    if not grant_types or not set(grant_types) <= set(GRANT_TYPES):
        raise InvalidMetadata("invalid_client_metadata", f"grant_types must be among {GRANT_TYPES}")
    response_types = _string_list(body, "response_types", ["code"])
    if response_types != ["code"]:
        raise InvalidMetadata("invalid_client_metadata", 'response_types must be ["code"]')
    name = body.get("client_name")
    if name is not None and (not isinstance(name, str) or len(name) > _MAX_NAME_CHARS):
        raise InvalidMetadata(
            "invalid_client_metadata", "client_name must be a string of at most 200 characters"
        )
    secret = None if method == "none" else new_secret()
    client = Client(
        client_id=str(uuid.uuid4()),
        secret_digest=None if secret is None else digest(secret),
        auth_method=method,
        redirect_uris=tuple(dict.fromkeys(redirect_uris)),
        grant_types=tuple(grant_types),
        response_types=tuple(response_types),
        client_name=name,
        issued_at=now,
    )
    return client, secret


async def register_client(request: Request) -> Response:
    body = await request.body()
    try:
        parsed = json.loads(body) if len(body) <= MAX_FORM_BYTES else None
    except (UnicodeDecodeError, ValueError):
        parsed = None
    if not isinstance(parsed, dict):
        return _refused("invalid_client_metadata", "the body must be a JSON object of client metadata")
    try:
        client, secret = _client_from(parsed, sandbox_of(request).now())
    except InvalidMetadata as invalid:
        return _refused(invalid.error, invalid.description)
    oauth_of(request).store.add_client(client)
    answer: dict[str, Any] = {"client_id": client.client_id, "client_id_issued_at": client.issued_at}
    if secret is not None:
        answer |= {"client_secret": secret, "client_secret_expires_at": 0}  # 0: never expires
    answer |= {
        "redirect_uris": list(client.redirect_uris),
        "token_endpoint_auth_method": client.auth_method,
        "grant_types": list(client.grant_types),
        "response_types": list(client.response_types),
    }
    if client.client_name is not None:
        answer["client_name"] = client.client_name
    return no_store_json(answer, status=201)


def _refused(error: str, description: str) -> JSONResponse:
    return no_store_json({"error": error, "error_description": description}, status=400)
