"""Short text renderings of successful results, for clients (and models) that read only the text.

The structured content carries everything; the text carries the facts an agent acts on, one line per
user for pages, never a JSON dump.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

Renderer = Callable[[Mapping[str, Any], Mapping[str, Any]], str]


def when(unix_seconds: Any) -> str:
    if not isinstance(unix_seconds, int) or isinstance(unix_seconds, bool):
        return "never"
    return datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def full_name(user: Mapping[str, Any]) -> str:
    return " ".join(part for part in (user.get("first_name"), user.get("last_name")) if part) or "-"


def user_summary(user: Mapping[str, Any]) -> str:
    """One line: id, email, name and the states an operator acts on."""
    flags = [
        "enabled" if user.get("enabled") else "DISABLED",
        "2FA on" if user.get("mfa_enabled") else "2FA off",
    ]
    if user.get("locked"):
        flags.append("LOCKED")
    if not user.get("email_confirmed"):
        flags.append("email unconfirmed")
    return f"{user.get('user_id')} {user.get('email')} ({full_name(user)}), {', '.join(flags)}"


def render_user(user: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    lines = [
        f"User {user_summary(user)}",
        f"username: {user.get('username') or '-'}; has password: {_yes(user.get('has_password'))}; "
        f"created {when(user.get('created_at'))}; last active {when(user.get('last_active_at'))}",
    ]
    if user.get("legacy_user_id"):
        lines.append(f"legacy user id: {user['legacy_user_id']}")
    orgs = user.get("org_id_to_org_info")
    if isinstance(orgs, dict) and orgs:
        memberships = ", ".join(
            f"{info.get('org_name')} ({info.get('user_role')})"
            for info in orgs.values()
            if isinstance(info, dict)
        )
        lines.append(f"orgs: {memberships}")
    return "\n".join(lines)


def render_page(page: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    users = page.get("users") or []
    current = page.get("current_page", 0)
    header = f"{len(users)} of {page.get('total_users')} users (page {current})"
    if page.get("has_more_results"):
        header += f"; more: call again with page_number={current + 1}"
    return "\n".join([header, *(f"- {user_summary(user)}" for user in users)])


def render_created_user(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    return f"Created user {result.get('user_id')} ({arguments.get('email')})."


def render_migrated_user(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    return f"Migrated {arguments.get('email')} as user {result.get('user_id')}."


def render_magic_link(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    return f"Magic link for {arguments.get('email')} (give it only to them): {result.get('url')}"


def render_access_token(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    return (
        f"Access token for user {arguments.get('user_id')}, valid {arguments.get('duration_in_minutes')} "
        f"minutes: {result.get('access_token')}"
    )


def render_employee(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    return f"Employee {arguments.get('employee_id')}: {result.get('email')}"


RENDERERS: dict[str, Renderer] = {
    "createUser": render_created_user,
    "fetchUserById": render_user,
    "fetchUserByEmail": render_user,
    "fetchUserByUsername": render_user,
    "queryUsers": render_page,
    "createMagicLink": render_magic_link,
    "createAccessToken": render_access_token,
    "migrateUser": render_migrated_user,
    "fetchEmployeeById": render_employee,
}


def _yes(value: Any) -> str:
    return "yes" if value else "no"
