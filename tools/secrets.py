"""What must not reach logs: secret argument names and secret result fields, and their redaction.

The magic-link URL and the access token are returned to the caller (that is the point of those
tools); the audit log must not keep them.
"""

from __future__ import annotations

from typing import Any

from tools.model import ToolDefinition

REDACTED = "[redacted]"

SECRET_ARGUMENTS: frozenset[str] = frozenset(
    {"password", "existing_password_hash", "password_hash", "existing_mfa_base32_encoded_secret"}
)

# tool name -> fields of its structured result that are secret
SECRET_RESULT_FIELDS: dict[str, frozenset[str]] = {
    "create_magic_link": frozenset({"url"}),
    "create_access_token": frozenset({"access_token"}),
}


def redact_arguments(definition: ToolDefinition, arguments: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of `arguments` with the values of secret arguments replaced (names kept: they are facts)."""
    if not isinstance(arguments, dict):
        return {}
    return {name: REDACTED if name in SECRET_ARGUMENTS else value for name, value in arguments.items()}


def redact_result(definition: ToolDefinition, structured: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy of a structured result with its secret fields replaced."""
    if structured is None:
        return None
    secret = SECRET_RESULT_FIELDS.get(definition.name, frozenset())
    return {name: REDACTED if name in secret else value for name, value in structured.items()}
