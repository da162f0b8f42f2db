"""Check tool arguments and PropelAuth's answers against the tools' schemas (JSON Schema 2020-12).

Whether an instance conforms is decided by jsonschema-rs, a compiled validator (about 1 µs for a tool's
arguments, 60 µs for a page of 100 users; bench/validator_checks.py). Only invalid arguments meet
jsonschema, which says what is wrong, field by field. Both use our format checks (uuid, uri, email),
so the two paths give one answer. Both are built lazily, one per schema, and cached: building them at
import would cost start-up time for tools that may never be called.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from tools.arguments import without_unset
from tools.secrets import SECRET_ARGUMENTS

# Every URL an agent passes (a picture, a redirect after sign-in) is a web page: derive.py adds this
# pattern to each `format: uri` argument, keeping javascript: or data: URLs out of links sent to users.
WEB_URL_PATTERN = "^https?://"

if TYPE_CHECKING:  # jsonschema is imported on first use: its format checkers cost ~150 ms at import
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import ValidationError

Check = Callable[[Any], bool]

# An absolute URI (RFC 3986 characters only, no spaces); http(s) ones must name a host. Our own check,
# so that it does not depend on which optional format packages are installed.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")
# The canonical 8-4-4-4-12 form only, ASCII hex in any case (matched whole, so no trailing newline).
# uuid.UUID, behind jsonschema's own check, also takes braces, "urn:uuid:", no dashes, "_" and Unicode
# digits, none of which PropelAuth knows. Not advertised as a `pattern`: 15 uuid arguments x ~41
# tokens would add ~615 tokens to what every model reads, for what `format: uuid` already says.
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# jsonschema's own "email" check only looks for an "@". PropelAuth refuses addresses without a
# dotted domain, so check a practical shape: local@label(.label)+, no spaces, no empty labels.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$"
)


def is_uuid(text: str) -> bool:
    return UUID.fullmatch(text) is not None


def is_uri(text: str) -> bool:
    if not _URI.fullmatch(text):
        return False
    parts = urlsplit(text)
    return parts.scheme.lower() not in ("http", "https") or bool(parts.hostname)


def is_email(text: str) -> bool:
    local = text.split("@", 1)[0]
    # RFC 5321 limits: 64 characters before the "@", 254 in all.
    if len(local) > 64 or len(text) > 254:
        return False
    return bool(_EMAIL.fullmatch(text)) and not local.startswith(".") and ".." not in text


# The formats the schemas use, checked our way on both paths (each is asked about strings only).
FORMATS: dict[str, Callable[[str], bool]] = {"uuid": is_uuid, "uri": is_uri, "email": is_email}


@functools.cache
def format_checker() -> FormatChecker:
    """jsonschema's 2020-12 format checks, with ours for the formats in `FORMATS`."""
    from jsonschema import Draft202012Validator, FormatChecker

    checker = FormatChecker(formats=())
    checker.checkers.update(Draft202012Validator.FORMAT_CHECKER.checkers)
    for name, check in FORMATS.items():
        checker.checks(name)(functools.partial(_strings_only, check))
    return checker


def _strings_only(check: Callable[[str], bool], instance: object) -> bool:
    """A format says nothing about a value that is not a string (JSON Schema's rule)."""
    return not isinstance(instance, str) or check(instance)


T = TypeVar("T")
_validators: dict[int, tuple[dict[str, Any], Draft202012Validator]] = {}
_conformance_checks: dict[int, tuple[dict[str, Any], Check]] = {}


def _per_schema(
    cache: dict[int, tuple[dict[str, Any], T]], schema: dict[str, Any], build: Callable[[], T]
) -> T:
    """`build()` once per schema, cached by identity (definitions are built once per process)."""
    cached = cache.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    value = build()
    cache[id(schema)] = (schema, value)  # keeps the schema alive, so its id is not reused
    return value


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    """The cached jsonschema validator of `schema`."""

    def build() -> Draft202012Validator:
        from jsonschema import Draft202012Validator

        return Draft202012Validator(schema, format_checker=format_checker())

    return _per_schema(_validators, schema, build)


def conformance_check(schema: dict[str, Any]) -> Check:
    """A new compiled check of whether an instance conforms to `schema`, formats asserted (ours).

    What jsonschema-rs cannot read (a lone surrogate, which a JSON escape can spell; a non-string
    key; a set) is left to jsonschema. So is a schema naming a format outside `FORMATS`, which
    jsonschema-rs would check its own way.
    """
    if not _formats_named(schema) <= FORMATS.keys():
        return lambda instance: validator_for(schema).is_valid(instance)
    import jsonschema_rs

    is_valid = jsonschema_rs.validator_for(schema, formats=FORMATS, validate_formats=True).is_valid

    def conforms(instance: Any) -> bool:
        try:
            return is_valid(instance)
        except ValueError:
            return validator_for(schema).is_valid(instance)

    return conforms


def conformance_for(schema: dict[str, Any]) -> Check:
    """The cached `conformance_check` of `schema`."""
    return _per_schema(_conformance_checks, schema, lambda: conformance_check(schema))


def _formats_named(node: Any) -> set[str]:
    """Every `format` a schema names, however deeply (a default that looks like one only costs speed)."""
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("format"), str):
            found.add(node["format"])
        for value in node.values():
            found |= _formats_named(value)
    elif isinstance(node, list):
        for value in node:
            found |= _formats_named(value)
    return found


def argument_errors(schema: dict[str, Any], arguments: Any) -> list[str]:
    """Per-field problems with `arguments`, e.g. "user_id: 'abc' is not a valid uuid"; [] when valid.

    What is checked against the advertised schema is what will be used: the optional arguments given
    as null (which it allows) are left out first, as the executor leaves them out. So {"user_id": ...,
    "first_name": null} does not count as the two fields update_user's minProperties asks for.
    """
    arguments = without_unset(schema, arguments)
    # NaN and Infinity parse (Python's json takes them) and pass JSON Schema as numbers, but are not
    # JSON: no request carrying one can be encoded. They are invalid wherever they are, nested too.
    not_finite = dict(_not_finite(arguments, ())) if _has_not_finite(arguments) else {}
    if not not_finite and conformance_for(schema)(arguments):
        return []
    messages = [
        f"{_prefix(path)}{_spelled(value)} is not a JSON number" for path, value in not_finite.items()
    ]
    errors = sorted(
        validator_for(schema).iter_errors(arguments), key=lambda e: (list(map(str, e.path)), str(e.validator))
    )
    for error in errors:
        if any(tuple(error.absolute_path)[: len(path)] == path for path in not_finite):
            continue  # said above, once, rather than as "must be at most 100, got inf"
        for message in _describe(error, schema):
            if message not in messages:
                messages.append(message)
    return messages


def _has_not_finite(value: Any) -> bool:
    """Whether `value` holds a NaN or an infinity anywhere; on every call, so kept lean (exact JSON
    types: what a JSON parser gives)."""
    kind = type(value)
    if kind is float:
        return not math.isfinite(value)
    if kind is dict:
        for item in value.values():
            if _has_not_finite(item):
                return True
    elif kind is list:
        for item in value:
            if _has_not_finite(item):
                return True
    return False


def _not_finite(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], float]]:
    """(path, value) of every NaN or infinite float in `value`, however deeply nested."""
    if isinstance(value, float):
        if not math.isfinite(value):
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _not_finite(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _not_finite(item, (*path, index))


def _spelled(value: float) -> str:
    """How JSON text that Python accepts spells it (never repr's 'nan' or 'inf')."""
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _prefix(path: Sequence[str | int]) -> str:
    """The "a.b: " before a message about a field; nothing before one about the arguments as a whole."""
    return ".".join(map(str, path)) + ": " if path else ""


def _shown(error: ValidationError) -> str:
    """The offending value for a message; never the value of a secret argument."""
    if any(str(part) in SECRET_ARGUMENTS for part in error.absolute_path):
        return "the value"
    text = repr(error.instance)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error: ValidationError, root: dict[str, Any]) -> list[str]:
    prefix = _prefix(error.absolute_path)
    kind = error.validator
    if kind == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        missing = [name for name in error.validator_value if name not in present]
        return [f"{prefix}{name}: required" for name in missing]
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        known = list(error.schema.get("properties", {}))
        out = []
        for name in error.instance:
            if name in known:
                continue
            hint = difflib.get_close_matches(str(name), known, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            out.append(f"{prefix}extra field '{name}' is not allowed{suggestion}")
        return out
    if kind == "format":
        return [f"{prefix}{_shown(error)} is not a valid {error.validator_value}"]
    # null, which an optional argument allows as "not given", is left out of what is asked for.
    if kind == "type":
        expected = error.validator_value
        names = [name for name in expected if name != "null"] if isinstance(expected, list) else [expected]
        return [f"{prefix}expected {' or '.join(names)}, got {_json_type(error.instance)}"]
    if kind == "enum":
        allowed = [str(value) for value in error.validator_value if value is not None]
        return [f"{prefix}{_shown(error)} is not one of {', '.join(allowed)}"]
    if kind in ("minimum", "maximum"):
        bound = "at least" if kind == "minimum" else "at most"
        return [f"{prefix}must be {bound} {error.validator_value}, got {_shown(error)}"]
    if kind == "pattern" and error.validator_value == WEB_URL_PATTERN:
        return [f"{prefix}{_shown(error)} must be an http:// or https:// URL"]
    if kind == "minLength":
        return [f"{prefix}must not be empty" if error.validator_value == 1 else f"{prefix}too short"]
    if kind == "minProperties" and not error.absolute_path:
        required = set(root.get("required", ()))
        optional = [name for name in root.get("properties", {}) if name not in required]
        return [f"give at least one of: {', '.join(optional)}"]
    return [f"{prefix}{error.message}"]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
