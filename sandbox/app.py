"""The ASGI application: PropelAuth's Backend API routes, written from the wire facts."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import passwords
from sandbox.gate import SandboxGate
from sandbox.state import Sandbox
from sandbox.store import ORDER_BY_SQL, Conflict, MagicLinkRecord, NewUser, Store
from sandbox.tokens import access_token_claims
from sandbox.validation import (
    Invalid,
    Kind,
    check_body,
    is_email,
    is_user_id,
    parse_json_object,
    query_bool,
    query_int,
)

API = "/api/backend/v1"
MAGIC_LINK_PATH = "/magic-link"
MIN_PASSWORD_LENGTH = 8
DEFAULT_MAGIC_LINK_HOURS = 24
_BASE32 = re.compile(r"^[A-Za-z2-7]+=*$")

Handler = Callable[[Request], Awaitable[Response]]


def _ok(body: Any = None) -> JSONResponse:
    return JSONResponse({} if body is None else body)


def _message(status: int, text: str) -> JSONResponse:
    return JSONResponse({"message": text}, status_code=status)


def _user_not_found() -> JSONResponse:
    return _message(404, "User not found")


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _handles_invalid(handler: Handler) -> Handler:
    """Turn a validation failure into the service's 400: the flat field -> messages map."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except Invalid as invalid:
            return JSONResponse(invalid.errors, status_code=400)

    wrapped.__name__ = handler.__name__
    return wrapped


async def _json_body(
    request: Request, fields: dict[str, Kind], required: frozenset[str] = frozenset()
) -> dict[str, Any]:
    return check_body(parse_json_object(await request.body()), fields, required)


def _path_user_id(request: Request, store: Store) -> str | None:
    """The path's user id if it names an existing user (ids are lowercase UUID v4)."""
    user_id = str(request.path_params["user_id"])
    if not is_user_id(user_id) or store.get_user(user_id) is None:
        return None
    return user_id


def _include_orgs(request: Request) -> bool:
    errors: dict[str, list[str]] = {}
    include = query_bool(request.query_params, "include_orgs", errors)
    if errors:
        raise Invalid(errors)
    return include


def _password_errors(password: str) -> dict[str, list[str]]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return {"password": [f"Password must be at least {MIN_PASSWORD_LENGTH} characters"]}
    return {}


def _conflict_errors(
    store: Store,
    *,
    email: str | None,
    username: str | None,
    email_field: str = "email",
    own_id: str | None = None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if email is not None and store.user_id_by_email(email) not in (None, own_id):
        errors[email_field] = ["Email is already taken"]
    if username is not None and store.user_id_by_username(username) not in (None, own_id):
        errors["username"] = ["Username is already taken"]
    return errors


def _conflict_to_invalid(conflict: Conflict, email_field: str = "email") -> Invalid:
    if conflict.field_name == "email":
        return Invalid({email_field: ["Email is already taken"]})
    return Invalid({"username": ["Username is already taken"]})


def _insert_user(sandbox: Sandbox, user: NewUser) -> Response:
    """Store a new user and answer with its id; a taken email or username is a 400 field error."""
    try:
        sandbox.store.insert_user(user)
    except Conflict as conflict:
        raise _conflict_to_invalid(conflict) from None
    return _ok({"user_id": user.user_id})


async def _hash(password: str) -> str:
    # scrypt takes tens of milliseconds: keep it off the event loop.
    return await anyio.to_thread.run_sync(passwords.hash_password, password)


# --- users --------------------------------------------------------------------------------

_CREATE_USER_FIELDS: dict[str, Kind] = {
    "email": "email",
    "email_confirmed": "bool",
    "send_email_to_confirm_email_address": "bool",
    "ask_user_to_update_password_on_login": "bool",
    "ignore_domain_restrictions": "bool",
    "password": "str",
    "username": "nonempty_str",
    "first_name": "str",
    "last_name": "str",
    "properties": "object",
}


@_handles_invalid
async def create_user(request: Request) -> Response:
    sandbox = _sandbox(request)
    body = await _json_body(request, _CREATE_USER_FIELDS, frozenset({"email"}))
    errors = _conflict_errors(sandbox.store, email=body["email"], username=body.get("username"))
    if "password" in body:
        errors.update(_password_errors(body["password"]))
    if errors:
        raise Invalid(errors)
    now = sandbox.now()
    user = NewUser(
        user_id=str(uuid.uuid4()),
        email=body["email"],
        created_at=now,
        last_active_at=now,
        email_confirmed=body.get("email_confirmed", False),
        password_hash=await _hash(body["password"]) if "password" in body else None,
        username=body.get("username"),
        first_name=body.get("first_name"),
        last_name=body.get("last_name"),
        properties=body.get("properties", {}),
        update_password_required=body.get("ask_user_to_update_password_on_login", False),
    )
    return _insert_user(sandbox, user)


@_handles_invalid
async def fetch_user_by_id(request: Request) -> Response:
    store = _sandbox(request).store
    include_orgs = _include_orgs(request)
    user_id = _path_user_id(request, store)
    user = None if user_id is None else store.get_user(user_id, include_orgs=include_orgs)
    return _user_not_found() if user is None else _ok(user)


@_handles_invalid
async def fetch_user_by_email(request: Request) -> Response:
    store = _sandbox(request).store
    include_orgs = _include_orgs(request)
    email = request.query_params.get("email")
    if not email:
        raise Invalid({"email": ["This field is required"]})
    if not is_email(email):
        raise Invalid({"email": ["Invalid email address"]})
    user_id = store.user_id_by_email(email)
    user = None if user_id is None else store.get_user(user_id, include_orgs=include_orgs)
    return _user_not_found() if user is None else _ok(user)


@_handles_invalid
async def fetch_user_by_username(request: Request) -> Response:
    store = _sandbox(request).store
    include_orgs = _include_orgs(request)
    username = request.query_params.get("username")
    if not username:
        raise Invalid({"username": ["This field is required"]})
    user_id = store.user_id_by_username(username)
    user = None if user_id is None else store.get_user(user_id, include_orgs=include_orgs)
    return _user_not_found() if user is None else _ok(user)


@_handles_invalid
async def query_users(request: Request) -> Response:
    sandbox = _sandbox(request)
    params = request.query_params
    errors: dict[str, list[str]] = {}
    page_size = query_int(params, "page_size", 10, 1, 100, errors)
    page_number = query_int(params, "page_number", 0, 0, None, errors)
    include_orgs = query_bool(params, "include_orgs", errors)
    order_by = params.get("order_by", "CREATED_AT_ASC")
    if order_by not in ORDER_BY_SQL:
        errors["order_by"] = [f"Must be one of {', '.join(ORDER_BY_SQL)}"]
    if errors:
        raise Invalid(errors)
    if include_orgs and not sandbox.orgs_enabled:
        return _message(426, "Organizations are not enabled for this project")
    users, total = sandbox.store.query_users(
        page_size=page_size,
        page_number=page_number,
        order_by=order_by,
        email_or_username=params.get("email_or_username") or None,
        legacy_user_id=params.get("legacy_user_id"),
        include_orgs=include_orgs,
    )
    return _ok(
        {
            "users": users,
            "total_users": total,
            "current_page": page_number,
            "page_size": page_size,
            "has_more_results": (page_number + 1) * page_size < total,
        }
    )


_UPDATE_USER_FIELDS: dict[str, Kind] = {
    "username": "nonempty_str",
    "first_name": "str",
    "last_name": "str",
    "metadata": "object",
    "properties": "object",
    "picture_url": "url",
    "update_password_required": "bool",
    "legacy_user_id": "str",
}


@_handles_invalid
async def update_user(request: Request) -> Response:
    store = _sandbox(request).store
    user_id = _path_user_id(request, store)
    if user_id is None:
        return _user_not_found()
    changes = await _json_body(request, _UPDATE_USER_FIELDS)
    errors = _conflict_errors(store, email=None, username=changes.get("username"), own_id=user_id)
    if errors:
        raise Invalid(errors)
    try:
        found = store.update_user(user_id, changes)
    except Conflict as conflict:
        raise _conflict_to_invalid(conflict) from None
    return _ok() if found else _user_not_found()


async def delete_user(request: Request) -> Response:
    store = _sandbox(request).store
    user_id = _path_user_id(request, store)
    return _ok() if user_id is not None and store.delete_user(user_id) else _user_not_found()


@_handles_invalid
async def update_user_email(request: Request) -> Response:
    store = _sandbox(request).store
    user_id = _path_user_id(request, store)
    if user_id is None:
        return _user_not_found()
    body = await _json_body(
        request,
        {"new_email": "email", "require_email_confirmation": "bool"},
        frozenset({"new_email", "require_email_confirmation"}),
    )
    errors = _conflict_errors(
        store, email=body["new_email"], username=None, email_field="new_email", own_id=user_id
    )
    if errors:
        raise Invalid(errors)
    # Asking for confirmation makes the new address unconfirmed; otherwise the caller vouches for it.
    changes = {"email": body["new_email"], "email_confirmed": not body["require_email_confirmation"]}
    try:
        found = store.update_user(user_id, changes)
    except Conflict as conflict:
        raise _conflict_to_invalid(conflict, "new_email") from None
    return _ok() if found else _user_not_found()


@_handles_invalid
async def update_user_password(request: Request) -> Response:
    store = _sandbox(request).store
    user_id = _path_user_id(request, store)
    if user_id is None:
        return _user_not_found()
    body = await _json_body(
        request, {"password": "str", "ask_user_to_update_password_on_login": "bool"}, frozenset({"password"})
    )
    errors = _password_errors(body["password"])
    if errors:
        raise Invalid(errors)
    changes = {
        "password_hash": await _hash(body["password"]),
        "migrated_password_hash": None,
        "update_password_required": body.get("ask_user_to_update_password_on_login", False),
    }
    return _ok() if store.update_user(user_id, changes) else _user_not_found()


def _user_change(changes: dict[str, Any], *, end_sessions: bool = False) -> Handler:
    """A no-body operation that sets some columns of the path's user."""

    async def handler(request: Request) -> Response:
        store = _sandbox(request).store
        user_id = _path_user_id(request, store)
        if user_id is None or not store.update_user(user_id, changes):
            return _user_not_found()
        if end_sessions:
            store.bump_session_generation(user_id)
        return _ok()

    return handler


async def logout_all_sessions(request: Request) -> Response:
    store = _sandbox(request).store
    user_id = _path_user_id(request, store)
    return _ok() if user_id is not None and store.bump_session_generation(user_id) else _user_not_found()


async def resend_email_confirmation(request: Request) -> Response:
    store = _sandbox(request).store
    try:
        body = await _json_body(request, {"user_id": "uuid"}, frozenset({"user_id"}))
    except Invalid as invalid:
        # This operation's errors carry `user_facing_error`, not the field map.
        first_field, messages = next(iter(invalid.errors.items()))
        return JSONResponse({"user_facing_error": f"{first_field}: {messages[0]}"}, status_code=400)
    user = store.get_user(body["user_id"])
    if user is None:
        return _user_not_found()
    if user["email_confirmed"]:
        return JSONResponse({"user_facing_error": "This user's email is already confirmed"}, status_code=400)
    return _ok()


# --- magic links --------------------------------------------------------------------------

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


@_handles_invalid
async def create_magic_link(request: Request) -> Response:
    sandbox = _sandbox(request)
    body = await _json_body(request, _MAGIC_LINK_FIELDS, frozenset({"email"}))
    hours = body.get("expires_in_hours", DEFAULT_MAGIC_LINK_HOURS)
    if not 1 <= hours <= 168:
        raise Invalid({"expires_in_hours": ["Must be between 1 and 168"]})
    create_user = body.get("create_new_user_if_one_doesnt_exist", False)
    if not create_user and sandbox.store.user_id_by_email(body["email"]) is None:
        return _user_not_found()
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
        ),
    )
    base = sandbox.issuer(request.headers.get("x-propelauth-url"))
    return _ok({"url": f"{base}{MAGIC_LINK_PATH}?{urlencode({'token': token})}"})


async def redeem_magic_link(request: Request) -> Response:
    """The link's landing page: logs the user in (or signs them up) once, and says who they are."""
    sandbox = _sandbox(request)
    token = request.query_params.get("token", "")
    link = sandbox.store.consume_magic_link(_token_hash(token), sandbox.now()) if token.isascii() else None
    if link is None:
        return _message(404, "This magic link is invalid, expired or already used")
    user_id = sandbox.store.user_id_by_email(link.email)
    if user_id is None:
        if not link.create_user:
            return _user_not_found()
        user_id = str(uuid.uuid4())
        sandbox.store.insert_user(
            NewUser(user_id=user_id, email=link.email, created_at=sandbox.now(), email_confirmed=True)
        )
    # Following the link proves the address and counts as activity.
    sandbox.store.update_user(user_id, {"email_confirmed": True, "last_active_at": sandbox.now()})
    return _ok({"user_id": user_id, "email": link.email, "redirect_to_url": link.redirect_to_url})


# --- access tokens ------------------------------------------------------------------------


@_handles_invalid
async def create_access_token(request: Request) -> Response:
    sandbox = _sandbox(request)
    if not sandbox.access_tokens_enabled:
        return _message(404, "Access token creation is not enabled for this project")
    body = await _json_body(
        request,
        {"user_id": "uuid", "duration_in_minutes": "int", "active_org_id": "uuid"},
        frozenset({"user_id", "duration_in_minutes"}),
    )
    if not 1 <= body["duration_in_minutes"] <= 1440:
        raise Invalid({"duration_in_minutes": ["Must be between 1 and 1440"]})
    user = sandbox.store.get_user(body["user_id"])
    if user is None:
        return _message(403, "User not found")
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
    return _ok({"access_token": token})


async def token_verification_metadata(request: Request) -> Response:
    signer = _sandbox(request).signer
    # The first call may generate the RSA key: off the event loop.
    return _ok({"verifier_key_pem": await anyio.to_thread.run_sync(signer.public_key_pem)})


# --- migration ----------------------------------------------------------------------------

_MIGRATE_USER_FIELDS: dict[str, Kind] = {
    "email": "email",
    "email_confirmed": "bool",
    "existing_user_id": "str",
    "existing_password_hash": "nonempty_str",
    "existing_mfa_base32_encoded_secret": "nonempty_str",
    "update_password_required": "bool",
    "enabled": "bool",
    "first_name": "str",
    "last_name": "str",
    "username": "nonempty_str",
    "picture_url": "url",
    "properties": "object",
}


@_handles_invalid
async def migrate_user(request: Request) -> Response:
    sandbox = _sandbox(request)
    body = await _json_body(request, _MIGRATE_USER_FIELDS, frozenset({"email"}))
    errors = _conflict_errors(sandbox.store, email=body["email"], username=body.get("username"))
    secret = body.get("existing_mfa_base32_encoded_secret")
    if secret is not None and not _BASE32.match(secret):
        errors["existing_mfa_base32_encoded_secret"] = ["Must be base32 encoded"]
    if errors:
        raise Invalid(errors)
    now = sandbox.now()
    user = NewUser(
        user_id=str(uuid.uuid4()),
        email=body["email"],
        created_at=now,
        last_active_at=now,
        email_confirmed=body.get("email_confirmed", False),
        migrated_password_hash=body.get("existing_password_hash"),
        mfa_secret=secret,
        username=body.get("username"),
        first_name=body.get("first_name"),
        last_name=body.get("last_name"),
        picture_url=body.get("picture_url"),
        enabled=body.get("enabled", True),
        legacy_user_id=body.get("existing_user_id"),
        properties=body.get("properties", {}),
        update_password_required=body.get("update_password_required", False),
    )
    return _insert_user(sandbox, user)


@_handles_invalid
async def migrate_user_password(request: Request) -> Response:
    store = _sandbox(request).store
    body = await _json_body(
        request, {"user_id": "uuid", "password_hash": "nonempty_str"}, frozenset({"user_id", "password_hash"})
    )
    changes = {"migrated_password_hash": body["password_hash"], "password_hash": None}
    return _ok() if store.update_user(body["user_id"], changes) else _user_not_found()


# --- employees ----------------------------------------------------------------------------


async def fetch_employee(request: Request) -> Response:
    email = _sandbox(request).store.employee_email(str(request.path_params["employee_id"]))
    return _message(404, "Employee not found") if email is None else _ok({"email": email})


def _routes() -> list[Route]:
    # Literal /user/... paths come before /user/{user_id}, so they are never taken for an id.
    return [
        Route(f"{API}/user/", create_user, methods=["POST"]),
        Route(f"{API}/user/email", fetch_user_by_email, methods=["GET"]),
        Route(f"{API}/user/username", fetch_user_by_username, methods=["GET"]),
        Route(f"{API}/user/query", query_users, methods=["GET"]),
        Route(f"{API}/user/{{user_id}}", fetch_user_by_id, methods=["GET"]),
        Route(f"{API}/user/{{user_id}}", update_user, methods=["PUT"]),
        Route(f"{API}/user/{{user_id}}", delete_user, methods=["DELETE"]),
        Route(f"{API}/user/{{user_id}}/email", update_user_email, methods=["PUT"]),
        Route(f"{API}/user/{{user_id}}/password", update_user_password, methods=["PUT"]),
        Route(
            f"{API}/user/{{user_id}}/clear_password",
            _user_change({"password_hash": None, "migrated_password_hash": None}),
            methods=["PUT"],
        ),
        Route(
            f"{API}/user/{{user_id}}/disable",
            _user_change({"enabled": False}, end_sessions=True),
            methods=["POST"],
        ),
        Route(f"{API}/user/{{user_id}}/enable", _user_change({"enabled": True}), methods=["POST"]),
        Route(f"{API}/user/{{user_id}}/disable_2fa", _user_change({"mfa_secret": None}), methods=["POST"]),
        Route(f"{API}/user/{{user_id}}/logout_all_sessions", logout_all_sessions, methods=["POST"]),
        Route(f"{API}/resend_email_confirmation", resend_email_confirmation, methods=["POST"]),
        Route(f"{API}/magic_link", create_magic_link, methods=["POST"]),
        Route(f"{API}/access_token", create_access_token, methods=["POST"]),
        Route(f"{API}/migrate_user/", migrate_user, methods=["POST"]),
        Route(f"{API}/migrate_user/password", migrate_user_password, methods=["POST"]),
        Route(f"{API}/employee/{{employee_id}}", fetch_employee, methods=["GET"]),
        Route("/api/v1/token_verification_metadata", token_verification_metadata, methods=["GET"]),
        Route(MAGIC_LINK_PATH, redeem_magic_link, methods=["GET"]),
    ]


def create_app(
    *, api_key: str, db_path: str = ":memory:", auth_url: str = "http://localhost:8787", seed: bool = False
) -> Starlette:
    """The sandbox as an ASGI app. The store opens here; whoever built the app closes it.

    `with contextlib.closing(app.state.sandbox): ...` around serving it (or using it in process).
    Not the ASGI lifespan: one app may be entered many times in process (a test client per case).
    With `seed=True` the demo data is loaded only into a new, empty store.
    """
    if not api_key:
        raise ValueError("the sandbox needs a non-empty API key")
    store = Store(db_path)
    with ExitStack() as on_failure:  # a failed seed does not leave the database open
        on_failure.callback(store.close)
        if seed and store.is_empty():
            from sandbox.demo import seed_demo

            seed_demo(store)
        on_failure.pop_all()
    sandbox = Sandbox(store=store, api_key=api_key, auth_url=auth_url)
    app = Starlette(routes=_routes(), middleware=[Middleware(SandboxGate, sandbox=sandbox)])
    # Trailing slashes matter on the real service: no redirect from /user to /user/.
    app.router.redirect_slashes = False
    app.state.sandbox = sandbox
    return app
