"""Redaction, one mechanism and one marker: what the audit trail and the logs must never keep.

Two ways a secret is known: by the NAME it travels under (a `password` argument, an `api_key` log field),
blanked by `redact_named`; and by its VALUE (the API key, HTTP tokens), replaced wherever it appears in a
rendered line by a `SecretScrubber`. Both write the same marker, `REDACTED`.

The magic-link URL and the access token are returned to the caller (that is the point of those
tools); results are never audited, so they need no redaction here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"

SECRET_ARGUMENTS: frozenset[str] = frozenset(
    {
        "password",
        "existing_password_hash",
        "password_hash",
        "existing_mfa_base32_encoded_secret",
        # End-user API keys (validated or imported) and an OIDC client's secret: credentials of the
        # project's users and of its customers' IdPs. The IdP's SAML certificate is not among them: it
        # is public key material, published in the IdP's own metadata.
        "api_key_token",
        "imported_api_key",
        "client_secret",
        # A bearer capability: whoever holds it may confirm the call it was minted for.
        "confirmation_token",
    }
)

# A value this short is no secret worth the name, and replacing it would garble ordinary text.
MIN_SCRUBBED_LENGTH = 6


def redact_named(mapping: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """A copy of `mapping` with the values under `names` replaced (the names are kept: they are facts)."""
    secret = frozenset(names)
    return {name: REDACTED if name in secret else value for name, value in mapping.items()}


def redact_arguments(arguments: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of a call's arguments with the values of secret arguments replaced."""
    if not isinstance(arguments, dict):
        return {}
    return redact_named(arguments, SECRET_ARGUMENTS)


class SecretScrubber:
    """Replaces known secret values (the API key, HTTP tokens, a call's passwords) wherever they appear:
    in a rendered line, or anywhere in JSON-like data (an error body that quotes what was sent).

    Secrets can be added after creation (the HTTP tokens are known once the settings are read); every
    line rendered after `add` is scrubbed of the new one too.
    """

    def __init__(self, secrets: Iterable[str] = (), *, min_length: int = MIN_SCRUBBED_LENGTH) -> None:
        self._min_length = min_length
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        if len(secret) >= self._min_length and secret not in self._secrets:
            # Longest first, so that a secret containing another is replaced whole.
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def scrub_data(self, value: Any) -> Any:
        """`value` (strings, lists and objects, keys included) with every known secret replaced."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self(str(key)): self.scrub_data(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.scrub_data(item) for item in value]
        return value
