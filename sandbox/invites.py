"""Invite handlers: invite by email or by user id, list pending invites, revoke one.

An invite expires INVITE_LIFETIME_SECONDS (a week) after it is made; expired invites are not listed.
Inviting someone who is already a member is a 400, as are unknown roles and addresses an org that
restricts members to its domains does not take, and inviting into an org at its `max_users`.
Inviting the same address to the same org again replaces the earlier invite. Invites made through
the API have no inviter (`inviter_email` and `inviter_user_id` are null).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.invite_store import INVITE_LIFETIME_SECONDS, NewInvite
from sandbox.memberships import admission_errors, checked_roles
from sandbox.org_store import OrgRecord
from sandbox.state import Sandbox
from sandbox.validation import Invalid, Kind, is_user_id
from sandbox.web import (
    handles_invalid,
    json_body,
    message,
    needs_orgs,
    ok,
    org_not_found,
    page,
    paging,
    sandbox_of,
    user_not_found,
)

_INVITE_FIELDS: dict[str, Kind] = {
    "email": "email",
    "org_id": "uuid",
    "role": "nonempty_str",
    "additional_roles": "str_list",
}
_INVITE_BY_ID_FIELDS: dict[str, Kind] = {
    **{k: v for k, v in _INVITE_FIELDS.items() if k != "email"},
    "user_id": "uuid",
}


def _invite(sandbox: Sandbox, org: OrgRecord, email: str, body: dict[str, Any], field: str) -> Response:
    """Check the rules for inviting `email` to `org`, then store the invite."""
    store = sandbox.store
    role, additional = checked_roles(org.structure, body)
    member_id = store.user_id_by_email(email)
    if member_id is not None and store.orgs.membership(member_id, org.org_id) is not None:
        raise Invalid({field: ["This user is already a member of this organization"]})
    errors = admission_errors(store, org, email, field)
    if errors:
        raise Invalid(errors)
    now = sandbox.now()
    store.invites.put(
        NewInvite(
            org_id=org.org_id,
            invitee_email=email,
            role=role,
            additional_roles=tuple(additional),
            created_at=now,
            expires_at=now + INVITE_LIFETIME_SECONDS,
        )
    )
    return ok()


@needs_orgs
@handles_invalid
async def invite_user_to_org(request: Request) -> Response:
    sandbox = sandbox_of(request)
    body = await json_body(request, _INVITE_FIELDS, frozenset({"email", "org_id", "role"}))
    org = sandbox.store.orgs.record(body["org_id"])
    if org is None:
        return org_not_found()
    return _invite(sandbox, org, body["email"], body, "email")


@needs_orgs
@handles_invalid
async def invite_user_to_org_by_user_id(request: Request) -> Response:
    sandbox = sandbox_of(request)
    body = await json_body(request, _INVITE_BY_ID_FIELDS, frozenset({"user_id", "org_id", "role"}))
    org = sandbox.store.orgs.record(body["org_id"])
    if org is None:
        return org_not_found()
    user = sandbox.store.get_user(body["user_id"])
    if user is None:
        return user_not_found()
    return _invite(sandbox, org, user["email"], body, "user_id")


@needs_orgs
@handles_invalid
async def fetch_pending_invites(request: Request) -> Response:
    sandbox = sandbox_of(request)
    params = request.query_params
    errors: dict[str, list[str]] = {}
    page_size, page_number = paging(params, errors)
    org_id = params.get("org_id") or None
    if org_id is not None and not is_user_id(org_id):
        errors["org_id"] = ["Must be a UUID"]
    if errors:
        raise Invalid(errors)
    if org_id is not None and sandbox.store.orgs.record(org_id) is None:
        return org_not_found()
    invites, total = sandbox.store.invites.pending_page(
        now=sandbox.now(), org_id=org_id, page_size=page_size, page_number=page_number
    )
    return page("invites", invites, total, page_size, page_number)


@needs_orgs
@handles_invalid
async def revoke_pending_org_invite(request: Request) -> Response:
    store = sandbox_of(request).store
    body = await json_body(
        request, {"invitee_email": "email", "org_id": "uuid"}, frozenset({"invitee_email", "org_id"})
    )
    if store.orgs.record(body["org_id"]) is None:
        return org_not_found()
    if not store.invites.revoke(body["org_id"], body["invitee_email"]):
        return message(404, "Invite not found")
    return ok()
