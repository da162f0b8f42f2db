"""Access tokens: minting one for a user (optionally for one org), and the key that verifies them."""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from sandbox.tokens import access_token_claims
from sandbox.validation import Invalid
from sandbox.web import handles_invalid, json_body, message, ok, sandbox_of


@handles_invalid
async def create_access_token(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if not sandbox.access_tokens_enabled:
        return message(404, "Access token creation is not enabled for this project")
    body = await json_body(
        request,
        {"user_id": "uuid", "duration_in_minutes": "int", "active_org_id": "uuid"},
        frozenset({"user_id", "duration_in_minutes"}),
    )
    if not 1 <= body["duration_in_minutes"] <= 1440:
        raise Invalid({"duration_in_minutes": ["Must be between 1 and 1440"]})
    user = sandbox.store.get_user(body["user_id"])
    if user is None:
        return message(403, "User not found")
    memberships = sandbox.store.memberships(user["user_id"])
    active_org_id = body.get("active_org_id")
    if active_org_id is not None and active_org_id not in memberships:
        raise Invalid({"active_org_id": ["The user is not a member of this organization"]})
    claims = access_token_claims(
        user,
        memberships,
        issuer=sandbox.issuer(request.headers.get("x-propelauth-url")),
        issued_at=sandbox.now(),
        duration_in_minutes=body["duration_in_minutes"],
        active_org_id=active_org_id,
    )
    token = await anyio.to_thread.run_sync(sandbox.signer.sign, claims)
    return ok({"access_token": token})


async def token_verification_metadata(request: Request) -> Response:
    signer = sandbox_of(request).signer
    # The first call may generate the RSA key: off the event loop.
    return ok({"verifier_key_pem": await anyio.to_thread.run_sync(signer.public_key_pem)})
