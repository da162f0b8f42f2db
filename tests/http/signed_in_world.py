"""Sign in with PropelAuth, end to end over real loopback ports: the sandbox as PropelAuth (its Backend
API and its OAuth 2.1 authorization server) on one port, this server with --auth propelauth on another,
and a "browser" that signs a chosen sandbox user in on the sandbox's sign-in page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl
from starlette.types import Receive, Scope, Send

from sandbox import create_app
from server.app import create_server
from server.audit import AuditTrail
from server.http import create_http_app
from tests.conftest import API_KEY, CLIENT_INFO, make_settings
from tests.loopback import listening_socket, serve_on_loopback, url_of
from tests.sandbox.oauth_testkit import REDIRECT_URI, SignInForm

INTROSPECTION = ("e2e-introspector", "e2e-introspection-secret-0123456789")
SCOPE_POLICIES = "read:users=read-only;admin:users=all"
BACKEND_PREFIX = "/api/backend/"


class BackendRecorder:
    """In front of the sandbox: the path and Authorization header of every Backend API request (and,
    alongside, its method and query string)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str | None]] = []
        self.methods_and_queries: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(BACKEND_PREFIX):
            headers = dict(scope["headers"])
            authorization = headers.get(b"authorization")
            self.requests.append((scope["path"], authorization.decode() if authorization else None))
            self.methods_and_queries.append((scope["method"], scope["query_string"].decode()))
        await self.app(scope, receive, send)


@dataclass
class World:
    sandbox_url: str
    server_url: str  # the MCP endpoint, /mcp
    sandbox_app: Any
    backend: BackendRecorder
    audit_path: Path
    operators_org: str | None  # the org whose members may sign in (None: --any-project-user)
    users: dict[str, str] = field(default_factory=dict)  # email -> user id

    @property
    def resource(self) -> str:
        return self.server_url

    def audit_records(self) -> list[dict[str, Any]]:
        text = self.audit_path.read_text() if self.audit_path.exists() else ""
        return [json.loads(line) for line in text.splitlines()]

    def sandbox_api(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            base_url=self.sandbox_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
        )

    async def add_user(self, email: str, *, operator: bool = True) -> str:
        """A sandbox user; an operator (a member of the operators' org) unless told otherwise."""
        async with self.sandbox_api() as api:
            response = await api.post(f"{BACKEND_PREFIX}v1/user/", json={"email": email})
            assert response.status_code == 200, response.text
            user_id: str = response.json()["user_id"]
            if operator and self.operators_org is not None:
                membership = {"user_id": user_id, "org_id": self.operators_org, "role": "Member"}
                added = await api.post(f"{BACKEND_PREFIX}v1/org/add_user", json=membership)
                assert added.status_code == 200, added.text
        self.users[email] = user_id
        return user_id


async def create_operators_org(sandbox_app: Any) -> str:
    """The operators' org, made through the Backend API before the server starts."""
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=sandbox_app),
        base_url="http://sandbox.test",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as api:
        response = await api.post(f"{BACKEND_PREFIX}v1/org/", json={"name": "Operators"})
    assert response.status_code == 200, response.text
    org_id: str = response.json()["org_id"]
    return org_id


@asynccontextmanager
async def signed_in_world(
    audit_path: Path,
    *,
    oauth_scopes: tuple[str, ...] = ("read:users", "admin:users", "other:scope"),
    **server_overrides: Any,
) -> AsyncIterator[World]:
    """Both ends up; the server's settings may be overridden (e.g. introspection_cache_s, or
    any_project_user=True for no operators' org)."""
    sandbox_sock, server_sock = listening_socket(), listening_socket()
    sandbox_url, server_base = url_of(sandbox_sock), url_of(server_sock)
    sandbox_app = create_app(
        api_key=API_KEY,
        auth_url=sandbox_url,
        oauth_introspection_credentials=INTROSPECTION,
        oauth_scopes=oauth_scopes,
    )
    backend = BackendRecorder(sandbox_app)
    any_user = bool(server_overrides.get("any_project_user"))
    operators_org = None if any_user else await create_operators_org(sandbox_app)
    port = server_sock.getsockname()[1]
    settings = make_settings(
        audit_path,
        **{
            "transport": "http",
            "host": "127.0.0.1",
            "port": port,
            "auth": "propelauth",
            "auth_url": sandbox_url,
            "resource_url": f"{server_base}/mcp",
            "scope_policies": SCOPE_POLICIES,
            "introspection_client_id": INTROSPECTION[0],
            "introspection_client_secret": INTROSPECTION[1],
            "operators_org": operators_org,
            **server_overrides,
        },
    )
    audit = AuditTrail(settings.audit_path)
    server = create_server(settings, audit)  # PropelAuth over real HTTP: the sandbox's port
    app = create_http_app(server, settings, tokens=None)
    with closing(sandbox_app.state.sandbox):
        try:
            async with (
                serve_on_loopback(backend, sock=sandbox_sock),
                serve_on_loopback(app, sock=server_sock),
            ):
                yield World(
                    sandbox_url,
                    f"{server_base}/mcp",
                    sandbox_app,
                    backend,
                    settings.audit_path,
                    operators_org,
                )
        finally:
            audit.close()


async def sign_in_on_the_page(authorize_url: str, user_id: str, grant: str | None = None) -> dict[str, str]:
    """What a person does in the browser: open the authorize URL, consent to `grant` (default: every
    scope asked for), choose `user_id`; the redirect's query."""
    async with httpx2.AsyncClient(timeout=10) as browser:
        page = await browser.get(authorize_url)
        assert page.status_code == 200, page.text
        form = SignInForm(page.text)
        assert user_id in form.user_ids
        target = httpx2.URL(authorize_url).join(form.action)
        chosen = {"granted_scope": grant} if grant is not None else {}
        answer = await browser.post(str(target), data={**form.fields, **chosen, "user_id": user_id})
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


class MemoryTokenStorage:
    """The official client's token storage, in memory (one per signed-in person)."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@asynccontextmanager
async def official_client(
    world: World, user_id: str, grant: str, *, storage: MemoryTokenStorage | None = None
) -> AsyncIterator[tuple[Client, MemoryTokenStorage, list[str]]]:
    """mcp.Client with the SDK's OAuth client: discovery, registration, sign-in as `user_id` consenting
    to the scopes `grant` (of those the server's challenge asks for), calls.

    Yields the client, its token storage and the authorize URLs the person was sent to (in order).
    """
    storage = storage or MemoryTokenStorage()
    sent_to: list[str] = []
    answers: list[dict[str, str]] = []

    async def redirect_handler(url: str) -> None:
        sent_to.append(url)
        answers.append(await sign_in_on_the_page(url, user_id, grant))

    async def callback_handler() -> AuthorizationCodeResult:
        query = answers.pop(0)
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))

    provider = OAuthClientProvider(
        server_url=world.server_url,
        client_metadata=OAuthClientMetadata(
            redirect_uris=[AnyUrl(REDIRECT_URI)],
            client_name="end-to-end test client",
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    async with (
        httpx2.AsyncClient(auth=provider, timeout=30) as http,
        Client(streamable_http_client(world.server_url, http_client=http), client_info=CLIENT_INFO) as client,
    ):
        yield client, storage, sent_to
