"""Short text renderings of successful results, for clients (and models) that read only the text.

The structured content carries everything; the text carries the facts an agent acts on, one line per
user for pages, never a JSON dump. Every value in the text goes through tools/untrusted.py: free text
(names, username, org names, legacy ids) is always quoted, ids, emails, links and tokens are bare
only when they hold nothing that could pass for our own rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from tools.untrusted import shown

Renderer = Callable[[Mapping[str, Any], Mapping[str, Any]], str]


def when(unix_seconds: Any) -> str:
    if not isinstance(unix_seconds, int) or isinstance(unix_seconds, bool):
        return "never"
    try:
        moment = datetime.fromtimestamp(unix_seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        # Beyond what the platform's clock can express (year 0 or 10000, time_t overflow): say so.
        return f"invalid timestamp {unix_seconds}"
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def count_text(count: Any, noun: str) -> str:
    """"12 members", "1 member", or "unknown members" when PropelAuth gave no number."""
    if not isinstance(count, int) or isinstance(count, bool):
        return f"unknown {noun}s"
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def full_name(user: Mapping[str, Any]) -> str:
    """The name as PropelAuth holds it (raw: for structured details, never for text)."""
    return " ".join(str(part) for part in (user.get("first_name"), user.get("last_name")) if part) or "-"


def name_text(user: Mapping[str, Any]) -> str:
    """The name for text: quoted, escaped ("-" when there is none)."""
    has_name = user.get("first_name") or user.get("last_name")
    return shown(full_name(user), quote=True) if has_name else "-"


def optional_text(value: Any) -> str:
    """A free-text field for text: quoted, escaped, "-" when empty."""
    return shown(value, quote=True) if value else "-"


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
    return f"{shown(user.get('user_id'))} {shown(user.get('email'))} ({name_text(user)}), {', '.join(flags)}"


def render_user(user: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    lines = [
        f"User {user_summary(user)}",
        f"username: {optional_text(user.get('username'))}; has password: {_yes(user.get('has_password'))}; "
        f"created {when(user.get('created_at'))}; last active {when(user.get('last_active_at'))}",
    ]
    if user.get("legacy_user_id"):
        lines.append(f"legacy user id: {shown(user['legacy_user_id'], quote=True)}")
    orgs = user.get("org_id_to_org_info")
    if isinstance(orgs, dict) and orgs:
        memberships = ", ".join(
            f"{shown(info.get('org_name'), quote=True)} ({shown(info.get('user_role'))})"
            for info in orgs.values()
            if isinstance(info, dict)
        )
        lines.append(f"orgs: {memberships}")
    return "\n".join(lines)


def render_page(page: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    users = page.get("users") or []
    current = page.get("current_page", 0)
    header = f"{len(users)} of {shown(page.get('total_users'))} users (page {shown(current)})"
    if page.get("has_more_results") and isinstance(current, int):
        header += f"; more: call again with page_number={current + 1}"
    return "\n".join([header, *(f"- {user_summary(user)}" for user in users)])


def render_created_user(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    return f"Created user {shown(result.get('user_id'))} ({shown(arguments.get('email'))})."


def render_migrated_user(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    return f"Migrated {shown(arguments.get('email'))} as user {shown(result.get('user_id'))}."


def render_magic_link(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    return (
        f"Magic link for {shown(arguments.get('email'))} (give it only to them): {shown(result.get('url'))}"
    )


def render_access_token(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    return (
        f"Access token for user {shown(arguments.get('user_id'))}, "
        f"valid {shown(arguments.get('duration_in_minutes'))} minutes: {shown(result.get('access_token'))}"
    )


def render_employee(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    return f"Employee {shown(arguments.get('employee_id'))}: {shown(result.get('email'))}"


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
