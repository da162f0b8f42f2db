"""User handlers: create, fetch (one or a batch), query, update, the account switches, 2FA reads."""

from __future__ import annotations

import uuid
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox import passwords
from sandbox.state import Sandbox
from sandbox.store import ORDER_BY_SQL, Conflict, NewUser, Store
from sandbox.validation import Invalid, Kind, is_email, is_user_id, query_bool
from sandbox.web import (
    Handler,
    handles_invalid,
    json_body,
    ok,
    orgs_not_enabled,
    page,
    paging,
    sandbox_of,
    user_not_found,
    wants_orgs,
)

MIN_PASSWORD_LENGTH = 8


def _path_user_id(request: Request, store: Store) -> str | None:
    """The path's user id if it names an existing user (ids are lowercase UUID v4)."""
    user_id = str(request.path_params["user_id"])
    if not is_user_id(user_id) or store.get_user(user_id) is None:
        return None
    return user_id


def _password_errors(password: str) -> dict[str, list[str]]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return {"password": [f"Password must be at least {MIN_PASSWORD_LENGTH} characters"]}
    return {}


def conflict_errors(
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


def insert_user(sandbox: Sandbox, user: NewUser) -> Response:
    """Store a new user and answer with its id; a taken email or username is a 400 field error."""
    try:
        sandbox.store.insert_user(user)
    except Conflict as conflict:
        raise _conflict_to_invalid(conflict) from None
    return ok({"user_id": user.user_id})


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


@handles_invalid
async def create_user(request: Request) -> Response:
    sandbox = sandbox_of(request)
    body = await json_body(request, _CREATE_USER_FIELDS, frozenset({"email"}))
    errors = conflict_errors(sandbox.store, email=body["email"], username=body.get("username"))
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
    return insert_user(sandbox, user)


@handles_invalid
async def fetch_user_by_id(request: Request) -> Response:
    store = sandbox_of(request).store
    include_orgs = wants_orgs(request)
    user_id = _path_user_id(request, store)
    user = None if user_id is None else store.get_user(user_id, include_orgs=include_orgs)
    return user_not_found() if user is None else ok(user)


@handles_invalid
async def fetch_user_by_email(request: Request) -> Response:
    store = sandbox_of(request).store
    include_orgs = wants_orgs(request)
    email = request.query_params.get("email")
    if not email:
        raise Invalid({"email": ["This field is required"]})
    if not is_email(email):
        raise Invalid({"email": ["Invalid email address"]})
    user_id = store.user_id_by_email(email)
    user = None if user_id is None else store.get_user(user_id, include_orgs=include_orgs)
    return user_not_found() if user is None else ok(user)


@handles_invalid
async def fetch_user_by_username(request: Request) -> Response:
    store = sandbox_of(request).store
    include_orgs = wants_orgs(request)
    username = request.query_params.get("username")
    if not username:
        raise Invalid({"username": ["This field is required"]})
    user_id = store.user_id_by_username(username)
    user = None if user_id is None else store.get_user(user_id, include_orgs=include_orgs)
    return user_not_found() if user is None else ok(user)


@handles_invalid
async def query_users(request: Request) -> Response:
    sandbox = sandbox_of(request)
    params = request.query_params
    errors: dict[str, list[str]] = {}
    page_size, page_number = paging(params, errors)
    include_orgs = query_bool(params, "include_orgs", errors)
    order_by = params.get("order_by", "CREATED_AT_ASC")
    if order_by not in ORDER_BY_SQL:
        errors["order_by"] = [f"Must be one of {', '.join(ORDER_BY_SQL)}"]
    if errors:
        raise Invalid(errors)
    if include_orgs and not sandbox.orgs_enabled:
        return orgs_not_enabled()
    users, total = sandbox.store.query_users(
        page_size=page_size,
        page_number=page_number,
        order_by=order_by,
        email_or_username=params.get("email_or_username") or None,
        legacy_user_id=params.get("legacy_user_id"),
        include_orgs=include_orgs,
    )
    return page("users", users, total, page_size, page_number)


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


@handles_invalid
async def update_user(request: Request) -> Response:
    store = sandbox_of(request).store
    user_id = _path_user_id(request, store)
    if user_id is None:
        return user_not_found()
    changes = await json_body(request, _UPDATE_USER_FIELDS)
    errors = conflict_errors(store, email=None, username=changes.get("username"), own_id=user_id)
    if errors:
        raise Invalid(errors)
    try:
        found = store.update_user(user_id, changes)
    except Conflict as conflict:
        raise _conflict_to_invalid(conflict) from None
    return ok() if found else user_not_found()


async def delete_user(request: Request) -> Response:
    store = sandbox_of(request).store
    user_id = _path_user_id(request, store)
    return ok() if user_id is not None and store.delete_user(user_id) else user_not_found()


@handles_invalid
async def update_user_email(request: Request) -> Response:
    store = sandbox_of(request).store
    user_id = _path_user_id(request, store)
    if user_id is None:
        return user_not_found()
    body = await json_body(
        request,
        {"new_email": "email", "require_email_confirmation": "bool"},
        frozenset({"new_email", "require_email_confirmation"}),
    )
    errors = conflict_errors(
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
    return ok() if found else user_not_found()


@handles_invalid
async def update_user_password(request: Request) -> Response:
    store = sandbox_of(request).store
    user_id = _path_user_id(request, store)
    if user_id is None:
        return user_not_found()
    body = await json_body(
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
    return ok() if store.update_user(user_id, changes) else user_not_found()


def user_change(changes: dict[str, Any], *, end_sessions: bool = False) -> Handler:
    """A no-body operation that sets some columns of the path's user."""

    async def handler(request: Request) -> Response:
        store = sandbox_of(request).store
        user_id = _path_user_id(request, store)
        if user_id is None or not store.update_user(user_id, changes):
            return user_not_found()
        if end_sessions:
            store.bump_session_generation(user_id)
        return ok()

    return handler


clear_user_password = user_change({"password_hash": None, "migrated_password_hash": None})
disable_user = user_change({"enabled": False}, end_sessions=True)
enable_user = user_change({"enabled": True})
disable_user_2fa = user_change({"mfa_secret": None, "mfa_phones": None})
enable_user_can_create_orgs = user_change({"can_create_orgs": True})
disable_user_can_create_orgs = user_change({"can_create_orgs": False})


async def logout_all_sessions(request: Request) -> Response:
    store = sandbox_of(request).store
    user_id = _path_user_id(request, store)
    return ok() if user_id is not None and store.bump_session_generation(user_id) else user_not_found()


async def resend_email_confirmation(request: Request) -> Response:
    store = sandbox_of(request).store
    try:
        body = await json_body(request, {"user_id": "uuid"}, frozenset({"user_id"}))
    except Invalid as invalid:
        # This operation's errors carry `user_facing_error`, not the field map.
        first_field, messages = next(iter(invalid.errors.items()))
        return JSONResponse({"user_facing_error": f"{first_field}: {messages[0]}"}, status_code=400)
    user = store.get_user(body["user_id"])
    if user is None:
        return user_not_found()
    if user["email_confirmed"]:
        return JSONResponse({"user_facing_error": "This user's email is already confirmed"}, status_code=400)
    return ok()


# --- batches ------------------------------------------------------------------------------


def batch_fetch(field: str, column: str) -> Handler:
    """POST /user/{user_ids|emails|usernames}: the users found, as a JSON array; unknown ones left out."""

    @handles_invalid
    async def handler(request: Request) -> Response:
        store = sandbox_of(request).store
        include = wants_orgs(request)
        body = await json_body(request, {field: "str_list"}, frozenset({field}))
        return ok(store.users_by(column, body[field], include_orgs=include))

    handler.__name__ = f"fetch_users_by_{field}"
    return handler


# --- second factors, org creation right, sign-up parameters --------------------------------


async def fetch_user_mfa_methods(request: Request) -> Response:
    store = sandbox_of(request).store
    user_id = str(request.path_params["user_id"])
    found, setup = store.mfa_setup(user_id) if is_user_id(user_id) else (False, None)
    return ok({"mfa_setup": setup}) if found else user_not_found()


async def fetch_user_signup_query_params(request: Request) -> Response:
    store = sandbox_of(request).store
    user_id = str(request.path_params["user_id"])
    params = store.signup_query_parameters(user_id) if is_user_id(user_id) else None
    return user_not_found() if params is None else ok({"user_signup_query_parameters": params})
