"""Migration from another identity provider, and dashboard employees (read only)."""

from __future__ import annotations

import re
import uuid

from starlette.requests import Request
from starlette.responses import Response

from sandbox.store import NewUser
from sandbox.users import conflict_errors, insert_user
from sandbox.validation import Invalid, Kind
from sandbox.web import handles_invalid, json_body, message, ok, sandbox_of, user_not_found

_BASE32 = re.compile(r"^[A-Za-z2-7]+=*$")


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


@handles_invalid
async def migrate_user(request: Request) -> Response:
    sandbox = sandbox_of(request)
    body = await json_body(request, _MIGRATE_USER_FIELDS, frozenset({"email"}))
    errors = conflict_errors(sandbox.store, email=body["email"], username=body.get("username"))
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
    return insert_user(sandbox, user)


@handles_invalid
async def migrate_user_password(request: Request) -> Response:
    store = sandbox_of(request).store
    body = await json_body(
        request, {"user_id": "uuid", "password_hash": "nonempty_str"}, frozenset({"user_id", "password_hash"})
    )
    changes = {"migrated_password_hash": body["password_hash"], "password_hash": None}
    return ok() if store.update_user(body["user_id"], changes) else user_not_found()


async def fetch_employee(request: Request) -> Response:
    email = sandbox_of(request).store.employee_email(str(request.path_params["employee_id"]))
    return message(404, "Employee not found") if email is None else ok({"email": email})
