"""Secret argument names and their redaction: what the audit trail and the logs must never keep.

The magic-link URL and the access token are returned to the caller (that is the point of those
tools); results are never audited, so they need no redaction here.
"""

from __future__ import annotations

from typing import Any

REDACTED = "[redacted]"

SECRET_ARGUMENTS: frozenset[str] = frozenset(
    {"password", "existing_password_hash", "password_hash", "existing_mfa_base32_encoded_secret"}
)


def redact_arguments(arguments: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of `arguments` with the values of secret arguments replaced (names kept: they are facts)."""
    if not isinstance(arguments, dict):
        return {}
    return {name: REDACTED if name in SECRET_ARGUMENTS else value for name, value in arguments.items()}
