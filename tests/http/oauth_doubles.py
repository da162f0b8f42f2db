"""A stand-in for PropelAuth's introspection endpoint (RFC 7662), served through httpx2.MockTransport.

`IntrospectionDouble` answers `POST /oauth/2.1/introspect` for the tokens it was told about (HTTP
Basic checked, form `token=`), counts the introspections per token, and can be switched to a fault
(a status, a non-JSON body, a connection error, a timeout) or held until released, so that tests can
line up concurrent requests behind one introspection.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import anyio
import httpx2

from server.introspection import TokenIntrospector

AUTH_URL = "https://auth.example.com"
ISSUER = f"{AUTH_URL}/oauth/2.1"
RESOURCE_URL = "http://127.0.0.1:8000/mcp"
CLIENT_ID = "introspect-client-id"
CLIENT_SECRET = "introspect-secret-0123456789abcdef"
SCOPE_POLICIES = "read:users=read-only;admin:users=all"
SCOPES = ["read:users", "admin:users"]


def active(
    sub: str = "user-1",
    *,
    scope: str = "read:users",
    exp_in: float = 3600,
    aud: Any = RESOURCE_URL,
    iss: str | None = ISSUER,
    now: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An RFC 7662 answer for an active token, as the sandbox's contract gives it."""
    issued = time.time() if now is None else now
    answer: dict[str, Any] = {
        "active": True,
        "sub": sub,
        "client_id": "client-abc",
        "scope": scope,
        "exp": int(issued + exp_in),
        "iat": int(issued),
        "aud": aud,
        "token_type": "Bearer",
        "email": f"{sub}@example.com",
        **extra,
    }
    if iss is not None:
        answer["iss"] = iss
    return answer


class Fault:
    """How the endpoint misbehaves, when it does."""

    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    NOT_JSON = "not-json"
    NOT_RFC7662 = "not-rfc7662"


@dataclass
class IntrospectionDouble:
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    fault: str | int | None = None  # a Fault, or an HTTP status to answer with
    hold: anyio.Event | None = None  # when set, each introspection waits for it
    calls: list[str] = field(default_factory=list)  # the sha256 (first 12) of each introspected token
    authorizations: list[str | None] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    def count(self, token: str) -> int:
        return self.calls.count(digest(token))

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        assert request.method == "POST" and request.url.path == "/oauth/2.1/introspect"
        self.urls.append(str(request.url))
        self.authorizations.append(request.headers.get("authorization"))
        token = parse_qs(request.content.decode())["token"][0]
        self.calls.append(digest(token))
        if self.hold is not None:
            await self.hold.wait()
        if self.fault == Fault.TIMEOUT:
            raise httpx2.ReadTimeout("timed out", request=request)
        if self.fault == Fault.UNREACHABLE:
            raise httpx2.ConnectError("connection refused", request=request)
        if self.fault == Fault.NOT_JSON:
            return httpx2.Response(200, text="<html>gateway</html>")
        if self.fault == Fault.NOT_RFC7662:
            return httpx2.Response(200, json={"ok": True})
        if isinstance(self.fault, int):
            return httpx2.Response(self.fault, json={"error": "server_error"})
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx2.Response(401, json={"error": "invalid_client"})
        return httpx2.Response(200, content=json.dumps(self.answers.get(token, {"active": False})))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]


class Clock:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def introspector(*, cache_s: float = 60, clock: Clock | None = None, **options: Any) -> TokenIntrospector:
    values: dict[str, Any] = {
        "auth_url": AUTH_URL,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "resource_url": RESOURCE_URL,
        "cache_s": cache_s,
        "clock": clock or time.time,
    }
    return TokenIntrospector(**{**values, **options})


_AUTH_PARAM = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*(?:,|$)')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """A WWW-Authenticate challenge (RFC 9110 §11.2) as (scheme, {param: value}); fails on junk."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _AUTH_PARAM.match(rest, position)
        assert match is not None and match.end() > position, f"not an auth-param list: {rest[position:]!r}"
        name, value = match.group(1), match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        assert name not in params, f"{name} twice"
        params[name] = value
        position = match.end()
    return scheme, params
