"""The user domain: users, their sign-in (magic links, access tokens), migration, sessions, employees."""

from __future__ import annotations

from tools.catalog.entry import CatalogEntry, StatusText
from tools.targets import EMPLOYEE, USER, USER_BY_EMAIL, USER_BY_USERNAME

_INCLUDE_ORGS = "Include org memberships"
# Said once at length in the server's instructions; here only the reminder where the data comes in.
_USER_DATA = " Profiles are user-written."
# The user reads that can include memberships answer 426 when the project has no organizations.
WITHOUT_ORGS = {
    426: StatusText(
        "orgs_not_enabled",
        "Organizations are not enabled for this PropelAuth project; call again without include_orgs.",
    )
}


def _batch_read(plural: str, camel: str, by: str) -> CatalogEntry:
    """fetch_users_by_<plural>: many users in one call, by a list in the body."""
    return CatalogEntry(
        name=f"fetch_users_by_{plural}",
        operation_id=f"fetchUsersBy{camel}",
        title=f"Fetch users by {plural}",
        description=f"Get many users by {by} at once; unknown ones are left out." + _USER_DATA,
        toolset="users",
        # A POST only because the list travels in a body: it changes nothing.
        read_only=True,
        destructive=False,
        idempotent=True,
        argument_notes={"include_orgs": _INCLUDE_ORGS},
        status_texts=WITHOUT_ORGS,
        result_key="users",
    )


USERS: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="create_user",
        target=USER_BY_EMAIL,
        operation_id="createUser",
        title="Create user",
        description=(
            "Create a user. Sends a confirmation email unless email_confirmed is true or "
            "send_email_to_confirm_email_address is false. To import one use migrate_user."
        ),
        toolset="users",
        destructive=False,
        idempotent=False,
        # The official SDKs always send these four, so the service never falls back on a default of
        # its own: whether an email goes out is exactly what the schema says.
        applied_defaults={
            "email_confirmed": False,
            "send_email_to_confirm_email_address": True,
            "ask_user_to_update_password_on_login": False,
            "ignore_domain_restrictions": False,
        },
    ),
    CatalogEntry(
        name="fetch_user_by_id",
        target=USER,
        operation_id="fetchUserById",
        title="Fetch user by id",
        description="Get one user by user id." + _USER_DATA,
        toolset="users",
        destructive=False,
        idempotent=True,
        argument_notes={"include_orgs": _INCLUDE_ORGS},
        status_texts=WITHOUT_ORGS,
    ),
    CatalogEntry(
        name="fetch_user_by_email",
        target=USER_BY_EMAIL,
        operation_id="fetchUserByEmail",
        title="Fetch user by email",
        description="Get one user by exact email. For partial matches use query_users." + _USER_DATA,
        toolset="users",
        destructive=False,
        idempotent=True,
        argument_notes={"include_orgs": _INCLUDE_ORGS},
        status_texts=WITHOUT_ORGS,
    ),
    CatalogEntry(
        name="fetch_user_by_username",
        target=USER_BY_USERNAME,
        operation_id="fetchUserByUsername",
        title="Fetch user by username",
        description="Get one user by exact username. For partial matches use query_users." + _USER_DATA,
        toolset="users",
        destructive=False,
        idempotent=True,
        argument_notes={"include_orgs": _INCLUDE_ORGS},
        status_texts=WITHOUT_ORGS,
    ),
    CatalogEntry(
        name="query_users",
        operation_id="queryUsers",
        title="Search users",
        description=(
            "List users a page at a time, by email/username substring or legacy user id. "
            "For one exact email use fetch_user_by_email." + _USER_DATA
        ),
        toolset="users",
        destructive=False,
        idempotent=True,
        argument_notes={"page_number": "From 0", "include_orgs": _INCLUDE_ORGS},
        status_texts=WITHOUT_ORGS,
    ),
    CatalogEntry(
        name="update_user",
        target=USER,
        operation_id="updateUser",
        title="Update user profile",
        description=(
            "Change profile fields; only the fields given change. "
            "For email or password use update_user_email / update_user_password."
        ),
        toolset="users",
        destructive=False,
        idempotent=True,
        schema_extras={"minProperties": 2},  # user_id plus at least one field to change
        done="Updated user {user_id}.",
    ),
    CatalogEntry(
        name="update_user_email",
        target=USER,
        operation_id="updateUserEmail",
        title="Change user email",
        description=(
            "Change a user's email. With require_email_confirmation true, the new address must confirm first."
        ),
        toolset="users",
        destructive=False,
        # Not idempotent: each call with require_email_confirmation sends another email.
        idempotent=False,
        done="Changed the email of user {user_id}.",
        sensitive=True,
        consequence="change the email of {target} to {new_email}",
    ),
    CatalogEntry(
        name="update_user_password",
        target=USER,
        operation_id="updateUserPassword",
        title="Set user password",
        description="Set a user's password. To remove it instead use clear_user_password.",
        toolset="users",
        destructive=False,
        idempotent=True,
        done="Set the password of user {user_id}.",
        sensitive=True,
        consequence="set a new password for {target}",
    ),
    CatalogEntry(
        name="clear_user_password",
        target=USER,
        operation_id="clearUserPassword",
        title="Clear user password",
        description=(
            "Remove a user's password; they must sign in another way or reset it. The person may be asked."
        ),
        toolset="users",
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        consequence="remove the password of {target}",
        done="Cleared the password of user {user_id}.",
    ),
    CatalogEntry(
        name="disable_user",
        target=USER,
        operation_id="disableUser",
        title="Disable user",
        description=("Block sign-in and end sessions; reversible with enable_user. The person may be asked."),
        toolset="users",
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        consequence="disable (block sign-in, end sessions of) {target}",
        done="Disabled user {user_id}.",
    ),
    CatalogEntry(
        name="enable_user",
        target=USER,
        operation_id="enableUser",
        title="Enable user",
        description="Re-enable a disabled user so they can sign in again.",
        toolset="users",
        destructive=False,
        idempotent=True,
        done="Enabled user {user_id}.",
    ),
    CatalogEntry(
        name="disable_user_2fa",
        target=USER,
        operation_id="disableUser2fa",
        title="Disable user 2FA",
        description="Remove a user's two-factor enrollment (e.g. lost device). The person may be asked.",
        toolset="users",
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        consequence="remove two-factor authentication from {target}",
        done="Disabled 2FA for user {user_id}.",
    ),
    CatalogEntry(
        name="logout_all_user_sessions",
        target=USER,
        operation_id="logoutAllUserSessions",
        title="Log out all sessions",
        description="Sign a user out everywhere; they can sign in again. The person may be asked.",
        toolset="sessions",
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        consequence="end every session of {target}",
        done="Logged out every session of user {user_id}.",
    ),
    CatalogEntry(
        name="resend_email_confirmation",
        target=USER,
        operation_id="resendEmailConfirmation",
        title="Resend confirmation email",
        description="Email the user a new email-confirmation link.",
        toolset="users",
        destructive=False,
        idempotent=False,
        done="Sent a new confirmation email to user {user_id}.",
    ),
    CatalogEntry(
        name="create_magic_link",
        target=USER_BY_EMAIL,
        operation_id="createMagicLink",
        title="Create magic link",
        description=(
            "A sign-in URL to hand to a user; nothing is emailed. For an API token use create_access_token."
        ),
        toolset="magic_links",
        destructive=False,
        idempotent=False,
        status_texts={
            404: StatusText(
                "not_found",
                "No user with email {email}; set create_new_user_if_one_doesnt_exist to sign them up.",
            )
        },
        sensitive=True,
        consequence="create a sign-in link for {email}",
        returned_secret="url",
    ),
    CatalogEntry(
        name="create_access_token",
        target=USER,
        operation_id="createAccessToken",
        title="Create access token",
        description=(
            "Mint a short-lived JWT that acts as the user against your backend. "
            "For a sign-in link use create_magic_link."
        ),
        toolset="access_tokens",
        destructive=False,
        idempotent=False,
        argument_notes={"duration_in_minutes": "Default 60"},
        # This operation says "no such user" with a 403, and "not enabled" with a 404.
        status_texts={
            403: StatusText("not_found", "No user with id {user_id}."),
            404: StatusText(
                "feature_disabled",
                "Access-token creation is not enabled for this PropelAuth project; enable it in the "
                "PropelAuth dashboard, or use create_magic_link.",
            ),
        },
        applied_defaults={"duration_in_minutes": 60},
        sensitive=True,
        consequence="create a {duration_in_minutes}-minute bearer token that acts as {target}",
        returned_secret="access_token",
    ),
    CatalogEntry(
        name="migrate_user",
        target=USER_BY_EMAIL,
        operation_id="migrateUser",
        title="Migrate user",
        description=(
            "Import a user from another provider with their password hash and 2FA secret. "
            "For a new user use create_user."
        ),
        toolset="migration",
        destructive=False,
        idempotent=False,
    ),
    CatalogEntry(
        name="migrate_user_password",
        target=USER,
        operation_id="migrateUserPassword",
        title="Migrate user password",
        description="Attach a password hash from another provider to an existing user.",
        toolset="migration",
        destructive=False,
        idempotent=True,
        done="Set the migrated password hash of user {user_id}.",
        sensitive=True,
        consequence="set a migrated password hash for {target}",
    ),
    CatalogEntry(
        name="delete_user",
        target=USER,
        operation_id="deleteUser",
        title="Delete user",
        description=(
            "Permanently delete a user (irreversible); to block sign-in use disable_user. "
            "The person may be asked."
        ),
        toolset="users",
        destructive=True,
        # A second identical call changes nothing more (it answers 404).
        idempotent=True,
        requires_confirmation=True,
        consequence="permanently delete {target}",
        done="Deleted user {user_id}.",
    ),
    CatalogEntry(
        name="fetch_employee_by_id",
        target=EMPLOYEE,
        operation_id="fetchEmployeeById",
        title="Fetch employee",
        description="Get the email of a PropelAuth dashboard employee (your team, not a user) by id.",
        toolset="employees",
        destructive=False,
        idempotent=True,
    ),
    _batch_read("ids", "Ids", "id"),
    _batch_read("emails", "Emails", "exact email"),
    _batch_read("usernames", "Usernames", "exact username"),
    CatalogEntry(
        name="fetch_user_mfa_methods",
        target=USER,
        operation_id="fetchUserMfaMethods",
        title="Fetch user 2FA methods",
        description="A user's 2FA methods: none, authenticator app, or phones (last digits only).",
        toolset="users",
        destructive=False,
        idempotent=True,
    ),
    CatalogEntry(
        name="fetch_user_signup_query_params",
        target=USER,
        operation_id="fetchUserSignupQueryParams",
        title="Fetch user signup parameters",
        description="The query parameters (e.g. UTM tags) a user signed up with; user-supplied.",
        toolset="users",
        destructive=False,
        idempotent=True,
    ),
    CatalogEntry(
        name="enable_user_can_create_orgs",
        target=USER,
        operation_id="enableUserCanCreateOrgs",
        title="Allow user to create orgs",
        description="Let a user create organizations themselves.",
        toolset="users",
        destructive=False,
        idempotent=True,
        done="User {user_id} can now create organizations.",
    ),
    CatalogEntry(
        name="disable_user_can_create_orgs",
        target=USER,
        operation_id="disableUserCanCreateOrgs",
        title="Stop user creating orgs",
        description="Stop a user from creating organizations; their memberships stay.",
        toolset="users",
        # Destructive: it takes a right away. Not gated: it is reversed by enable_user_can_create_orgs
        # and removes no existing access (orgs and memberships stay).
        destructive=True,
        idempotent=True,
        done="User {user_id} can no longer create organizations.",
    ),
)
