"""What a call acts on: the kinds of target, how each is named, found missing, checked and previewed.

A catalog entry names its target kind; the executor, the failure texts and the audit read everything
about the target from here, so that none of them assumes a user. Templates are formatted with the
call's arguments (each value shown through tools/untrusted.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tools import previews
from tools.previews import Seen

# (the call's arguments, the answers of the preview's reads in order) -> what is shown, or None when
# an answer is not the target asked about (never a confirmation prompt for what nobody could read).
Say = Callable[[Mapping[str, Any], Sequence[Any]], Seen | None]


@dataclass(frozen=True)
class PreviewRead:
    """One read behind a preview: a read-only tool (resolved at derivation) and its arguments."""

    tool: str
    passed: tuple[str, ...]  # the call's arguments handed on under the same names
    fixed: Mapping[str, Any] = field(default_factory=dict)  # arguments of the read itself


@dataclass(frozen=True)
class Preview:
    reads: tuple[PreviewRead, ...]
    say: Say


@dataclass(frozen=True)
class TargetKind:
    noun: str  # "user", "organization": "If that is the right <noun>, ..."
    arguments: tuple[str, ...]  # the arguments that name one; the audit's `target` carries them
    not_found: str  # the text of a 404
    check: str  # where to look whether a write that may have happened did happen
    preview: Preview | None = None


_USER_PREVIEW = Preview((PreviewRead("fetch_user_by_id", ("user_id",)),), previews.say_user)

USER = TargetKind(
    noun="user",
    arguments=("user_id",),
    not_found="No user with id {user_id}.",
    check="fetch_user_by_id (user_id {user_id})",
    preview=_USER_PREVIEW,
)
USER_BY_EMAIL = TargetKind(
    noun="user",
    arguments=("email",),
    not_found="No user with email {email}.",
    check="fetch_user_by_email ({email})",
)
USER_BY_USERNAME = TargetKind(
    noun="user",
    arguments=("username",),
    not_found="No user with username {username}.",
    check="fetch_user_by_username ({username})",
)
EMPLOYEE = TargetKind(
    noun="employee",
    arguments=("employee_id",),
    not_found="No employee with id {employee_id}.",
    check="fetch_employee_by_id (employee_id {employee_id})",
)
ORG = TargetKind(
    noun="organization",
    arguments=("org_id",),
    not_found="No organization with id {org_id}.",
    check="fetch_org (org_id {org_id})",
    # The org, and how many memberships and pending invites go with it (one row of each is enough:
    # the pages carry their totals).
    preview=Preview(
        (
            PreviewRead("fetch_org", ("org_id",)),
            PreviewRead("fetch_users_in_org", ("org_id",), {"page_size": 1}),
            PreviewRead("fetch_pending_invites", ("org_id",), {"page_size": 1}),
        ),
        previews.say_org,
    ),
)
MEMBERSHIP = TargetKind(
    noun="membership",
    arguments=("user_id", "org_id"),
    # A 404 on a membership's own operations (change role, remove) also means "not a member".
    not_found="User {user_id} is not a member of organization {org_id}, or one of them does not exist.",
    check="fetch_user_by_id (user_id {user_id}, include_orgs true)",
    preview=Preview(
        (PreviewRead("fetch_user_by_id", ("user_id",), {"include_orgs": True}),), previews.say_membership
    ),
)
INVITE = TargetKind(
    noun="invite",
    arguments=("email", "org_id"),
    not_found="No organization with id {org_id}.",
    check="fetch_pending_invites (org_id {org_id})",
)
# An invitation already sent: the revoke names the invitee as the service does, `invitee_email`.
PENDING_INVITE = TargetKind(
    noun="invite",
    arguments=("invitee_email", "org_id"),
    not_found="No organization {org_id}, or no pending invite for {invitee_email} in it.",
    check="fetch_pending_invites (org_id {org_id})",
    preview=Preview(
        (PreviewRead("fetch_pending_invites", ("org_id",), {"page_size": previews.INVITES_READ}),),
        previews.say_invite,
    ),
)
INVITE_BY_USER = TargetKind(
    noun="invite",
    arguments=("user_id", "org_id"),
    not_found="No user {user_id} or no organization {org_id}.",
    check="fetch_pending_invites (org_id {org_id})",
)
# An end-user API key: the preview reads the key (its display name, owner and expiry; the service
# says nothing of a key's last use, so neither does the preview).
API_KEY = TargetKind(
    noun="API key",
    arguments=("api_key_id",),
    not_found="No API key with id {api_key_id} (a deleted key is listed by fetch_archived_api_keys).",
    check="fetch_api_key (api_key_id {api_key_id})",
    preview=Preview((PreviewRead("fetch_api_key", ("api_key_id",)),), previews.say_api_key),
)
SCIM_GROUP = TargetKind(
    noun="SCIM group",
    arguments=("org_id", "group_id"),
    not_found="No organization {org_id}, or no SCIM group {group_id} in it.",
    check="fetch_scim_groups (org_id {org_id})",
)
