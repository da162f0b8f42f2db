"""The OAuth authorization server's memory: registered clients, codes, tokens, form nonces, counts.

In memory only (a restart signs everyone out, like a fresh project). Codes, tokens, client
secrets and nonces are random strings from `secrets`; only their sha256 digests are kept, so
nothing held here can be replayed. One lock serialises every method: handlers run on the event
loop, tests may drive the app from other threads.

A grant is what one sign-in produced: the code, then every access and refresh token derived
from it by refreshing. Replaying a used code or a rotated refresh token revokes the whole grant
(OAuth 2.1 section 4.3.1 and 6.1: a replay means one of the copies was stolen).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import Counter
from dataclasses import dataclass


def digest(secret: str) -> str:
    # The secrets are 256 random bits, so a plain digest makes the stored value useless.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Client:
    client_id: str
    secret_digest: str | None  # None: a public client (token_endpoint_auth_method "none")
    auth_method: str
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...]
    client_name: str | None
    issued_at: int


@dataclass(frozen=True)
class Grant:
    """Who signed in, for which client, resource and scopes: shared by a grant's codes and tokens."""

    grant_id: str
    user_id: str
    client_id: str
    scopes: tuple[str, ...]
    resource: str
    session_generation: int  # the user's logout epoch at sign-in: a later "log out everywhere" ends it


@dataclass(frozen=True)
class Code:
    grant: Grant
    redirect_uri: str
    code_challenge: str
    expires_at: int


@dataclass(frozen=True)
class AccessToken:
    grant: Grant
    scopes: tuple[str, ...]  # a refresh may narrow them below the grant's
    issued_at: int
    expires_at: int


@dataclass(frozen=True)
class RefreshToken:
    grant: Grant
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class CodeUse:
    """What taking a code found: the code, or none (and whether that was a replay)."""

    code: Code | None
    replayed: bool


class OAuthStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, Client] = {}
        self._codes: dict[str, Code] = {}
        self._used_codes: dict[str, str] = {}  # code digest -> grant id, to spot a replay
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._rotated_refresh: dict[str, str] = {}  # refresh digest -> grant id, to spot a replay
        self._revoked_grants: set[str] = set()
        self._nonces: dict[str, tuple[str, int]] = {}  # nonce digest -> (request digest, expiry)
        self._introspections: Counter[str] = Counter()

    # --- clients -------------------------------------------------------------------------

    def add_client(self, client: Client) -> None:
        with self._lock:
            self._clients[client.client_id] = client

    def client(self, client_id: str) -> Client | None:
        with self._lock:
            return self._clients.get(client_id)

    # --- codes ---------------------------------------------------------------------------

    def add_code(self, code: Code) -> str:
        value = new_secret()
        with self._lock:
            self._codes[digest(value)] = code
        return value

    def take_code(self, value: str, now: int) -> CodeUse:
        """The code, once: any attempt uses it up. A second attempt revokes its grant."""
        key = digest(value)
        with self._lock:
            code = self._codes.pop(key, None)
            if code is None:
                grant_id = self._used_codes.get(key)
                if grant_id is not None:
                    self._revoked_grants.add(grant_id)
                return CodeUse(None, replayed=grant_id is not None)
            self._used_codes[key] = code.grant.grant_id
            if code.expires_at <= now:
                return CodeUse(None, replayed=False)
            return CodeUse(code, replayed=False)

    # --- tokens --------------------------------------------------------------------------

    def issue(
        self, grant: Grant, scopes: tuple[str, ...], now: int, ttl_s: int, *, with_refresh: bool
    ) -> tuple[str, str | None]:
        """A new access token (and refresh token) for the grant: the values, to be shown once."""
        access = new_secret()
        refresh = new_secret() if with_refresh else None
        with self._lock:
            self._access[digest(access)] = AccessToken(grant, scopes, issued_at=now, expires_at=now + ttl_s)
            if refresh is not None:
                self._refresh[digest(refresh)] = RefreshToken(grant, scopes)
        return access, refresh

    def access_token(self, value: str) -> AccessToken | None:
        with self._lock:
            token = self._access.get(digest(value))
            if token is None or token.grant.grant_id in self._revoked_grants:
                return None
            return token

    def refresh_token(self, value: str, client_id: str) -> RefreshToken | None:
        """The client's live refresh token, without using it (another client's is not found)."""
        with self._lock:
            token = self._refresh.get(digest(value))
            if token is None or token.grant.client_id != client_id:
                return None
            return None if token.grant.grant_id in self._revoked_grants else token

    def rotate_refresh(self, value: str, client_id: str) -> RefreshToken | None:
        """Take the client's refresh token for a rotation: valid once; a replay revokes its grant."""
        key = digest(value)
        with self._lock:
            token = self._refresh.get(key)
            if token is not None and token.grant.client_id != client_id:
                return None
            self._refresh.pop(key, None)
            if token is None:
                grant_id = self._rotated_refresh.get(key)
                if grant_id is not None:
                    self._revoked_grants.add(grant_id)
                return None
            self._rotated_refresh[key] = token.grant.grant_id
            if token.grant.grant_id in self._revoked_grants:
                return None
            return token

    def revoke(self, value: str, client_id: str) -> None:
        """RFC 7009 for the client's own tokens: an access token alone, a refresh token its grant."""
        key = digest(value)
        with self._lock:
            access = self._access.get(key)
            if access is not None and access.grant.client_id == client_id:
                del self._access[key]
            refresh = self._refresh.get(key)
            if refresh is not None and refresh.grant.client_id == client_id:
                del self._refresh[key]
                self._revoked_grants.add(refresh.grant.grant_id)

    # --- sign-in form nonces -------------------------------------------------------------

    def add_nonce(self, request_digest: str, expires_at: int) -> str:
        value = new_secret()
        with self._lock:
            self._nonces[digest(value)] = (request_digest, expires_at)
        return value

    def take_nonce(self, value: str, request_digest: str, now: int) -> bool:
        """Whether the nonce was issued for exactly this request and is fresh; usable once."""
        with self._lock:
            entry = self._nonces.pop(digest(value), None)
        return entry is not None and secrets.compare_digest(entry[0], request_digest) and entry[1] > now

    # --- introspection counts (sandbox-only) ---------------------------------------------

    def count_introspection(self, value: str) -> None:
        with self._lock:
            self._introspections[digest(value)[:12]] += 1

    def introspection_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._introspections)
