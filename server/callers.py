"""Who is calling over HTTP, as the transport's authentication established it (never the token).

The HTTP gate puts a `Caller` on the ASGI scope under CALLER_SCOPE_KEY: a named static token's name,
or the PropelAuth user a signed-in OAuth token belongs to. The audit names the caller from it, the
per-caller policy reads its `scopes`, and confirmations bind to its `name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CALLER_SCOPE_KEY = "propelauth_mcp.caller"  # set on the ASGI scope by the HTTP transport's auth


@dataclass(frozen=True)
class Caller:
    """One authenticated caller.

    `name` is the stable principal (a token's name; for OAuth the PropelAuth user id, `sub`): the
    audit's `caller` and what confirmation tokens and request state bind to. `scopes` are the OAuth
    token's; a static token has none and its policy comes by name.
    """

    name: str
    user_id: str | None = None
    email: str | None = None
    client_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    def identity(self) -> dict[str, Any] | None:
        """The audit's `caller_identity`: who PropelAuth says this is; None for a static token."""
        if self.user_id is None and self.client_id is None:
            return None
        return {"user_id": self.user_id, "email": self.email, "client_id": self.client_id}


def caller_in(scope: Mapping[str, Any]) -> Caller | None:
    """The caller the HTTP auth put on this ASGI scope (None on stdio and in memory)."""
    caller = scope.get(CALLER_SCOPE_KEY)
    return caller if isinstance(caller, Caller) else None
