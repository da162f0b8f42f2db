"""A settings validation error as one line for stderr: each problem names its variable and flag, no secret.

The values of the API key, the callers' tokens and the request-state keys are never shown; nor is the
value given for a URL setting unless it looks like a URL: with PROPELAUTH_AUTH_URL and
PROPELAUTH_API_KEY swapped, the "URL" is the key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationError
from pydantic_core import ErrorDetails

SECRET_FIELDS = frozenset({"api_key", "http_tokens", "request_state_keys"})
URL_FIELDS = frozenset({"auth_url", "api_base_url"})  # shown only when the value looks like a URL
NOT_SHOWN = "(value not shown)"


def describe(exc: ValidationError, fields: Mapping[str, Any], flag_for: Callable[[str], str]) -> str:
    """`fields` is the settings model's `model_fields`; `flag_for(field name)` gives the field's flag.

    An error's location is the field's name (a flag or keyword) or its variable (the environment).
    """
    by_alias = {str(field.validation_alias): name for name, field in fields.items()}
    errors = [(_field_name(error, fields, by_alias), error) for error in exc.errors()]
    hidden = sorted(
        _hidden_values(errors, fields, by_alias), key=len, reverse=True
    )  # longest first, so no part of a longer secret is left
    problems = []
    for name, error in errors:
        message = _without(error["msg"].removeprefix("Value error, "), hidden)
        if name is None:
            problems.append(message)
        else:
            problems.append(f"{fields[name].validation_alias} ({flag_for(name)}): {message}")
    return "; ".join(problems)


def _field_name(error: ErrorDetails, fields: Mapping[str, Any], by_alias: Mapping[str, str]) -> str | None:
    if not error["loc"]:
        return None
    where = str(error["loc"][0])
    return where if where in fields else by_alias.get(where)


def _hidden_values(
    errors: Iterable[tuple[str | None, ErrorDetails]], fields: Mapping[str, Any], by_alias: Mapping[str, str]
) -> set[str]:
    """Every value that may be a secret among the errors' inputs (a model-level error's input is all)."""
    hidden: set[str] = set()
    for name, error in errors:
        if name is not None:
            candidates: dict[str, Any] = {name: error["input"]}
        elif isinstance(error["input"], Mapping):
            candidates = {
                str(key) if key in fields else by_alias.get(str(key), str(key)): value
                for key, value in error["input"].items()
            }
        else:
            continue
        for field, value in candidates.items():
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if not isinstance(value, str) or not value.strip():
                continue
            if field in SECRET_FIELDS or (field in URL_FIELDS and not _looks_like_url(value)):
                hidden.add(value)
                hidden.update(part.strip() for part in value.split(",") if part.strip())
    return hidden


def _looks_like_url(value: str) -> bool:
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.hostname) and parts.password is None


def _without(message: str, hidden: list[str]) -> str:
    for value in hidden:
        message = message.replace(repr(value), NOT_SHOWN).replace(value, NOT_SHOWN)
    return message
