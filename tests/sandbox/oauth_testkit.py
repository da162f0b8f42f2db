"""Helpers of the sandbox's OAuth tests: an app with the authorization server set up, and its flows."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from starlette.applications import Starlette

from sandbox import create_app
from sandbox.state import Sandbox
from tests.sandbox.sandbox_testkit import API_KEY, AUTH_URL, client_for, create_user

ISSUER = f"{AUTH_URL}/oauth/2.1"
REDIRECT_URI = "http://127.0.0.1:33418/callback"
RESOURCE = "https://mcp.example.test/mcp"
INTROSPECTION = ("introspector", "introspection-secret")
ALICE = "alice@example.com"


@contextmanager
def oauth_app(**options: Any) -> Iterator[Starlette]:
    settings: dict[str, Any] = {"oauth_introspection_credentials": INTROSPECTION, **options}
    app = create_app(api_key=API_KEY, auth_url=AUTH_URL, **settings)
    with closing(app.state.sandbox):
        yield app


@dataclass
class OAuthSandbox:
    app: Starlette
    api: httpx2.AsyncClient  # the Backend API, with the API key
    http: httpx2.AsyncClient  # what an MCP client or a browser sends: no API key

    @property
    def sandbox(self) -> Sandbox:
        state: Sandbox = self.app.state.sandbox
        return state


@asynccontextmanager
async def oauth_sandbox(*, with_alice: bool = True, **options: Any) -> AsyncIterator[OAuthSandbox]:
    """A sandbox whose authorize endpoint signs Alice in at once (unless options say otherwise)."""
    settings: dict[str, Any] = {"oauth_auto_approve": ALICE, **options}
    with oauth_app(**settings) as app:
        async with client_for(app) as api, client_for(app, api_key=None) as http:
            if with_alice:
                await add_alice(api)
            yield OAuthSandbox(app, api, http)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def register(http: httpx2.AsyncClient, **metadata: Any) -> dict[str, Any]:
    body = {
        "redirect_uris": [REDIRECT_URI],
        "client_name": "Test client",
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        **metadata,
    }
    response = await http.post("/oauth/2.1/register", json=body)
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


def authorize_params(client_id: str, challenge: str, **overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "state": "state-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": RESOURCE,
        **overrides,
    }
    return {name: value for name, value in params.items() if value is not None}


def redirect_query(response: httpx2.Response) -> dict[str, str]:
    """The query of a 302 to the registered redirect URI, one value per name."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


async def authorization_code(
    http: httpx2.AsyncClient, client_id: str, **overrides: str | None
) -> tuple[str, str]:
    """A code and its verifier, through the auto-approving authorize endpoint."""
    verifier, challenge = pkce()
    response = await http.get(
        "/oauth/2.1/authorize", params=authorize_params(client_id, challenge, **overrides)
    )
    return redirect_query(response)["code"], verifier


async def exchange(
    http: httpx2.AsyncClient, client_id: str, code: str, verifier: str, **extra: str
) -> httpx2.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": client_id,
        "code_verifier": verifier,
        "resource": RESOURCE,
        **extra,
    }
    return await http.post("/oauth/2.1/token", data=form)


async def signed_in(http: httpx2.AsyncClient, **overrides: str | None) -> tuple[str, dict[str, Any]]:
    """A public client registered and its token answer for the auto-approved user."""
    client_id = (await register(http))["client_id"]
    code, verifier = await authorization_code(http, client_id, **overrides)
    response = await exchange(http, client_id, code, verifier)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return client_id, tokens


async def introspect(
    http: httpx2.AsyncClient, token: str, credentials: tuple[str, str] = INTROSPECTION
) -> httpx2.Response:
    return await http.post("/oauth/2.1/introspect", data={"token": token}, auth=credentials)


async def add_alice(http: httpx2.AsyncClient, **fields: Any) -> str:
    return await create_user(http, email=ALICE, **fields)


class SignInForm(HTMLParser):
    """The sandbox's sign-in page as a browser sees its form: where it posts, its fields (the hidden
    ones and the scopes to grant, prefilled) and the user ids it offers to sign in."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.user_ids: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = values.get("action", "")
        elif tag == "input" and values.get("type") in ("hidden", "text"):
            self.fields[values["name"]] = values.get("value", "")
        elif tag == "button" and values.get("name") == "user_id":
            self.user_ids.append(values.get("value", ""))
