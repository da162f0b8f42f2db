"""Request validation that answers the way the service does: a flat `{"field": ["message"]}` map."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

Kind = Literal[
    "any",
    "bool",
    "str",
    "nonempty_str",
    "int",
    "object",
    "email",
    "uuid",
    "url",
    "string_map",
    "str_list",
    "domain",
    "domain_list",
    "datetime",
]

_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_USER_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_DIGITS = re.compile(r"^[0-9]+$")
_DOMAIN = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


class Invalid(Exception):
    """A 400: `errors` is the body, field name -> messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def is_user_id(value: str) -> bool:
    """Whether `value` can name a user: ids are lowercase canonical UUID v4."""
    return bool(_USER_ID.match(value))


def is_uuid(value: str) -> bool:
    """Any UUID form (org ids and user ids in query filters are not always v4 lowercase)."""
    return bool(_UUID.match(value))


def is_domain(value: str) -> bool:
    return len(value) <= 253 and bool(_DOMAIN.match(value))


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_email(value: str) -> bool:
    return len(value) <= 254 and bool(_EMAIL.match(value))


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def is_int64(value: Any) -> bool:
    """A JSON integer PropelAuth's backend can hold (a signed 64-bit one; SQLite's INTEGER too)."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def _kind_error(kind: Kind, value: Any) -> str | None:
    """The message for a value that is not of `kind`, or None if it is."""
    if kind == "any":
        return None
    if kind == "bool":
        return None if isinstance(value, bool) else "Must be true or false"
    if kind == "int":
        return None if is_int64(value) else "Must be an integer"
    if kind == "object":
        return None if isinstance(value, dict) else "Must be an object"
    if kind == "string_map":
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        return None if ok else "Must be an object of strings"
    if kind == "str_list":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else "Must be a list of strings"
    if kind == "domain_list":
        ok = isinstance(value, list) and all(isinstance(v, str) and is_domain(v) for v in value)
        return None if ok else "Must be a list of domains"
    if not isinstance(value, str):
        return "Must be a string"
    if kind == "nonempty_str" and not value.strip():
        return "Must not be empty"
    if kind == "email" and not is_email(value):
        return "Invalid email address"
    if kind == "uuid" and not _UUID.match(value):
        return "Must be a UUID"
    if kind == "domain" and not is_domain(value):
        return "Must be a domain such as example.com"
    if kind == "datetime" and not _is_datetime(value):
        return "Must be an ISO 8601 date and time"
    if kind == "url" and not _is_url(value):
        return "Must be a valid http(s) URL"
    return None


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw, parse_constant=_reject_constant) if raw.strip() else None
        # Lone surrogates decode from JSON escapes but cannot be stored or sent back as UTF-8.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError, RecursionError):
        raise Invalid({"body": ["Request body must be valid JSON"]}) from None
    if not isinstance(body, dict):
        raise Invalid({"body": ["Request body must be a JSON object"]})
    return body


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def check_body(
    body: Mapping[str, Any], fields: Mapping[str, Kind], required: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Validate `body` against `fields`; return the non-null values. Unknown fields are errors."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, value in body.items():
        if name not in fields:
            errors[name] = ["Unknown field"]
        elif value is not None:
            message = _kind_error(fields[name], value)
            if message is None:
                values[name] = value
            else:
                errors[name] = [message]
    for name in sorted(required - set(body)):
        errors[name] = ["This field is required"]
    for name in sorted(required & {n for n, v in body.items() if v is None}):
        errors[name] = ["This field is required"]
    if errors:
        raise Invalid(errors)
    return values


def query_bool(params: Mapping[str, str], name: str, errors: dict[str, list[str]]) -> bool:
    value = params.get(name)
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    errors[name] = ["Must be true or false"]
    return False


def query_int(
    params: Mapping[str, str],
    name: str,
    default: int,
    low: int,
    high: int | None,
    errors: dict[str, list[str]],
) -> int:
    value = params.get(name)
    if value is None:
        return default
    # Bounded length: Python refuses to convert very long digit strings, and no page is that far.
    in_range = bool(_DIGITS.match(value)) and len(value) <= 18 and low <= int(value)
    if not in_range or (high is not None and int(value) > high):
        upper = "" if high is None else f" and at most {high}"
        errors[name] = [f"Must be an integer of at least {low}{upper}"]
        return default
    return int(value)
