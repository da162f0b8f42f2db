"""The token endpoint (code and refresh grants, RFC 6749 / OAuth 2.1) and revocation (RFC 7009)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.oauth_config import OAuthServer, oauth_of
from sandbox.oauth_grants import holder_of
from sandbox.oauth_store import Client, Grant, digest
from sandbox.oauth_wire import (
    BadRequest,
    basic_credentials,
    form_params,
    no_store_json,
    oauth_error,
    same_secret,
    scope_words,
    verifier_matches,
)
from sandbox.state import Sandbox
from sandbox.web import sandbox_of


class ClientRefused(Exception):
    pass


def authenticate_client(request: Request, form: dict[str, str], oauth: OAuthServer) -> Client:
    """The client, authenticated by the method it registered (and only that one)."""
    basic = basic_credentials(request)
    if basic is not None:
        client_id, secret, method = basic[0], basic[1], "client_secret_basic"
        if form.get("client_id", client_id) != client_id:
            raise ClientRefused
    elif "client_secret" in form:
        client_id, secret, method = form.get("client_id", ""), form["client_secret"], "client_secret_post"
    else:
        client_id, secret, method = form.get("client_id", ""), None, "none"
    client = oauth.store.client(client_id)
    if client is None or client.auth_method != method:
        raise ClientRefused
    if secret is not None and not (
        client.secret_digest is not None and same_secret(digest(secret), client.secret_digest)
    ):
        raise ClientRefused
    return client


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value:
        raise BadRequest("invalid_request", f"{name} is required")
    return value


def _check_resource(form: dict[str, str], grant: Grant) -> None:
    # RFC 8707 section 2.2: the token is for the resource of the authorization, or refused.
    if "resource" in form and form["resource"] != grant.resource:
        raise BadRequest("invalid_target", "resource is not the one this grant was issued for")


def _code_grant(
    form: dict[str, str], client: Client, oauth: OAuthServer, sandbox: Sandbox
) -> tuple[Grant, tuple[str, ...]]:
    code_value = _required(form, "code")
    redirect_uri = _required(form, "redirect_uri")
    verifier = _required(form, "code_verifier")
    code = oauth.store.take_code(code_value, sandbox.now()).code
    if code is None or code.grant.client_id != client.client_id:
        raise BadRequest("invalid_grant", "the code is invalid, expired or already used")
    if redirect_uri != code.redirect_uri:
        raise BadRequest("invalid_grant", "redirect_uri differs from the authorization request's")
    if not verifier_matches(verifier, code.code_challenge):
        raise BadRequest("invalid_grant", "code_verifier does not match the code_challenge")
    _check_resource(form, code.grant)
    return code.grant, code.grant.scopes


def _refresh_grant(form: dict[str, str], client: Client, oauth: OAuthServer) -> tuple[Grant, tuple[str, ...]]:
    value = _required(form, "refresh_token")
    token = oauth.store.refresh_token(value, client.client_id)
    if token is None:
        oauth.store.rotate_refresh(value, client.client_id)  # a replayed one revokes its grant
        raise BadRequest("invalid_grant", "the refresh token is invalid, revoked or already used")
    scopes = token.grant.scopes
    if "scope" in form:
        # RFC 6749 section 6: a refresh may narrow the scopes of the original grant, never widen them.
        scopes = scope_words(form["scope"])
        if not scopes or not set(scopes) <= set(token.grant.scopes):
            raise BadRequest("invalid_scope", "scope must be a subset of the originally granted scopes")
    _check_resource(form, token.grant)
    if oauth.store.rotate_refresh(value, client.client_id) is None:
        raise BadRequest("invalid_grant", "the refresh token is invalid, revoked or already used")
    return token.grant, scopes


async def token(request: Request) -> Response:
    oauth, sandbox = oauth_of(request), sandbox_of(request)
    try:
        form = await form_params(request)
        try:
            client = authenticate_client(request, form, oauth)
        except ClientRefused:
            return oauth_error(401, "invalid_client", "client authentication failed")
        grant_type = _required(form, "grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise BadRequest(
                "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"
            )
        if grant_type not in client.grant_types:
            raise BadRequest("unauthorized_client", f"the client did not register the {grant_type} grant")
        if grant_type == "authorization_code":
            grant, scopes = _code_grant(form, client, oauth, sandbox)
        else:
            grant, scopes = _refresh_grant(form, client, oauth)
        if holder_of(sandbox, grant) is None:
            raise BadRequest("invalid_grant", "the user can no longer sign in")
    except BadRequest as refused:
        return oauth_error(400, refused.error, refused.description)
    ttl = oauth.settings.token_ttl_s
    access, refresh = oauth.store.issue(
        grant, scopes, sandbox.now(), ttl, with_refresh="refresh_token" in client.grant_types
    )
    answer: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": ttl}
    if refresh is not None:
        answer["refresh_token"] = refresh
    answer["scope"] = " ".join(scopes)
    return no_store_json(answer)


async def revoke(request: Request) -> Response:
    oauth = oauth_of(request)
    try:
        form = await form_params(request)
        try:
            client = authenticate_client(request, form, oauth)
        except ClientRefused:
            return oauth_error(401, "invalid_client", "client authentication failed")
        value = _required(form, "token")
    except BadRequest as refused:
        return oauth_error(400, refused.error, refused.description)
    # RFC 7009 section 2.2: 200 whether or not the token was valid; another client's is left alone.
    oauth.store.revoke(value, client.client_id)
    return Response(status_code=200, headers={"Cache-Control": "no-store"})
