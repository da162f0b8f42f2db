"""The emulated project's OAuth 2.1 settings (PropelAuth's dashboard "MCP" page) and its memory."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from sandbox.oauth_store import OAuthStore

OAUTH_BASE = "/oauth/2.1"
DEFAULT_OAUTH_SCOPES = ("read:users", "admin:users")
DEFAULT_TOKEN_TTL_S = 3600
CODE_TTL_S = 60
SIGN_IN_FORM_TTL_S = 600


@dataclass(frozen=True)
class OAuthSettings:
    introspection_client_id: str
    introspection_client_secret: str
    scopes: tuple[str, ...] = DEFAULT_OAUTH_SCOPES
    # The email of a sandbox user the authorize endpoint signs in at once (tests, demos); None: a page.
    auto_approve_email: str | None = None
    token_ttl_s: int = DEFAULT_TOKEN_TTL_S

    def __post_init__(self) -> None:
        if not self.introspection_client_id or not self.introspection_client_secret:
            raise ValueError("the introspection credentials need a non-empty id and secret")
        if not self.scopes or any(not s or " " in s or '"' in s or "\\" in s for s in self.scopes):
            raise ValueError("OAuth scopes are non-empty words without spaces, quotes or backslashes")
        if self.token_ttl_s <= 0:
            raise ValueError("the access token lifetime is a positive number of seconds")


@dataclass(eq=False)
class OAuthServer:
    settings: OAuthSettings
    store: OAuthStore = field(default_factory=OAuthStore)


def oauth_of(request: Request) -> OAuthServer:
    server: OAuthServer = request.app.state.oauth
    return server


def issuer_of(auth_url: str) -> str:
    return f"{auth_url.rstrip('/')}{OAUTH_BASE}"
