"""A bench caller signing in at the sandbox's OAuth 2.1 authorization server, the way an MCP client does:
dynamic registration, authorize with PKCE S256 through the sign-in page, code exchange for the resource."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx2

OAUTH = "/oauth/2.1"
REDIRECT_URI = "http://127.0.0.1:9/bench-callback"  # never visited: the code is read off the redirect


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    email: str
    access_token: str


class _HiddenFields(HTMLParser):
    """The sign-in form's hidden inputs (the carried authorize parameters and the one-time nonce)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("type") == "hidden" and named.get("name"):
            self.fields[str(named["name"])] = named.get("value") or ""


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def create_user(backend: httpx2.AsyncClient, email: str) -> str:
    """A new sandbox user through the Backend API (`backend` carries the API key); its id."""
    answer = await backend.post("/api/backend/v1/user/", json={"email": email, "email_confirmed": True})
    answer.raise_for_status()
    return str(answer.json()["user_id"])


async def sign_in(
    sandbox: httpx2.AsyncClient, resource: str, user_id: str, email: str, scope: str
) -> SignedIn:
    """Register a public client, sign `user_id` in on the page, exchange the code for `resource`."""
    registered = await sandbox.post(
        f"{OAUTH}/register",
        json={
            "client_name": f"bench {email}",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
        },
    )
    registered.raise_for_status()
    client_id = registered.json()["client_id"]
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(16)
    page = await sandbox.get(
        f"{OAUTH}/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "resource": resource,
            "scope": scope,
        },
    )
    page.raise_for_status()
    form = _HiddenFields()
    form.feed(page.text)
    chosen = await sandbox.post(f"{OAUTH}/authorize", data={**form.fields, "user_id": user_id})
    if chosen.status_code != 302:
        raise RuntimeError(f"sign-in page answered {chosen.status_code}, not a redirect")
    query = parse_qs(urlsplit(chosen.headers["location"]).query)
    if query.get("state") != [state] or "code" not in query:
        raise RuntimeError(f"sign-in refused: {query.get('error')}")
    exchanged = await sandbox.post(
        f"{OAUTH}/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": client_id,
            "resource": resource,
        },
    )
    exchanged.raise_for_status()
    return SignedIn(user_id, email, exchanged.json()["access_token"])


def token_key(token: str) -> str:
    """How the sandbox's introspection counter names a token: the first 12 hex of its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]
