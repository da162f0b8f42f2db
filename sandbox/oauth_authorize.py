"""The authorize endpoint: `GET /oauth/2.1/authorize` (PKCE S256, RFC 8707 resource) and its sign-in page.

Until the client and its exact redirect URI are known, a refusal is a 400 page: redirecting
to an unchecked URI would make the sandbox an open redirector. After that, refusals go back to
the client as `error=...&state=...` (RFC 6749 section 4.1.2.1).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sandbox.oauth_config import CODE_TTL_S, OAUTH_BASE, SIGN_IN_FORM_TTL_S, OAuthServer, issuer_of, oauth_of
from sandbox.oauth_grants import sign_in, user_who_may_sign_in
from sandbox.oauth_page import error_page, sign_in_page
from sandbox.oauth_store import Client, Code, digest
from sandbox.oauth_wire import BadRequest, form_params, is_resource_uri, is_s256_challenge, scope_words
from sandbox.state import Sandbox
from sandbox.web import sandbox_of

AUTHORIZE_PATH = f"{OAUTH_BASE}/authorize"
# The parameters the sign-in form carries back (RFC 6749 section 3.1: unknown ones are ignored).
_CARRIED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "resource",
    "scope",
)
_TRUST_ANCHORS = ("client_id", "redirect_uri")


class Untrusted(Exception):
    """No trusted redirect URI yet: answered with a page."""


class Refused(Exception):
    """Refused back to the client through its redirect URI."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class AuthorizeRequest:
    client: Client
    redirect_uri: str
    state: str | None
    code_challenge: str
    resource: str
    scopes: tuple[str, ...]
    carried: dict[str, str]

    def form_digest(self) -> str:
        return digest(json.dumps(sorted(self.carried.items())))


def _trusted_target(params: dict[str, str], repeated: set[str], oauth: OAuthServer) -> tuple[Client, str]:
    if repeated & set(_TRUST_ANCHORS):
        raise Untrusted("client_id and redirect_uri must each be given once")
    client = oauth.store.client(params.get("client_id", ""))
    if client is None:
        raise Untrusted("Unknown client_id: register the client first (POST /oauth/2.1/register)")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        raise Untrusted("redirect_uri is not one of the URIs this client registered (exact match)")
    return client, redirect_uri


def _checked(
    params: dict[str, str], repeated: set[str], client: Client, oauth: OAuthServer
) -> tuple[str, str, tuple[str, ...]]:
    """The code challenge, resource and granted scopes, or the reason to refuse."""
    if repeated:
        raise Refused("invalid_request", f"parameters given more than once: {', '.join(sorted(repeated))}")
    if params.get("response_type") != "code":
        raise Refused("unsupported_response_type", "response_type must be code")
    if "authorization_code" not in client.grant_types:
        raise Refused("unauthorized_client", "the client did not register the authorization_code grant")
    if not params.get("state"):
        raise Refused("invalid_request", "state is required")
    if params.get("code_challenge_method") != "S256":
        raise Refused("invalid_request", "code_challenge_method must be S256 (plain is not accepted)")
    challenge = params.get("code_challenge", "")
    if not is_s256_challenge(challenge):
        raise Refused(
            "invalid_request", "code_challenge must be the unpadded base64url SHA-256 of the verifier"
        )
    resource = params.get("resource", "")
    if not resource:
        raise Refused("invalid_request", "resource (the MCP server's URL, RFC 8707) is required")
    if not is_resource_uri(resource):
        raise Refused("invalid_target", "resource must be an absolute http(s) URI without fragment")
    offered = oauth.settings.scopes
    requested = scope_words(params.get("scope", ""))
    granted = tuple(s for s in requested if s in offered) if requested else offered
    if not granted:
        raise Refused("invalid_scope", "none of the requested scopes is offered")
    return challenge, resource, granted


def _parsed(pairs: list[tuple[str, str]], oauth: OAuthServer) -> AuthorizeRequest:
    counts = Counter(name for name, _ in pairs)
    repeated = {name for name, n in counts.items() if n > 1}
    params = dict(pairs)
    client, redirect_uri = _trusted_target(params, repeated, oauth)
    state = params.get("state") or None
    try:
        challenge, resource, scopes = _checked(params, repeated, client, oauth)
    except Refused as refused:
        raise _Bounced(redirect_uri, state, refused) from None
    carried = {name: params[name] for name in _CARRIED if name in params}
    return AuthorizeRequest(client, redirect_uri, state, challenge, resource, scopes, carried)


class _Bounced(Exception):
    def __init__(self, redirect_uri: str, state: str | None, refused: Refused) -> None:
        super().__init__(refused.description)
        self.redirect_uri = redirect_uri
        self.state = state
        self.refused = refused


def _redirect(redirect_uri: str, params: dict[str, Any]) -> RedirectResponse:
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [
        (k, v) for k, v in params.items() if v is not None
    ]
    return RedirectResponse(urlunsplit(parts._replace(query=urlencode(query))), status_code=302)


def _error_redirect(
    sandbox: Sandbox, redirect_uri: str, state: str | None, refused: Refused
) -> RedirectResponse:
    return _redirect(
        redirect_uri,
        {
            "error": refused.error,
            "error_description": refused.description,
            "state": state,
            "iss": issuer_of(sandbox.auth_url),
        },
    )


def _signed_in(
    sandbox: Sandbox, oauth: OAuthServer, request: AuthorizeRequest, user_id: str | None
) -> Response:
    if user_id is None or user_who_may_sign_in(sandbox, user_id) is None:
        refused = Refused("access_denied", "that user cannot sign in (unknown, disabled or locked)")
        return _error_redirect(sandbox, request.redirect_uri, request.state, refused)
    grant = sign_in(sandbox, user_id, request.client.client_id, request.scopes, request.resource)
    code = oauth.store.add_code(
        Code(grant, request.redirect_uri, request.code_challenge, expires_at=sandbox.now() + CODE_TTL_S)
    )
    return _redirect(
        request.redirect_uri, {"code": code, "state": request.state, "iss": issuer_of(sandbox.auth_url)}
    )


async def authorize(request: Request) -> Response:
    sandbox, oauth = sandbox_of(request), oauth_of(request)
    try:
        if request.method == "GET":
            return _begin(sandbox, oauth, _parsed(list(request.query_params.multi_items()), oauth))
        return await _finish(sandbox, oauth, request)
    except Untrusted as untrusted:
        return error_page(str(untrusted))
    except _Bounced as bounced:
        return _error_redirect(sandbox, bounced.redirect_uri, bounced.state, bounced.refused)


def _begin(sandbox: Sandbox, oauth: OAuthServer, request: AuthorizeRequest) -> Response:
    email = oauth.settings.auto_approve_email
    if email is not None:
        return _signed_in(sandbox, oauth, request, sandbox.store.user_id_by_email(email))
    nonce = oauth.store.add_nonce(request.form_digest(), sandbox.now() + SIGN_IN_FORM_TTL_S)
    return sign_in_page(
        AUTHORIZE_PATH,
        request.client.client_name,
        request.scopes,
        request.resource,
        request.carried,
        nonce,
        _users_who_may_sign_in(sandbox),
    )


async def _finish(sandbox: Sandbox, oauth: OAuthServer, request: Request) -> Response:
    """The sign-in form's POST: the same checks as the GET, then the one-time nonce, then the user."""
    try:
        form = await form_params(request)
    except BadRequest as refused:
        raise Untrusted(refused.description) from None
    nonce, user_id = form.pop("nonce", ""), form.pop("user_id", None)
    granted = form.pop("granted_scope", None)
    pairs = [(name, value) for name, value in form.items() if name in _CARRIED]
    authorize_request = _parsed(pairs, oauth)
    if not oauth.store.take_nonce(nonce, authorize_request.form_digest(), sandbox.now()):
        raise Untrusted("This sign-in form has expired or was already used: start the sign-in again")
    if granted is not None:  # the person consents to some of the requested scopes (RFC 6749 3.3)
        chosen = tuple(scope for scope in authorize_request.scopes if scope in granted.split())
        if not chosen or not set(granted.split()) <= set(authorize_request.scopes):
            wrong = Refused("invalid_scope", "grant one or more of the requested scopes, and no other")
            return _error_redirect(sandbox, authorize_request.redirect_uri, authorize_request.state, wrong)
        authorize_request = replace(authorize_request, scopes=chosen)
    return _signed_in(sandbox, oauth, authorize_request, user_id)


def _users_who_may_sign_in(sandbox: Sandbox) -> list[dict[str, Any]]:
    users, _ = sandbox.store.query_users(page_size=100, page_number=0, order_by="EMAIL")
    return [user for user in users if user["enabled"] and not user["locked"]]
