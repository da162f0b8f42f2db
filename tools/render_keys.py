"""Short text renderings of the SSO, end-user API key and insights results (tools/render.py gathers them).

As for users and orgs: one line per key, group, report row or data point; every value from PropelAuth or
the arguments through tools/untrusted.py, free text (display names, group names, metadata) quoted or
escaped so that it cannot add a line. A created key's token is shown once, to the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.render_orgs import _items, _page_header
from tools.render_text import Renderer, count_text, name_text, optional_text, user_summary, when
from tools.untrusted import shown


def _owner(key: Mapping[str, Any]) -> str:
    owners = [
        f"{noun} {shown(key[field])}"
        for field, noun in (("user_id", "user"), ("org_id", "org"))
        if key.get(field)
    ]
    return " in ".join(owners) or "no owner"


def _key_line(key: Mapping[str, Any]) -> str:
    return (
        f"{shown(key.get('api_key_id'))} {optional_text(key.get('display_name'))}: {_owner(key)}; "
        f"created {when(key.get('created_at'))}; expires {when(key.get('expires_at_seconds'))}"
    )


def render_api_key(key: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    line = f"API key {_key_line(key)}"
    if key.get("metadata"):
        line += f"; metadata {shown(key['metadata'], quote=True)}"
    return line


def render_api_key_page(page: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    keys = _items(page, "api_keys")
    header = _page_header(page, len(keys), "total_api_keys", "API keys")
    return "\n".join([header, *(f"- {_key_line(key)}" for key in keys)])


def render_created_api_key(result: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    return (
        f"Created API key {shown(result.get('api_key_id'))}. Its token, shown this once "
        f"(give it only to its owner): {shown(result.get('api_key_token'))}"
    )


def render_imported_api_key(result: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    return f"Imported as API key {shown(result.get('api_key_id'))}."


def render_validation(result: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    lines = ["The key is valid."]
    user, org, member = result.get("user"), result.get("org"), result.get("user_in_org")
    if isinstance(user, Mapping):
        lines.append(f"user: {user_summary(user)}")
    if isinstance(org, Mapping):
        lines.append(f"org: {shown(org.get('org_id'))} {shown(org.get('org_name'), quote=True)}")
    if isinstance(member, Mapping):
        lines.append(f"role in org: {shown(member.get('user_role'))}")
    if result.get("metadata"):
        lines.append(f"metadata: {shown(result['metadata'], quote=True)}")
    return "\n".join(lines)


def render_usage(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    return f"{count_text(result.get('count'), 'validation')} on {shown(arguments.get('date'))}."


def render_saml_link(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    return (
        f"SAML set-up link for organization {shown(arguments.get('org_id'))} "
        f"(give it only to its IT admin): {shown(result.get('url'))}"
    )


def render_sp_metadata(result: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    return "\n".join(
        [
            f"SAML service-provider values for organization {shown(arguments.get('org_id'))}:",
            *(f"- {key}: {shown(result.get(key))}" for key in ("entity_id", "acs_url", "logout_url")),
        ]
    )


def render_scim_groups(page: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    groups = _items(page, "groups")
    header = (
        f"{len(groups)} of {shown(page.get('total_groups'))} SCIM groups of organization "
        f"{shown(arguments.get('org_id'))} (page {shown(page.get('page_number', 0))})"
    )
    lines = [
        f"- {shown(group.get('group_id'))} {shown(group.get('display_name'), quote=True)}" for group in groups
    ]
    return "\n".join([header, *lines])


def render_scim_group(group: Mapping[str, Any], _arguments: Mapping[str, Any]) -> str:
    members = _items(group, "members")
    ids = ", ".join(shown(member.get("user_id")) for member in members) or "none"
    return (
        f"SCIM group {shown(group.get('group_id'))} {shown(group.get('display_name'), quote=True)}: "
        f"{count_text(len(members), 'member')} on this page: {ids}"
    )


def _report_header(page: Mapping[str, Any], rows: int, noun: str) -> str:
    header = _page_header(page, rows, "total_count", noun)
    return f"{header}; computed {when(page.get('report_time'))}"


def render_user_report(page: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    rows = _items(page, "user_reports")
    lines = [
        f"- {shown(row.get('user_id'))} {shown(row.get('email'))} ({name_text(row)}); "
        f"last active {when(row.get('last_active_at'))}"
        for row in rows
    ]
    return "\n".join([_report_header(page, len(rows), f"users in {shown(arguments.get('report'))}"), *lines])


def render_org_report(page: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    rows = _items(page, "org_reports")
    lines = [
        f"- {shown(row.get('org_id'))} {shown(row.get('name'), quote=True)}: "
        f"{count_text(row.get('num_users'), 'member')}; created {when(row.get('org_created_at'))}"
        for row in rows
    ]
    return "\n".join([_report_header(page, len(rows), f"orgs in {shown(arguments.get('report'))}"), *lines])


def render_chart(chart: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    points = _items(chart, "metrics")
    lines = [
        f"- {shown(point.get('date'))}: {shown(point.get('result'))}"
        + ("" if point.get("cadence_completed", True) else " (so far)")
        for point in points
    ]
    header = f"{shown(arguments.get('metric'))} per {shown(chart.get('cadence'))} period"
    return "\n".join([header, *lines])


KEY_RENDERERS: dict[str, Renderer] = {
    "fetchApiKey": render_api_key,
    "fetchApiKeys": render_api_key_page,
    "fetchArchivedApiKeys": render_api_key_page,
    "createApiKey": render_created_api_key,
    "importApiKey": render_imported_api_key,
    "validateApiKey": render_validation,
    "validateImportedApiKey": render_validation,
    "fetchApiKeyUsage": render_usage,
    "createSamlConnectionLink": render_saml_link,
    "fetchSamlSpMetadata": render_sp_metadata,
    "fetchScimGroups": render_scim_groups,
    "fetchScimGroup": render_scim_group,
    "fetchUserReport": render_user_report,
    "fetchOrgReport": render_org_report,
    "fetchChartMetrics": render_chart,
}
