"""Organization handlers: fetch, query, create, update (role mapping included), delete; role mappings.

Every one answers 426 when the project has organizations turned off.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox import roles
from sandbox.org_store import ORG_ORDER_BY_SQL, NewOrg, OrgRecord, OrgStore
from sandbox.validation import Invalid, Kind, check_body, parse_json_object
from sandbox.web import (
    handles_invalid,
    json_body,
    needs_orgs,
    ok,
    org_not_found,
    page,
    paging,
    path_id,
    sandbox_of,
)

_CREATE_ORG_FIELDS: dict[str, Kind] = {
    "name": "nonempty_str",
    "enable_auto_joining_by_domain": "bool",
    "members_must_have_matching_domain": "bool",
    "domain": "domain",
    "max_users": "int",
    "custom_role_mapping_name": "str",
    "legacy_org_id": "str",
}

# Update org's wire names -> the store's columns.
_UPDATE_ORG_FIELDS: dict[str, tuple[Kind, str]] = {
    "name": ("nonempty_str", "org_name"),
    "can_setup_saml": ("bool", "can_setup_saml"),
    "metadata": ("object", "org_metadata"),
    "max_users": ("int", "max_users"),
    "autojoin_by_domain": ("bool", "domain_autojoin"),
    "restrict_to_domain": ("bool", "domain_restrict"),
    "domain": ("domain", "domain"),
    "extra_domains": ("domain_list", "extra_domains"),
    "legacy_org_id": ("str", "legacy_org_id"),
    "require_2fa_by": ("datetime", "require_2fa_by"),
    "custom_role_mapping_name": ("str", "custom_role_mapping_name"),
    "password_rotation_enabled": ("bool", "password_rotation_enabled"),
    "password_rotation_history_size": ("int", "password_rotation_history_size"),
    "password_rotation_period": ("int", "password_rotation_period"),
}

_QUERY_FIELDS: dict[str, Kind] = {
    "page_size": "int",
    "page_number": "int",
    "order_by": "str",
    "name": "str",
    "legacy_org_id": "str",
    "domain": "str",
}

_DOMAIN_NEEDED = "A domain is required to auto-join or restrict members by domain"


def _unknown_mapping(name: str) -> str:
    return f"Unknown role mapping: {name}"


def _at_least_one(body: dict[str, Any], names: tuple[str, ...], errors: dict[str, list[str]]) -> None:
    for name in names:
        if name in body and body[name] < 1:
            errors[name] = ["Must be at least 1"]


@needs_orgs
async def fetch_org(request: Request) -> Response:
    org_id = path_id(request, "org_id")
    org = None if org_id is None else sandbox_of(request).store.orgs.get(org_id)
    return org_not_found() if org is None else ok(org)


async def _org_query_params(request: Request) -> dict[str, str]:
    """The query's parameters: from the query string, and from a JSON body if one is sent.

    Python's SDK sends a GET with query parameters; node's and go's send their JSON body (POST).
    """
    params = dict(request.query_params)
    raw = await request.body()
    if raw.strip():
        body = check_body(parse_json_object(raw), _QUERY_FIELDS)
        params.update({name: str(value) for name, value in body.items()})
    return params


@needs_orgs
@handles_invalid
async def query_orgs(request: Request) -> Response:
    store = sandbox_of(request).store
    params = await _org_query_params(request)
    errors: dict[str, list[str]] = {}
    page_size, page_number = paging(params, errors)
    order_by = params.get("order_by", "CREATED_AT_ASC")
    if order_by not in ORG_ORDER_BY_SQL:
        errors["order_by"] = [f"Must be one of {', '.join(ORG_ORDER_BY_SQL)}"]
    if errors:
        raise Invalid(errors)
    orgs, total = store.orgs.query(
        page_size=page_size,
        page_number=page_number,
        order_by=order_by,
        name=params.get("name") or None,
        legacy_org_id=params.get("legacy_org_id"),
        domain=params.get("domain") or None,
    )
    return page("orgs", orgs, total, page_size, page_number)


@needs_orgs
@handles_invalid
async def create_org(request: Request) -> Response:
    sandbox = sandbox_of(request)
    body = await json_body(request, _CREATE_ORG_FIELDS, frozenset({"name"}))
    errors: dict[str, list[str]] = {}
    _at_least_one(body, ("max_users",), errors)
    mapping = body.get("custom_role_mapping_name")
    if mapping is not None and mapping not in roles.ROLE_MAPPINGS:
        errors["custom_role_mapping_name"] = [_unknown_mapping(mapping)]
    autojoin = body.get("enable_auto_joining_by_domain", False)
    restrict = body.get("members_must_have_matching_domain", False)
    if (autojoin or restrict) and "domain" not in body:
        errors["domain"] = [_DOMAIN_NEEDED]
    if errors:
        raise Invalid(errors)
    org_id = str(uuid.uuid4())
    sandbox.store.orgs.insert(
        NewOrg(
            org_id=org_id,
            name=body["name"],
            created_at=sandbox.now(),
            url_safe_org_name=sandbox.store.orgs.unique_slug(body["name"], org_id),
            max_users=body.get("max_users"),
            domain=body.get("domain", "").lower() or None,
            domain_autojoin=autojoin,
            domain_restrict=restrict,
            custom_role_mapping_name=mapping,
            legacy_org_id=body.get("legacy_org_id"),
        )
    )
    return ok({"org_id": org_id, "name": body["name"]})


def _mapping_errors(store_orgs: OrgStore, org: OrgRecord, mapping: str) -> list[str]:
    """Why the org cannot switch to the role mapping `mapping` (empty if it can)."""
    structure = roles.ROLE_MAPPINGS.get(mapping)
    if structure is None:
        return [_unknown_mapping(mapping)]
    missing = sorted(role for role in store_orgs.roles_in_use(org.org_id) if not structure.defines(role))
    if missing:
        return [f"Roles held in this organization that {mapping} does not define: {', '.join(missing)}"]
    return []


@needs_orgs
@handles_invalid
async def update_org(request: Request) -> Response:
    store = sandbox_of(request).store
    org_id = path_id(request, "org_id")
    org = None if org_id is None else store.orgs.record(org_id)
    if org is None:
        return org_not_found()
    body = await json_body(request, {name: kind for name, (kind, _) in _UPDATE_ORG_FIELDS.items()})
    errors: dict[str, list[str]] = {}
    _at_least_one(body, ("max_users", "password_rotation_history_size", "password_rotation_period"), errors)
    members = store.orgs.member_count(org.org_id)
    if "max_users" not in errors and body.get("max_users", members) < members:
        errors["max_users"] = [f"The organization already has {members} members"]
    has_domain = "domain" in body or org.domain is not None
    if (body.get("autojoin_by_domain") or body.get("restrict_to_domain")) and not has_domain:
        errors["domain"] = [_DOMAIN_NEEDED]
    if "custom_role_mapping_name" in body:
        mapping_errors = _mapping_errors(store.orgs, org, body["custom_role_mapping_name"])
        if mapping_errors:
            errors["custom_role_mapping_name"] = mapping_errors
    if errors:
        raise Invalid(errors)
    changes = {_UPDATE_ORG_FIELDS[name][1]: value for name, value in body.items()}
    if "org_name" in changes:
        changes["url_safe_org_name"] = store.orgs.unique_slug(changes["org_name"], org.org_id)
    if "domain" in changes:
        changes["domain"] = changes["domain"].lower()
    if "extra_domains" in changes:
        changes["extra_domains"] = list(dict.fromkeys(domain.lower() for domain in changes["extra_domains"]))
    return ok() if store.orgs.update(org.org_id, changes) else org_not_found()


@needs_orgs
async def delete_org(request: Request) -> Response:
    store = sandbox_of(request).store
    org_id = path_id(request, "org_id")
    # Its memberships and invites go with it (foreign keys, ON DELETE CASCADE).
    return ok() if org_id is not None and store.orgs.delete(org_id) else org_not_found()


@needs_orgs
async def fetch_custom_role_mappings(request: Request) -> Response:
    subscribed = sandbox_of(request).store.orgs.subscriptions()
    return ok(
        {
            "custom_role_mappings": [
                {"custom_role_mapping_name": name, "num_orgs_subscribed": subscribed.get(name, 0)}
                for name in sorted(roles.ROLE_MAPPINGS)
            ]
        }
    )
