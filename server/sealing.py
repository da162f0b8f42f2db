"""The keys that seal what a client carries between calls: the 2026-07-28 requestState and the
preview's confirmation tokens. One key list per process, from the settings or one random key.

The two uses get different keys (the token's are derived with HMAC under their own label), so a
requestState never opens as a token, nor a token as a requestState.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.request_state import AESGCMRequestStateCodec, InvalidRequestState, RequestStateSecurity

from server.settings import Settings

TOKEN_KEY_LABEL = b"propelauth-mcp/confirmation-token/v1"
# A round of the multi-round-trip form lives this long: the person's think time (every round is re-sealed).
REQUEST_STATE_TTL_S = 300.0


def request_state_keys(settings: Settings) -> list[str]:
    """The operator's shared keys, as given (empty: none given)."""
    if settings.request_state_keys is None:
        return []
    return [k.strip() for k in settings.request_state_keys.get_secret_value().split(",") if k.strip()]


def key_material(settings: Settings) -> list[bytes]:
    """The keys this process seals with: the shared ones, else one random key that dies with it."""
    return [key.encode() for key in request_state_keys(settings)] or [os.urandom(32)]


def request_state_security(
    keys: list[bytes], bind_principal: Callable[[ServerRequestContext[Any]], str | None]
) -> RequestStateSecurity:
    """Raises ValueError for a key shorter than 32 bytes (a start-up error)."""
    return RequestStateSecurity(keys=keys, ttl=REQUEST_STATE_TTL_S, bind_principal=bind_principal)


class TokenUnsealable(ValueError):
    """A confirmation token that is not one of ours, or was changed (the reason is never shown)."""


class TokenSealer:
    """`tools.asking.Sealer` over the SDK's AES-256-GCM codec, under keys derived for tokens only."""

    def __init__(self, keys: list[bytes]) -> None:
        self._codec = AESGCMRequestStateCodec(
            [hmac.new(key, TOKEN_KEY_LABEL, hashlib.sha256).digest() for key in keys]
        )

    def seal(self, data: bytes) -> str:
        return self._codec.seal(data)

    def unseal(self, sealed: str) -> bytes:
        try:
            return self._codec.unseal(sealed)
        except InvalidRequestState as exc:
            raise TokenUnsealable(str(exc)) from None
