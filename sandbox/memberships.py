"""Membership handlers: add a user to an org, change their roles, remove them; the users of an org.

Rules (each a 400 with the flat field map unless said otherwise): roles must be defined by the
org's role structure (the message names the role); a user already in the org cannot be added again;
an org that restricts members to its domains refuses other addresses; an org at its `max_users`
takes no one more. An unknown org or user is a 404, as is a user who is not a member of the org.
Every handler answers 426 when the project has organizations turned off.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.org_store import OrgRecord
from sandbox.roles import RoleStructure
from sandbox.store import Store
from sandbox.validation import Invalid, Kind, query_bool
from sandbox.web import (
    handles_invalid,
    json_body,
    message,
    needs_orgs,
    ok,
    org_not_found,
    page,
    paging,
    path_id,
    sandbox_of,
    user_not_found,
)

_ROLE_FIELDS: dict[str, Kind] = {
    "user_id": "uuid",
    "org_id": "uuid",
    "role": "nonempty_str",
    "additional_roles": "str_list",
}
_ROLE_REQUIRED = frozenset({"user_id", "org_id", "role"})


def not_a_member() -> Response:
    return message(404, "The user is not a member of this organization")


def unknown_role(role: str) -> str:
    return f"Unknown role: {role}"


def checked_roles(structure: RoleStructure, body: dict[str, Any]) -> tuple[str, list[str]]:
    """The primary role and the additional roles (deduplicated, without the primary one).

    Raises Invalid naming each role the org's structure does not define.
    """
    role: str = body["role"]
    additional = [extra for extra in dict.fromkeys(body.get("additional_roles", [])) if extra != role]
    errors: dict[str, list[str]] = {}
    if not structure.defines(role):
        errors["role"] = [unknown_role(role)]
    unknown_extras = structure.unknown(additional)
    if unknown_extras:
        errors["additional_roles"] = [unknown_role(extra) for extra in unknown_extras]
    if errors:
        raise Invalid(errors)
    return role, additional


def admission_errors(store: Store, org: OrgRecord, email: str, field: str) -> dict[str, list[str]]:
    """Why `email` may not join `org` now: its domain, or the org being full (empty if it may)."""
    errors: dict[str, list[str]] = {}
    if not org.allows_email(email):
        errors[field] = [
            f"Members of this organization must have an email address at {', '.join(org.domains)}"
        ]
    if org.max_users is not None and store.orgs.member_count(org.org_id) >= org.max_users:
        errors["org_id"] = [f"This organization has reached its limit of {org.max_users} users"]
    return errors


def _lookup(store: Store, body: dict[str, Any]) -> tuple[OrgRecord | None, dict[str, Any] | None]:
    org = store.orgs.record(body["org_id"])
    user = store.get_user(body["user_id"])
    return org, user


@needs_orgs
@handles_invalid
async def add_user_to_org(request: Request) -> Response:
    store = sandbox_of(request).store
    body = await json_body(request, _ROLE_FIELDS, _ROLE_REQUIRED)
    org, user = _lookup(store, body)
    if org is None:
        return org_not_found()
    if user is None:
        return user_not_found()
    role, additional = checked_roles(org.structure, body)
    if store.orgs.membership(user["user_id"], org.org_id) is not None:
        raise Invalid({"user_id": ["The user is already a member of this organization"]})
    errors = admission_errors(store, org, user["email"], "user_id")
    if errors:
        raise Invalid(errors)
    store.orgs.add_member(user["user_id"], org.org_id, role, additional)
    return ok()


@needs_orgs
@handles_invalid
async def change_user_role_in_org(request: Request) -> Response:
    store = sandbox_of(request).store
    body = await json_body(request, _ROLE_FIELDS, _ROLE_REQUIRED)
    org, user = _lookup(store, body)
    if org is None:
        return org_not_found()
    if user is None:
        return user_not_found()
    role, additional = checked_roles(org.structure, body)
    if not store.orgs.set_roles(user["user_id"], org.org_id, role, additional):
        return not_a_member()
    return ok()


@needs_orgs
@handles_invalid
async def remove_user_from_org(request: Request) -> Response:
    store = sandbox_of(request).store
    body = await json_body(request, {"user_id": "uuid", "org_id": "uuid"}, frozenset({"user_id", "org_id"}))
    org, user = _lookup(store, body)
    if org is None:
        return org_not_found()
    if user is None:
        return user_not_found()
    return ok() if store.orgs.remove_member(user["user_id"], org.org_id) else not_a_member()


def _member_to_wire(store: Store, row: Any, include_orgs: bool) -> dict[str, Any]:
    user = store.user_to_wire(row, include_orgs)
    user["role_in_org"] = row["member_role"]
    user["additional_roles_in_org"] = json.loads(row["member_additional_roles"])
    return user


@needs_orgs
@handles_invalid
async def fetch_users_in_org(request: Request) -> Response:
    store = sandbox_of(request).store
    params = request.query_params
    errors: dict[str, list[str]] = {}
    page_size, page_number = paging(params, errors)
    include_orgs = query_bool(params, "include_orgs", errors)
    if errors:
        raise Invalid(errors)
    org_id = path_id(request, "org_id")
    org = None if org_id is None else store.orgs.record(org_id)
    if org is None:
        return org_not_found()
    role = params.get("role") or None
    if role is not None and not org.structure.defines(role):
        raise Invalid({"role": [unknown_role(role)]})
    rows, total = store.orgs.members_page(org.org_id, role=role, page_size=page_size, page_number=page_number)
    users: Sequence[dict[str, Any]] = [_member_to_wire(store, row, include_orgs) for row in rows]
    return page("users", list(users), total, page_size, page_number)
