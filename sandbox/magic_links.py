"""Magic links: creating one (the token is stored only as a digest) and its landing page."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from sandbox.store import MagicLinkRecord, NewUser
from sandbox.validation import Invalid, Kind
from sandbox.web import handles_invalid, json_body, message, ok, sandbox_of, user_not_found

MAGIC_LINK_PATH = "/magic-link"
DEFAULT_MAGIC_LINK_HOURS = 24


_MAGIC_LINK_FIELDS: dict[str, Kind] = {
    "email": "email",
    "redirect_to_url": "url",
    "expires_in_hours": "int",
    "create_new_user_if_one_doesnt_exist": "bool",
    "user_signup_query_parameters": "string_map",
    "expire_after_first_use": "bool",
    "requires_interstitial": "bool",
}


def _token_hash(token: str) -> str:
    # Tokens are 256 random bits, so a plain digest is enough to make the stored value useless.
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@handles_invalid
async def create_magic_link(request: Request) -> Response:
    sandbox = sandbox_of(request)
    body = await json_body(request, _MAGIC_LINK_FIELDS, frozenset({"email"}))
    hours = body.get("expires_in_hours", DEFAULT_MAGIC_LINK_HOURS)
    if not 1 <= hours <= 168:
        raise Invalid({"expires_in_hours": ["Must be between 1 and 168"]})
    create_user = body.get("create_new_user_if_one_doesnt_exist", False)
    if not create_user and sandbox.store.user_id_by_email(body["email"]) is None:
        return user_not_found()
    token = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")
    sandbox.store.add_magic_link(
        _token_hash(token),
        MagicLinkRecord(
            email=body["email"],
            expires_at=sandbox.now() + hours * 3600,
            single_use=body.get("expire_after_first_use", True),
            used=False,
            create_user=create_user,
            redirect_to_url=body.get("redirect_to_url"),
            signup_query_parameters=body.get("user_signup_query_parameters"),
        ),
    )
    base = sandbox.issuer(request.headers.get("x-propelauth-url"))
    return ok({"url": f"{base}{MAGIC_LINK_PATH}?{urlencode({'token': token})}"})


async def redeem_magic_link(request: Request) -> Response:
    """The link's landing page: logs the user in (or signs them up) once, and says who they are."""
    sandbox = sandbox_of(request)
    token = request.query_params.get("token", "")
    link = sandbox.store.consume_magic_link(_token_hash(token), sandbox.now()) if token.isascii() else None
    if link is None:
        return message(404, "This magic link is invalid, expired or already used")
    user_id = sandbox.store.user_id_by_email(link.email)
    if user_id is None:
        if not link.create_user:
            return user_not_found()
        user_id = str(uuid.uuid4())
        # A sign-up through the link keeps the query parameters the link carried.
        sandbox.store.insert_user(
            NewUser(
                user_id=user_id,
                email=link.email,
                created_at=sandbox.now(),
                email_confirmed=True,
                signup_query_parameters=link.signup_query_parameters or {},
            )
        )
    # Following the link proves the address and counts as activity.
    sandbox.store.update_user(user_id, {"email_confirmed": True, "last_active_at": sandbox.now()})
    return ok({"user_id": user_id, "email": link.email, "redirect_to_url": link.redirect_to_url})
