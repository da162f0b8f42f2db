"""Short text renderings of successful results, for clients (and models) that read only the text.

The structured content carries everything; the text carries the facts an agent acts on, one line per
user for pages, never a JSON dump. Every value in the text goes through tools/untrusted.py: free text
(names, username, org names, legacy ids) is always quoted, ids, emails, links and tokens are bare
only when they hold nothing that could pass for our own rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.render_keys import KEY_RENDERERS
from tools.render_orgs import ORG_RENDERERS
from tools.render_text import Renderer, optional_text, user_summary, when
from tools.untrusted import shown


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
    **ORG_RENDERERS,
    **KEY_RENDERERS,
}


def _yes(value: Any) -> str:
    return "yes" if value else "no"
