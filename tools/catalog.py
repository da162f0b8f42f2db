"""The static tool table: one entry per spec operation, in our words.

Everything an agent reads that is not derived from the spec lives here (names, titles, descriptions,
hints), so that a review of this one file shows what agents are told. Keep descriptions short: the
whole surface has a token budget (tests/tools/test_budget.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    operation_id: str
    title: str
    description: str
    toolset: str
    read_only: bool
    destructive: bool
    idempotent: bool
    requires_confirmation: bool = False
    # What a confirmed call does to the user, for the preview ("permanently delete").
    consequence: str | None = None
    # Short agent-facing notes for individual arguments (spec descriptions are dropped).
    argument_notes: dict[str, str] = field(default_factory=dict)
    # Defaults the executor applies when the argument is absent (advertised as `default`, not required).
    applied_defaults: dict[str, Any] = field(default_factory=dict)
    # Extra keywords merged into the top of the input schema (e.g. minProperties).
    schema_extras: dict[str, Any] = field(default_factory=dict)
    # Text for a 404, formatted with the arguments; None means the generic "no user with id".
    not_found: str | None = None
    # Text for a success without a response body, formatted with the arguments.
    done: str | None = None


OPEN_WORLD = True  # every tool talks to PropelAuth, an external service

_INCLUDE_ORGS = "Also return org memberships"
# Said once at length in the server's instructions; here only the reminder where the data comes in.
_USER_DATA = " Profiles are user-written."

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="create_user",
        operation_id="createUser",
        title="Create user",
        description=(
            "Create a user. Sends a confirmation email unless email_confirmed is true or "
            "send_email_to_confirm_email_address is false. To import from another provider use migrate_user."
        ),
        toolset="users",
        read_only=False,
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
        operation_id="fetchUserById",
        title="Fetch user by id",
        description="Get one user by user id." + _USER_DATA,
        toolset="users",
        read_only=True,
        destructive=False,
        idempotent=True,
        argument_notes={"include_orgs": _INCLUDE_ORGS},
    ),
    CatalogEntry(
        name="fetch_user_by_email",
        operation_id="fetchUserByEmail",
        title="Fetch user by email",
        description="Get one user by exact email. For partial matches use query_users." + _USER_DATA,
        toolset="users",
        read_only=True,
        destructive=False,
        idempotent=True,
        argument_notes={"include_orgs": _INCLUDE_ORGS},
        not_found="No user with email {email}.",
    ),
    CatalogEntry(
        name="fetch_user_by_username",
        operation_id="fetchUserByUsername",
        title="Fetch user by username",
        description="Get one user by exact username. For partial matches use query_users." + _USER_DATA,
        toolset="users",
        read_only=True,
        destructive=False,
        idempotent=True,
        argument_notes={"include_orgs": _INCLUDE_ORGS},
        not_found="No user with username {username}.",
    ),
    CatalogEntry(
        name="query_users",
        operation_id="queryUsers",
        title="Search users",
        description=(
            "List users a page at a time, optionally filtered by an email/username substring or a "
            "legacy user id. For one exact email use fetch_user_by_email." + _USER_DATA
        ),
        toolset="users",
        read_only=True,
        destructive=False,
        idempotent=True,
        argument_notes={"page_number": "From 0", "include_orgs": _INCLUDE_ORGS},
    ),
    CatalogEntry(
        name="update_user",
        operation_id="updateUser",
        title="Update user profile",
        description=(
            "Change profile fields; only the fields given change. "
            "For email or password use update_user_email / update_user_password."
        ),
        toolset="users",
        read_only=False,
        destructive=False,
        idempotent=True,
        schema_extras={"minProperties": 2},  # user_id plus at least one field to change
        done="Updated user {user_id}.",
    ),
    CatalogEntry(
        name="update_user_email",
        operation_id="updateUserEmail",
        title="Change user email",
        description=(
            "Change a user's email. With require_email_confirmation true, a confirmation email is sent "
            "to the new address and the change waits for it."
        ),
        toolset="users",
        read_only=False,
        destructive=False,
        # Not idempotent: each call with require_email_confirmation sends another email.
        idempotent=False,
        done="Changed the email of user {user_id}.",
    ),
    CatalogEntry(
        name="update_user_password",
        operation_id="updateUserPassword",
        title="Set user password",
        description="Set a user's password. To remove it instead use clear_user_password.",
        toolset="users",
        read_only=False,
        destructive=False,
        idempotent=True,
        done="Set the password of user {user_id}.",
    ),
    CatalogEntry(
        name="clear_user_password",
        operation_id="clearUserPassword",
        title="Clear user password",
        description=(
            "Remove a user's password; they must sign in another way or reset it. Needs confirm: true."
        ),
        toolset="users",
        read_only=False,
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        consequence="remove the password of",
        done="Cleared the password of user {user_id}.",
    ),
    CatalogEntry(
        name="disable_user",
        operation_id="disableUser",
        title="Disable user",
        description=(
            "Block a user from signing in and end their sessions; reversible with enable_user "
            "(prefer this to delete_user). Needs confirm: true."
        ),
        toolset="users",
        read_only=False,
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        consequence="disable (block sign-in, end sessions of)",
        done="Disabled user {user_id}.",
    ),
    CatalogEntry(
        name="enable_user",
        operation_id="enableUser",
        title="Enable user",
        description="Re-enable a disabled user so they can sign in again.",
        toolset="users",
        read_only=False,
        destructive=False,
        idempotent=True,
        done="Enabled user {user_id}.",
    ),
    CatalogEntry(
        name="disable_user_2fa",
        operation_id="disableUser2fa",
        title="Disable user 2FA",
        description="Remove a user's two-factor enrollment (e.g. lost device). Needs confirm: true.",
        toolset="users",
        read_only=False,
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        consequence="remove two-factor authentication from",
        done="Disabled 2FA for user {user_id}.",
    ),
    CatalogEntry(
        name="logout_all_user_sessions",
        operation_id="logoutAllUserSessions",
        title="Log out all sessions",
        description="Sign a user out everywhere; they can sign in again. Needs confirm: true.",
        toolset="sessions",
        read_only=False,
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        consequence="end every session of",
        done="Logged out every session of user {user_id}.",
    ),
    CatalogEntry(
        name="resend_email_confirmation",
        operation_id="resendEmailConfirmation",
        title="Resend confirmation email",
        description="Email the user a new email-confirmation link.",
        toolset="users",
        read_only=False,
        destructive=False,
        idempotent=False,
        done="Sent a new confirmation email to user {user_id}.",
    ),
    CatalogEntry(
        name="create_magic_link",
        operation_id="createMagicLink",
        title="Create magic link",
        description=(
            "Return a sign-in URL for a user, to hand to them; nothing is emailed. "
            "For an API bearer token use create_access_token."
        ),
        toolset="magic_links",
        read_only=False,
        destructive=False,
        idempotent=False,
        not_found="No user with email {email}; set create_new_user_if_one_doesnt_exist to sign them up.",
    ),
    CatalogEntry(
        name="create_access_token",
        operation_id="createAccessToken",
        title="Create access token",
        description=(
            "Mint a short-lived bearer token (JWT) that acts as the user against your backend. "
            "For a sign-in link use create_magic_link."
        ),
        toolset="access_tokens",
        read_only=False,
        destructive=False,
        idempotent=False,
        argument_notes={"duration_in_minutes": "Default 60"},
        applied_defaults={"duration_in_minutes": 60},
    ),
    CatalogEntry(
        name="migrate_user",
        operation_id="migrateUser",
        title="Migrate user",
        description=(
            "Import a user from another auth provider, keeping their password hash and 2FA secret. "
            "For a new user use create_user."
        ),
        toolset="migration",
        read_only=False,
        destructive=False,
        idempotent=False,
    ),
    CatalogEntry(
        name="migrate_user_password",
        operation_id="migrateUserPassword",
        title="Migrate user password",
        description="Attach a password hash from another provider to an existing user.",
        toolset="migration",
        read_only=False,
        destructive=False,
        idempotent=True,
        done="Set the migrated password hash of user {user_id}.",
    ),
    CatalogEntry(
        name="delete_user",
        operation_id="deleteUser",
        title="Delete user",
        description=(
            "Permanently delete a user; cannot be undone. To block sign-in reversibly use disable_user. "
            "Needs confirm: true."
        ),
        toolset="users",
        read_only=False,
        destructive=True,
        # A second identical call changes nothing more (it answers 404).
        idempotent=True,
        requires_confirmation=True,
        consequence="permanently delete",
        done="Deleted user {user_id}.",
    ),
    CatalogEntry(
        name="fetch_employee_by_id",
        operation_id="fetchEmployeeById",
        title="Fetch employee",
        description="Get the email of a PropelAuth dashboard employee (your team, not a user) by id.",
        toolset="employees",
        read_only=True,
        destructive=False,
        idempotent=True,
        not_found="No employee with id {employee_id}.",
    ),
)

TOOLSETS: tuple[str, ...] = ("users", "magic_links", "access_tokens", "migration", "sessions", "employees")
