"""Enterprise SSO handlers: allow / disallow SAML, the set-up link, SP metadata, IdP metadata, go
live, delete the connection; OIDC IdP metadata; SCIM groups.

The SAML life cycle as fetch org shows it: `allow_saml` sets `can_setup_saml`; IdP metadata (only
for an org that may set up SAML) puts the connection in test mode (`is_saml_in_test_mode` on,
`is_saml_configured` off); go live turns test mode off and `is_saml_configured` on (a 400 without
IdP metadata); delete removes the connection and turns both off (a 404 if there is none).
Disallowing leaves an existing connection alone. The set-up link is `<auth url>/saml_setup/<token>`,
valid for `expires_in_seconds` (default 7 days) and for one visit. SP metadata is derived from the
org id. OIDC metadata is stored with the client secret as a hash only and is never answered.
SCIM groups are pushed by an IdP, so they come only from the demo data (or a test's own store).
Every handler answers 426 when organizations are off and 404 for an unknown org.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from sandbox import passwords
from sandbox.sso_store import OidcIdp, SamlIdp
from sandbox.validation import Invalid, Kind, check_body, is_uuid, parse_json_object
from sandbox.web import (
    handles_invalid,
    json_body,
    message,
    needs_orgs,
    ok,
    org_not_found,
    paging,
    path_id,
    sandbox_of,
)

SAML_SETUP_PATH = "/saml_setup/{token}"
LINK_LIFETIME_SECONDS = 7 * 86_400
SAML_PROVIDERS = ("Google", "Rippling", "OneLogin", "JumpCloud", "Okta", "Azure", "Duo", "Generic")
# Each OIDC IdP type's own required fields.
OIDC_TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "Generic": ("auth_url", "token_url", "userinfo_url"),
    "Okta": ("okta_sso_domain",),
    "Azure": ("entra_tenant_id",),
}
_SAML_NOT_ALLOWED = "This organization may not set up SAML: allow it first"

_IDP_FIELDS: dict[str, Kind] = {
    "org_id": "uuid",
    "idp_entity_id": "nonempty_str",
    "idp_sso_url": "url",
    "idp_certificate": "nonempty_str",
    "provider": "str",
}
_OIDC_FIELDS: dict[str, Kind] = {
    "org_id": "uuid",
    "client_id": "nonempty_str",
    "client_secret": "nonempty_str",
    "uses_pkce": "bool",
    "idp_type": "str",
    "auth_url": "url",
    "token_url": "url",
    "userinfo_url": "url",
    "okta_sso_domain": "nonempty_str",
    "entra_tenant_id": "nonempty_str",
}


def _org_id(request: Request) -> str | None:
    """The path's org id if such an org exists."""
    org_id = path_id(request, "org_id")
    return None if org_id is None or sandbox_of(request).store.orgs.record(org_id) is None else org_id


def _can_setup_saml(request: Request, org_id: str) -> bool:
    org = sandbox_of(request).store.orgs.get(org_id)
    return bool(org and org["can_setup_saml"])


def _flip(allowed: bool) -> Any:
    @needs_orgs
    async def flip(request: Request) -> Response:
        org_id = _org_id(request)
        if org_id is None or not sandbox_of(request).store.sso.set_can_setup_saml(org_id, allowed):
            return org_not_found()
        return ok()

    flip.__name__ = "allow_org_saml" if allowed else "disallow_org_saml"
    return flip


allow_org_saml = _flip(True)
disallow_org_saml = _flip(False)


@needs_orgs
@handles_invalid
async def create_saml_connection_link(request: Request) -> Response:
    sandbox = sandbox_of(request)
    org_id = _org_id(request)
    if org_id is None:
        return org_not_found()
    # the body is optional: an SDK may send none at all
    raw = await request.body()
    body = check_body(parse_json_object(raw), {"expires_in_seconds": "int"}) if raw.strip() else {}
    lifetime = body.get("expires_in_seconds", LINK_LIFETIME_SECONDS)
    if lifetime < 1:
        raise Invalid({"expires_in_seconds": ["Must be at least 1"]})
    if not _can_setup_saml(request, org_id):
        raise Invalid({"org_id": [_SAML_NOT_ALLOWED]})
    token = secrets.token_urlsafe(32)
    sandbox.store.sso.add_link(token, org_id, sandbox.now() + lifetime)
    return ok({"url": sandbox.auth_url + SAML_SETUP_PATH.format(token=token)})


async def open_saml_setup_link(request: Request) -> Response:
    """The link's landing page (for the org's IT admin, no API key): valid once."""
    sandbox = sandbox_of(request)
    token = str(request.path_params["token"])
    org_id = sandbox.store.sso.use_link(token, sandbox.now()) if token.isascii() else None
    if org_id is None:
        return message(404, "This SAML set-up link is invalid, expired or already used")
    org = sandbox.store.orgs.get(org_id)
    name = "" if org is None else org["name"]
    return HTMLResponse(f"<html><body><h1>Set up SAML for {_escape(name)}</h1></body></html>")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@needs_orgs
async def fetch_saml_sp_metadata(request: Request) -> Response:
    org_id = _org_id(request)
    if org_id is None:
        return org_not_found()
    base = f"{sandbox_of(request).auth_url}/saml/{org_id}"
    return ok({"entity_id": f"{base}/metadata", "acs_url": f"{base}/acs", "logout_url": f"{base}/logout"})


@needs_orgs
@handles_invalid
async def set_saml_idp_metadata(request: Request) -> Response:
    store = sandbox_of(request).store
    body = await json_body(request, _IDP_FIELDS, frozenset(_IDP_FIELDS))
    if body["provider"] not in SAML_PROVIDERS:
        raise Invalid({"provider": [f"Must be one of {', '.join(SAML_PROVIDERS)}"]})
    org_id = body["org_id"].lower()
    if store.orgs.record(org_id) is None:
        return org_not_found()
    if not _can_setup_saml(request, org_id):
        raise Invalid({"org_id": [_SAML_NOT_ALLOWED]})
    idp = SamlIdp(body["idp_entity_id"], body["idp_sso_url"], body["idp_certificate"], body["provider"])
    store.sso.set_saml_idp(org_id, idp)
    return ok()


@needs_orgs
@handles_invalid
async def saml_go_live(request: Request) -> Response:
    org_id = _org_id(request)
    if org_id is None:
        return org_not_found()
    if not sandbox_of(request).store.sso.go_live(org_id):
        raise Invalid({"org_id": ["This organization has no SAML IdP metadata to go live with"]})
    return ok()


@needs_orgs
async def delete_saml_connection(request: Request) -> Response:
    org_id = _org_id(request)
    if org_id is None:
        return org_not_found()
    if not sandbox_of(request).store.sso.delete_saml(org_id):
        return message(404, "This organization has no SAML connection")
    return ok()


@needs_orgs
@handles_invalid
async def set_oidc_idp_metadata(request: Request) -> Response:
    store = sandbox_of(request).store
    required = frozenset({"org_id", "client_id", "client_secret", "uses_pkce", "idp_type"})
    body = await json_body(request, _OIDC_FIELDS, required)
    own_fields = OIDC_TYPE_FIELDS.get(body["idp_type"])
    if own_fields is None:
        raise Invalid({"idp_type": [f"Must be one of {', '.join(OIDC_TYPE_FIELDS)}"]})
    errors = {name: ["This field is required"] for name in own_fields if name not in body}
    others = set(OIDC_TYPE_FIELDS) - {body["idp_type"]}
    for other in sorted(others):
        for name in OIDC_TYPE_FIELDS[other]:
            if name in body:
                errors[name] = [f"Not a field of idp_type {body['idp_type']}"]
    if errors:
        raise Invalid(errors)
    org_id = body["org_id"].lower()
    if store.orgs.record(org_id) is None:
        return org_not_found()
    settings = json.dumps({name: body[name] for name in own_fields})
    secret_hash = passwords.hash_password(body["client_secret"])
    store.sso.set_oidc_idp(
        org_id, OidcIdp(body["idp_type"], body["client_id"], secret_hash, body["uses_pkce"], settings)
    )
    return ok()


@needs_orgs
@handles_invalid
async def fetch_scim_groups(request: Request) -> Response:
    org_id = _org_id(request)
    if org_id is None:
        return org_not_found()
    errors: dict[str, list[str]] = {}
    page_size, page_number = paging(request.query_params, errors)
    user_id = request.query_params.get("user_id")
    if user_id is not None and not is_uuid(user_id):
        errors["user_id"] = ["Must be a UUID"]
    if errors:
        raise Invalid(errors)
    groups, total = sandbox_of(request).store.sso.groups_page(
        org_id,
        user_id=None if user_id is None else user_id.lower(),
        page_size=page_size,
        page_number=page_number,
    )
    return ok({"groups": groups, "page_number": page_number, "page_size": page_size, "total_groups": total})


@needs_orgs
@handles_invalid
async def fetch_scim_group(request: Request) -> Response:
    org_id = _org_id(request)
    if org_id is None:
        return org_not_found()
    params = request.query_params
    errors: dict[str, list[str]] = {}
    members_page = {
        "page_size": params.get("members_page_size"),
        "page_number": params.get("members_page_number"),
    }
    page_size, page_number = paging({k: v for k, v in members_page.items() if v is not None}, errors)
    if errors:
        raise Invalid({f"members_{name}": messages for name, messages in errors.items()})
    group = sandbox_of(request).store.sso.group(
        org_id, str(request.path_params["group_id"]), page_size=page_size, page_number=page_number
    )
    return message(404, "SCIM group not found") if group is None else ok(group)
