"""Short text renderings of the organization, membership and batch results (tools/render.py gathers them).

As for users: the facts an agent acts on, one line per org, member, invite or mapping; every value from
PropelAuth or the arguments through tools/untrusted.py, free text (org names, role names, keys of
signup parameters) quoted or escaped so that it cannot add a line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tools.render_text import Renderer, count_text, optional_text, user_summary, when
from tools.untrusted import shown


def _items(result: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    found = result.get(key)
    return [item for item in found if isinstance(item, Mapping)] if isinstance(found, list) else []


def _page_header(page: Mapping[str, Any], shown_count: int, total_key: str, noun: str) -> str:
    current = page.get("current_page", 0)
    header = f"{shown_count} of {shown(page.get(total_key))} {noun} (page {shown(current)})"
    if page.get("has_more_results") and isinstance(current, int):
        header += f"; more: call again with page_number={current + 1}"
    return header


def _roles(role: Any, additional: Any) -> str:
    """ "Admin", or "Admin + Billing, Support" for a member with additional roles."""
    extra = [shown(name) for name in additional] if isinstance(additional, list) else []
    return shown(role) + (f" + {', '.join(extra)}" if extra else "")


def _max_users(value: Any) -> str:
    return "no member limit" if value is None else f"max {shown(value)} members"


def _saml(org: Mapping[str, Any]) -> str:
    if org.get("is_saml_configured"):
        return "SAML configured" + (" (test mode)" if org.get("is_saml_in_test_mode") else "")
    if "can_setup_saml" in org:
        return "SAML allowed, not configured" if org.get("can_setup_saml") else "SAML not allowed"
    return "SAML not configured"


def render_org(org: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    domain = shown(org["domain"]) if org.get("domain") else "none"
    rules = [
        flag
        for key, flag in (("domain_autojoin", "autojoin"), ("domain_restrict", "restricted"))
        if org.get(key)
    ]
    domain_text = f"domain {domain}" + (f" ({', '.join(rules)})" if rules else "")
    parts = [domain_text, _max_users(org.get("max_users")), _saml(org)]
    if org.get("custom_role_mapping_name"):
        parts.append(f"role mapping {shown(org['custom_role_mapping_name'], quote=True)}")
    if org.get("legacy_org_id"):
        parts.append(f"legacy org id {shown(org['legacy_org_id'], quote=True)}")
    return f"Organization {shown(org.get('org_id'))} {shown(org.get('name'), quote=True)}: {'; '.join(parts)}"


def _org_line(org: Mapping[str, Any]) -> str:
    parts = [_max_users(org.get("max_users")), _saml(org), f"created {when(org.get('created_at'))}"]
    return f"- {shown(org.get('org_id'))} {shown(org.get('name'), quote=True)}: {'; '.join(parts)}"


def render_org_page(page: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    orgs = _items(page, "orgs")
    return "\n".join([_page_header(page, len(orgs), "total_orgs", "organizations"), *map(_org_line, orgs)])


def render_created_org(result: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    return f"Created organization {shown(result.get('org_id'))} {shown(result.get('name'), quote=True)}."


def render_members(page: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    users = _items(page, "users")
    header = _page_header(
        page, len(users), "total_users", f"members of organization {shown(arguments.get('org_id'))}"
    )
    lines = [
        f"- {user_summary(user)}; role {_roles(user.get('role_in_org'), user.get('additional_roles_in_org'))}"
        for user in users
    ]
    return "\n".join([header, *lines])


def render_pending_invites(page: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    invites = _items(page, "invites")
    lines = [
        f"- {shown(invite.get('invitee_email'))} to {shown(invite.get('org_id'))} "
        f"{shown(invite.get('org_name'), quote=True)} as "
        f"{_roles(invite.get('role_in_org'), invite.get('additional_roles_in_org'))}; "
        f"invited by {shown(invite['inviter_email']) if invite.get('inviter_email') else '-'}; "
        f"expires {when(invite.get('expires_at'))}"
        for invite in invites
    ]
    return "\n".join([_page_header(page, len(invites), "total_invites", "pending invites"), *lines])


def render_role_mappings(result: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    mappings = _items(result, "custom_role_mappings")
    if not mappings:
        return "No custom role mappings."
    lines = [
        f"- {shown(mapping.get('custom_role_mapping_name'), quote=True)}: "
        f"{count_text(mapping.get('num_orgs_subscribed'), 'organization')}"
        for mapping in mappings
    ]
    return "\n".join([count_text(len(mappings), "custom role mapping"), *lines])


def render_mfa_methods(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    who = f"User {shown(arguments.get('user_id'))}"
    setup = result.get("mfa_setup")
    if not isinstance(setup, Mapping):
        return f"{who} has no 2FA method set up."
    if setup.get("type") == "Totp":
        return f"{who} uses an authenticator app (TOTP) for 2FA."
    if setup.get("type") == "Phone":
        phones = ", ".join(
            f"ending {shown(phone.get('mfa_phone_number_suffix'))} (id {shown(phone.get('mfa_phone_id'))})"
            for phone in _items(setup, "phone_numbers")
        )
        return f"{who} uses phone 2FA: {phones or 'no numbers listed'}."
    return f"{who} uses 2FA method {shown(setup.get('type'))}."


def render_signup_params(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    who = f"user {shown(arguments.get('user_id'))}"
    params = result.get("user_signup_query_parameters")
    if not isinstance(params, Mapping) or not params:
        return f"No signup query parameters for {who}."
    lines = [f"- {shown(str(key))} = {optional_text(value)}" for key, value in params.items()]
    return "\n".join([f"Signup query parameters of {who} (user-supplied):", *lines])


def _batch(argument: str, key: str, fold: Callable[[str], str]) -> Renderer:
    """A batch fetch: how many of those asked for were found, one line each, and which were not."""

    def render(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
        users = _items(result, "users")
        asked = [value for value in arguments.get(argument) or [] if isinstance(value, str)]
        found = {fold(user[key]) for user in users if isinstance(user.get(key), str)}
        missing = [value for value in dict.fromkeys(asked) if fold(value) not in found]
        lines = [
            f"{len(users)} of {len(dict.fromkeys(asked))} found",
            *(f"- {user_summary(u)}" for u in users),
        ]
        if missing:
            lines.append(f"not found: {', '.join(shown(value) for value in missing)}")
        return "\n".join(lines)

    return render


ORG_RENDERERS: dict[str, Renderer] = {
    "fetchUsersByIds": _batch("user_ids", "user_id", str.lower),
    "fetchUsersByEmails": _batch("emails", "email", str.casefold),
    # Matched without case, so that a username the service matched so is not listed as missing.
    "fetchUsersByUsernames": _batch("usernames", "username", str.casefold),
    "fetchUserMfaMethods": render_mfa_methods,
    "fetchUserSignupQueryParams": render_signup_params,
    "fetchOrg": render_org,
    "queryOrgs": render_org_page,
    "createOrg": render_created_org,
    "fetchCustomRoleMappings": render_role_mappings,
    "fetchUsersInOrg": render_members,
    "fetchPendingInvites": render_pending_invites,
}
