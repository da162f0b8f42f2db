"""The membership domain: who is in which organization with which role, and invitations to join."""

from __future__ import annotations

from tools.catalog.entry import CatalogEntry, StatusText
from tools.targets import INVITE, INVITE_BY_USER, MEMBERSHIP, ORG, PENDING_INVITE

MEMBERSHIPS: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="fetch_users_in_org",
        target=ORG,
        operation_id="fetchUsersInOrg",
        title="List organization members",
        description=(
            "List an organization's members and roles, a page at a time; role filters by exact role. "
            "Profiles are user-written."
        ),
        toolset="memberships",
        destructive=False,
        idempotent=True,
    ),
    CatalogEntry(
        name="add_user_to_org",
        target=MEMBERSHIP,
        operation_id="addUserToOrg",
        title="Add user to organization",
        description=(
            "Add an existing user to an organization with a role. "
            "To email an invitation use invite_user_to_org."
        ),
        toolset="memberships",
        destructive=False,
        # A second identical call changes nothing more (the user is already a member: a 400).
        idempotent=True,
        # The official SDKs always send it, so the service never falls back on a default of its own.
        applied_defaults={"additional_roles": []},
        # Not a member yet, so a 404 here is a missing user or org.
        status_texts={404: StatusText("not_found", "No user {user_id} or no organization {org_id}.")},
        done="Added user {user_id} to organization {org_id} as {role}.",
    ),
    CatalogEntry(
        name="change_user_role_in_org",
        target=MEMBERSHIP,
        operation_id="changeUserRoleInOrg",
        title="Change member role",
        description=("Set a member's role; additional_roles replaces theirs. The person may be asked."),
        toolset="memberships",
        # Gated: a new role can take rights away (an Owner made Member); the preview says the role now.
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        applied_defaults={"additional_roles": []},
        consequence="change the role of {user} in {org} from {current_role} to {role}",
        done="User {user_id} now has role {role} in organization {org_id}.",
    ),
    CatalogEntry(
        name="remove_user_from_org",
        target=MEMBERSHIP,
        operation_id="removeUserFromOrg",
        title="Remove user from organization",
        description=("Remove a member from an organization; their account stays. The person may be asked."),
        toolset="memberships",
        # Gated: the member loses the organization's access at once.
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        consequence="remove {user} (role {current_role}) from {org}",
        done="Removed user {user_id} from organization {org_id}.",
    ),
    CatalogEntry(
        name="invite_user_to_org",
        target=INVITE,
        operation_id="inviteUserToOrg",
        title="Invite to organization",
        description="Email someone an invitation to join an organization with a role.",
        toolset="memberships",
        destructive=False,
        # Not idempotent: each call sends another email.
        idempotent=False,
        applied_defaults={"additional_roles": []},
        done="Invited {email} to organization {org_id} as {role}.",
    ),
    CatalogEntry(
        name="invite_user_to_org_by_user_id",
        target=INVITE_BY_USER,
        operation_id="inviteUserToOrgByUserId",
        title="Invite user by id",
        description="Invite an existing user, by user id, to join an organization with a role.",
        toolset="memberships",
        destructive=False,
        idempotent=False,
        applied_defaults={"additional_roles": []},
        done="Invited user {user_id} to organization {org_id} as {role}.",
    ),
    CatalogEntry(
        name="fetch_pending_invites",
        target=ORG,  # when org_id is given; all organizations otherwise
        operation_id="fetchPendingInvites",
        title="List pending invites",
        description="List invitations not yet accepted, in one organization or all, a page at a time.",
        toolset="memberships",
        destructive=False,
        idempotent=True,
    ),
    CatalogEntry(
        name="revoke_pending_invite",
        target=PENDING_INVITE,
        operation_id="revokePendingInvite",
        title="Revoke invite",
        description="Withdraw a pending invitation to an organization. The person may be asked.",
        toolset="memberships",
        # Gated: it destroys the invitation; only a new invite (another email) brings it back.
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        consequence="revoke {target}",
        done="Revoked the invite of {invitee_email} to organization {org_id}.",
    ),
)
