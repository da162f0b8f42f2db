"""End-user API key handlers: create, import, fetch, list current / archived, update, delete,
validate, validate imported, usage.

A key belongs to a user (a personal key), to an org (an org key), to both (a user's key in one of
their orgs) or to neither. Tokens are 64 hex characters, answered once by create and never again;
api_key_id is 32 hex. "Current" keys are neither deleted nor expired; "archived" keys are the rest.
Validation answers `metadata`, `user`, `org` and `user_in_org` (each null when the key has none) and
counts one use of the key for the day (UTC); usage sums those counts. An invalid, deleted or expired
key is a 400 `{"api_key_token": [...]}`; an unknown api_key_id a 404 `{"message": ...}`.
`api_key_type` (sent by the Python SDK only) narrows lists to `user` (personal) or `org` keys.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.api_key_store import KeyFilter, NewApiKey
from sandbox.state import Sandbox
from sandbox.store import fold
from sandbox.validation import Invalid, Kind, is_int64, is_uuid
from sandbox.web import handles_invalid, json_body, message, ok, page, paging, sandbox_of

_HEX_ID = re.compile(r"^[0-9a-f]{32}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_INVALID_KEY = "Invalid API key"

_CREATE_FIELDS: dict[str, Kind] = {
    "org_id": "uuid",
    "user_id": "uuid",
    "display_name": "str",
}
_UPDATE_FIELDS: dict[str, Kind] = {
    "set_to_never_expire": "bool",
    "display_name": "str",
}
_PERSONAL = "k.user_id IS NOT NULL AND k.org_id IS NULL"
_TYPES = {"user": _PERSONAL, "personal": _PERSONAL, "org": "k.org_id IS NOT NULL", "all": "1 = 1"}


def api_key_not_found() -> Response:
    return message(404, "API key not found")


def _metadata(body: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any] | None:
    """`metadata`: an object (python, go) or a JSON string of one (node types it as a string)."""
    value = body.pop("metadata", None)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None if not value else "not an object"
    if value is not None and not isinstance(value, dict):
        errors["metadata"] = ["Must be an object"]
        return None
    return value


def _owner_errors(sandbox: Sandbox, body: dict[str, Any], errors: dict[str, list[str]]) -> None:
    store = sandbox.store
    user_id, org_id = body.get("user_id"), body.get("org_id")
    if user_id is not None and store.get_user(user_id) is None:
        errors["user_id"] = ["User not found"]
    if org_id is not None and store.orgs.record(org_id) is None:
        errors["org_id"] = ["Org not found"]
    if user_id and org_id and not errors and store.orgs.membership(user_id, org_id) is None:
        errors["user_id"] = ["The user is not a member of this organization"]


def _digits_to_int(raw: dict[str, Any]) -> None:
    """`expires_at_seconds` as a number, or as a string of digits (python's SDK types it `str`)."""
    value = raw.get("expires_at_seconds")
    if isinstance(value, str) and value.isdigit() and len(value) <= 18:
        raw["expires_at_seconds"] = int(value)


def _expiry_errors(sandbox: Sandbox, body: dict[str, Any], errors: dict[str, list[str]]) -> None:
    _digits_to_int(body)
    if "expires_at_seconds" not in body:
        return
    value = body["expires_at_seconds"]
    if not is_int64(value):
        errors["expires_at_seconds"] = ["Must be an integer"]
    elif value <= sandbox.now():
        errors["expires_at_seconds"] = ["Must be in the future"]


async def _new_key(request: Request, *, imported: bool) -> tuple[str, str]:
    """Check a create / import body and store the key; the key's id and token."""
    sandbox = sandbox_of(request)
    raw = dict(await json_body(request, _body_fields(imported)))
    errors: dict[str, list[str]] = {}
    metadata = _metadata(raw, errors)
    _owner_errors(sandbox, raw, errors)
    _expiry_errors(sandbox, raw, errors)
    token = raw.get("imported_api_key") if imported else secrets.token_hex(32)
    if imported and not token:
        errors["imported_api_key"] = ["This field is required"]
    if errors:
        raise Invalid(errors)
    assert token is not None
    api_key_id = uuid.uuid4().hex
    stored = sandbox.store.api_keys.insert(
        NewApiKey(
            api_key_id=api_key_id,
            token=token,
            created_at=sandbox.now(),
            imported=imported,
            expires_at_seconds=raw.get("expires_at_seconds"),
            metadata=metadata,
            user_id=raw.get("user_id"),
            org_id=raw.get("org_id"),
            display_name=raw.get("display_name"),
        )
    )
    if not stored:
        raise Invalid({"imported_api_key": ["This API key has already been imported"]})
    return api_key_id, token


def _body_fields(imported: bool) -> dict[str, Kind]:
    # metadata is checked by _metadata (object or JSON string), so it passes here as any value
    fields: dict[str, Kind] = {**_CREATE_FIELDS, "metadata": "any", "expires_at_seconds": "any"}
    if imported:
        fields["imported_api_key"] = "nonempty_str"
    return fields


@handles_invalid
async def create_api_key(request: Request) -> Response:
    api_key_id, token = await _new_key(request, imported=False)
    return ok({"api_key_id": api_key_id, "api_key_token": token})


@handles_invalid
async def import_api_key(request: Request) -> Response:
    api_key_id, _ = await _new_key(request, imported=True)
    return ok({"api_key_id": api_key_id})


def _key_id(request: Request) -> str | None:
    value = str(request.path_params["api_key_id"])
    return value if _HEX_ID.match(value) else None


async def fetch_api_key(request: Request) -> Response:
    api_key_id = _key_id(request)
    key = None if api_key_id is None else sandbox_of(request).store.api_keys.get(api_key_id)
    return api_key_not_found() if key is None else ok(key)


def _key_filter(params: Any, errors: dict[str, list[str]], *, with_key_id: bool = False) -> KeyFilter:
    for name in ("org_id", "user_id"):
        value = params.get(name)
        if value is not None and not is_uuid(value):
            errors[name] = ["Must be a UUID"]
    api_key_id = params.get("api_key_id") if with_key_id else None
    if api_key_id is not None and not _HEX_ID.match(api_key_id):
        errors["api_key_id"] = ["Must be 32 hexadecimal characters"]
    email = params.get("user_email")
    return KeyFilter(
        org_id=(params.get("org_id") or "").lower() or None,
        user_id=(params.get("user_id") or "").lower() or None,
        user_email_key=None if not email else fold(email),
        api_key_id=api_key_id,
    )


def _list(archived: bool) -> Any:
    @handles_invalid
    async def list_keys(request: Request) -> Response:
        sandbox = sandbox_of(request)
        params = request.query_params
        errors: dict[str, list[str]] = {}
        page_size, page_number = paging(params, errors)
        where = _key_filter(params, errors)
        key_type = params.get("api_key_type")
        if key_type is not None and key_type.lower() not in _TYPES:
            errors["api_key_type"] = ["Must be one of user, org, all"]
        if errors:
            raise Invalid(errors)
        keys, total = sandbox.store.api_keys.page(
            archived=archived,
            now=sandbox.now(),
            where=where,
            type_sql=None if key_type is None else _TYPES[key_type.lower()],
            page_size=page_size,
            page_number=page_number,
        )
        return page("api_keys", keys, total, page_size, page_number)

    list_keys.__name__ = "fetch_archived_api_keys" if archived else "fetch_current_api_keys"
    return list_keys


fetch_current_api_keys = _list(archived=False)
fetch_archived_api_keys = _list(archived=True)


@handles_invalid
async def update_api_key(request: Request) -> Response:
    sandbox = sandbox_of(request)
    api_key_id = _key_id(request)
    if api_key_id is None or sandbox.store.api_keys.get(api_key_id) is None:
        return api_key_not_found()
    raw = dict(await json_body(request, {**_UPDATE_FIELDS, "metadata": "any", "expires_at_seconds": "any"}))
    errors: dict[str, list[str]] = {}
    metadata = _metadata(raw, errors)
    _expiry_errors(sandbox, raw, errors)
    never = raw.pop("set_to_never_expire", False)
    if never and "expires_at_seconds" in raw:
        errors["set_to_never_expire"] = ["Cannot be combined with expires_at_seconds"]
    if errors:
        raise Invalid(errors)
    changes: dict[str, Any] = dict(raw)
    if metadata is not None:
        changes["metadata"] = metadata
    if never:
        changes["expires_at_seconds"] = None
    updated = sandbox.store.api_keys.update(api_key_id, changes)
    return ok() if updated else api_key_not_found()


async def delete_api_key(request: Request) -> Response:
    sandbox = sandbox_of(request)
    api_key_id = _key_id(request)
    archived = api_key_id is not None and sandbox.store.api_keys.archive(api_key_id, sandbox.now())
    return ok() if archived else api_key_not_found()


def _today(sandbox: Sandbox) -> str:
    return datetime.fromtimestamp(sandbox.now(), UTC).strftime("%Y-%m-%d")


def _validation(sandbox: Sandbox, key: Any) -> dict[str, Any] | None:
    """What validate answers for a live key, or None if its user or org no longer exists."""
    store = sandbox.store
    user = org = user_in_org = None
    if key["user_id"] is not None:
        user = store.get_user(key["user_id"], include_orgs=sandbox.orgs_enabled)
        if user is None:
            return None
    if key["org_id"] is not None:
        fetched = store.orgs.get(key["org_id"])
        if fetched is None:
            return None
        org = {
            "org_id": fetched["org_id"],
            "org_name": fetched["name"],
            "max_users": fetched["max_users"],
            "is_saml_configured": fetched["is_saml_configured"],
            "legacy_org_id": fetched["legacy_org_id"],
            "metadata": fetched["metadata"],
            "custom_role_mapping_name": fetched["custom_role_mapping_name"],
        }
        if key["user_id"] is not None:
            user_in_org = store.orgs.memberships(key["user_id"]).get(key["org_id"])
    metadata = None if key["metadata"] is None else json.loads(key["metadata"])
    return {"metadata": metadata, "user": user, "org": org, "user_in_org": user_in_org}


def _validate(imported: bool) -> Any:
    @handles_invalid
    async def validate(request: Request) -> Response:
        sandbox = sandbox_of(request)
        body = await json_body(request, {"api_key_token": "str"}, frozenset({"api_key_token"}))
        token: str = body["api_key_token"].strip()
        if token.lower().startswith("bearer "):
            token = token[len("bearer ") :].strip()
        key = sandbox.store.api_keys.by_token(token, imported=imported, now=sandbox.now())
        answer = None if key is None else _validation(sandbox, key)
        if key is None or answer is None:
            raise Invalid({"api_key_token": [_INVALID_KEY]})
        sandbox.store.api_keys.count_use(key["api_key_id"], _today(sandbox))
        return ok(answer)

    validate.__name__ = "validate_imported_api_key" if imported else "validate_api_key"
    return validate


validate_api_key = _validate(imported=False)
validate_imported_api_key = _validate(imported=True)


@handles_invalid
async def fetch_api_key_usage(request: Request) -> Response:
    params = request.query_params
    errors: dict[str, list[str]] = {}
    day = params.get("date")
    if day is None:
        errors["date"] = ["This field is required"]
    elif not _DATE.match(day) or not _is_date(day):
        errors["date"] = ["Must be a date as YYYY-MM-DD"]
    where = _key_filter(params, errors, with_key_id=True)
    if errors:
        raise Invalid(errors)
    assert day is not None
    return ok({"count": sandbox_of(request).store.api_keys.usage(day, where)})


def _is_date(value: str) -> bool:
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True
