"""`--auth propelauth`: this server as an OAuth 2.1 protected resource (the MCP authorization spec).

- RFC 9728 Protected Resource Metadata at `/.well-known/oauth-protected-resource/mcp` and the root
  form, naming PropelAuth's authorization server (`{auth_url}/oauth/2.1`) and the scopes the
  operator configured (PROPELAUTH_MCP_SCOPES), so that a client can discover where to sign in.
- The gate on /mcp: no token, 401 with a challenge naming the metadata and the scopes (RFC 6750 §3,
  no `error`); a token introspection refuses, 401 `invalid_token`; a valid token with none of the
  configured scopes, 403 `insufficient_scope`; introspection unavailable, 503 with a reason and
  Retry-After (never a pass). With an operators' org (server.operators), a person who is not an
  operator gets 403 `access_denied` with no challenge (more scopes would not help), and a Backend API
  that cannot tell, 503. A valid token puts its `Caller` on the ASGI scope.

The SDK's own RequireAuthMiddleware has no `scope` in its 401 and no 503 for a verifier that cannot
tell; its metadata model and URL rule are used as they are.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from mcp.server.auth.routes import build_resource_metadata_url
from mcp.shared.auth import ProtectedResourceMetadata
from pydantic import AnyHttpUrl
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from server.audit import AuditTrail
from server.audit_records import rejection_record, write_outcome
from server.callers import Caller
from server.http_auth import bearer_of, send_refusal
from server.introspection import IntrospectionUnavailable, TokenIntrospector, issuer_of, token_digest
from server.operators import OperatorsCheck, OperatorsUnavailable

PRM_PATHS = ("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource")
RETRY_AFTER_S = 5
PRM_MAX_AGE_S = 300

NOT_AN_OPERATOR = "not_an_operator"  # the audit's reason
NOT_AN_OPERATOR_TEXT = (
    "this PropelAuth user is not an operator of this server (not a member of its operators' organization)"
)

_log = structlog.get_logger("propelauth_mcp.oauth")


def scope_keys(scope_policies: str | None) -> list[str]:
    """The scopes named in PROPELAUTH_MCP_SCOPES, in order (the settings have already parsed it)."""
    from server.caller_policies import parse_scope_policies

    return list(parse_scope_policies(scope_policies)) if scope_policies else []


def resource_metadata(*, resource_url: str, auth_url: str, scopes: list[str]) -> ProtectedResourceMetadata:
    # Validated from plain strings, so the model keeps the resource exactly as configured (a bare
    # `AnyHttpUrl(...)` would add a "/" to a URL with no path, and clients compare it to their URL).
    return ProtectedResourceMetadata.model_validate(
        {
            "resource": resource_url,
            "authorization_servers": [issuer_of(auth_url)],
            "scopes_supported": scopes,
            "bearer_methods_supported": ["header"],
        }
    )


def resource_metadata_url(resource_url: str) -> str:
    """Where RFC 9728 §3.1 puts the metadata for `resource_url` (the well-known path before its path)."""
    return str(build_resource_metadata_url(AnyHttpUrl(resource_url)))


def metadata_routes(
    metadata: ProtectedResourceMetadata, wrap: Callable[[ASGIApp], ASGIApp] | None = None
) -> list[Route]:
    """The metadata at both well-known paths: no auth, readable cross-origin (browser clients discover
    with it), behind `wrap` (the Host/Origin check) when given."""
    body = metadata.model_dump_json(exclude_none=True)

    async def handle(_: Request) -> Response:
        return Response(
            body,
            media_type="application/json",
            headers={"cache-control": f"public, max-age={PRM_MAX_AGE_S}"},
        )

    endpoint: ASGIApp = CORSMiddleware(request_response(handle), allow_origins=["*"], allow_methods=["GET"])
    if wrap is not None:
        endpoint = wrap(endpoint)
    return [Route(path, endpoint=endpoint, methods=["GET", "HEAD", "OPTIONS"]) for path in PRM_PATHS]


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class OAuthGate:
    """ASGI middleware: only requests with a token PropelAuth vouches for, for this resource, pass."""

    def __init__(
        self,
        app: ASGIApp,
        introspector: TokenIntrospector,
        *,
        scopes: list[str],
        metadata_url: str,
        scope_key: str,
        operators: OperatorsCheck | None = None,
        audit: AuditTrail | None = None,
    ) -> None:
        self.app = app
        self.introspector = introspector
        self.scopes = scopes
        self.metadata_url = metadata_url
        self.scope_key = scope_key
        self.operators = operators
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        presented = bearer_of(scope["headers"])
        if presented is None:
            await self._challenge(
                send, 401, error=None, description="sign in with PropelAuth: a bearer token is required"
            )
            return
        try:
            verified = await self.introspector.verify_until(presented)
        except IntrospectionUnavailable as exc:
            await _unavailable(send, exc.reason)
            return
        if verified is None:
            await self._challenge(
                send,
                401,
                error="invalid_token",
                description="the token is not active, expired, or not issued for this server",
            )
            return
        caller, token_exp = verified
        if not caller.scopes & set(self.scopes):
            _log.warning("http_insufficient_scope", caller=caller.name, client_id=caller.client_id)
            await self._challenge(
                send,
                403,
                error="insufficient_scope",
                description="the token carries none of the scopes this server grants",
            )
            return
        if self.operators is not None:
            try:
                allowed = await self.operators.allows(token_digest(presented), caller, token_exp)
            except OperatorsUnavailable as exc:
                await _unavailable(send, exc.reason, what="check who signed in")
                return
            if not allowed:
                await self._not_an_operator(send, caller)
                return
        scope[self.scope_key] = caller
        await self.app(scope, receive, send)

    async def _not_an_operator(self, send: Send, caller: Caller) -> None:
        assert self.operators is not None
        _log.warning("http_not_an_operator", caller=caller.name, client_id=caller.client_id)
        if self.audit is not None:
            details = {"operators_org": self.operators.org_id}
            write_outcome(self.audit, rejection_record(NOT_AN_OPERATOR, caller=caller, details=details))
        body = {"error": "access_denied", "error_description": NOT_AN_OPERATOR_TEXT}
        await send_refusal(send, 403, body)

    async def _challenge(self, send: Send, status: int, *, error: str | None, description: str) -> None:
        params = [("error", error), ("error_description", description)] if error else []
        params += [("resource_metadata", self.metadata_url), ("scope", " ".join(self.scopes))]
        challenge = "Bearer " + ", ".join(f"{name}={_quoted(value)}" for name, value in params if value)
        body = {"error": error or "unauthorized", "error_description": description}
        await send_refusal(send, status, body, [(b"www-authenticate", challenge.encode())])


async def _unavailable(send: Send, reason: str, *, what: str = "verify the token") -> None:
    body = {"error": "temporarily_unavailable", "error_description": f"cannot {what} now: {reason}"}
    await send_refusal(send, 503, body, [(b"retry-after", str(RETRY_AFTER_S).encode())])
