"""The Streamable HTTP transport: `/mcp` behind Host/Origin checks and named bearer tokens, plus probes.

Routes:
  /mcp      the SDK's Streamable HTTP app, stateless (any replica can answer any request), both protocol
            eras; reached only through the Host/Origin guard and then the bearer-token gate.
  /healthz  liveness: 200 while the process serves HTTP; no auth, no Host check (container probes use
            the pod IP), never touches PropelAuth.
  /readyz   readiness, behind the Host/Origin guard: 200 when PropelAuth (or the sandbox) answers with
            the configured key, else 503.
  /.well-known/oauth-protected-resource[/mcp]   with --auth propelauth only: the RFC 9728 metadata
            (server.oauth_resource), behind the Host/Origin guard, no auth.

Who may call /mcp: the named static tokens (--auth tokens, server.http_auth), or callers signed in with
PropelAuth (--auth propelauth: OAuth 2.1, tokens checked by introspection, server.oauth_resource and
server.introspection), or, on loopback only, anyone (--no-auth).

On /mcp, in order: Host/Origin guard (421/403), authentication (401; with OAuth also 403 for a token
with no granted scope, 503 when introspection cannot answer), POST only (405: JSON responses, no SSE
stream to GET), the caller's share (with several token names, or with OAuth, one caller may have at
most half of --http-max-concurrent, at least 1, past this point), the whole body read within
BODY_READ_TIMEOUT_S (408) and MAX_BODY_BYTES (413), then admission: at most --http-max-concurrent
requests inside the SDK. A GET, a refused request or a body still arriving never holds a slot.

The server lifespan (the one httpx2 client to PropelAuth) is entered once per process, by the SDK's
session manager inside the Starlette lifespan; the readiness probe borrows that same client. With
OAuth the introspection client is a separate one, entered in the Starlette lifespan: the Backend API
client only ever sends the API key.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import httpx2
import structlog
from mcp.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE, TransportSecuritySettings
from mcp.shared.auth import ProtectedResourceMetadata
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import preflight
from server.addresses import HostPort, OriginPattern, is_loopback, parse_host_port, parse_origin
from server.app import tool_service_of
from server.callers import CALLER_SCOPE_KEY, Caller
from server.console import say
from server.http_auth import AnonymousCaller, BearerTokenGate, TokenTable, load_tokens
from server.http_scopes import ScopeChallenge
from server.introspection import TokenIntrospector
from server.oauth_resource import (
    OAuthGate,
    metadata_routes,
    resource_metadata,
    resource_metadata_url,
    scope_keys,
)
from server.operators import OperatorsCheck
from server.sealing import request_state_keys
from server.settings import Settings
from tools.backend import Backend

if TYPE_CHECKING:
    import socket

    import uvicorn

MCP_PATH = "/mcp"
READINESS_CACHE_S = 5.0  # an unauthenticated prober cannot make us hammer PropelAuth
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "127.0.0.1:*", "localhost:*", "[::1]:*"]
# A client must send its whole request body within this; a client dripping it is cut off with 408.
BODY_READ_TIMEOUT_S = 30.0
MAX_BODY_BYTES = DEFAULT_MAX_REQUEST_BODY_SIZE  # the SDK's own limit, enforced here before admission
LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
_WILDCARD_BINDS = ("0.0.0.0", "::", "")

_log = structlog.get_logger("propelauth_mcp.http")


def http_tokens(settings: Settings) -> TokenTable | None:
    """The callers' tokens, or None with --no-auth or --auth propelauth (validated by Settings)."""
    if settings.no_auth or settings.auth == "propelauth":
        return None
    inline = settings.http_tokens.get_secret_value() if settings.http_tokens else None
    return load_tokens(inline, settings.http_tokens_file)


def http_secrets(settings: Settings) -> list[str]:
    """Every HTTP-side secret, for the log/audit scrubber; raises ValueError for a bad token list."""
    tokens = http_tokens(settings)
    client_secret = settings.introspection_client_secret
    return [
        *(tokens.secrets() if tokens else ()),
        *([client_secret.get_secret_value()] if client_secret else ()),
        *request_state_keys(settings),
    ]


@dataclass(frozen=True)
class HostPolicy:
    """DNS-rebinding protection: the Host names (and ports) and browser Origins a request may carry."""

    hosts: tuple[HostPort, ...]
    origins: tuple[OriginPattern, ...]

    def refusal(self, host_headers: list[str], origin_headers: list[str]) -> tuple[int, str] | None:
        if len(host_headers) != 1:
            return 421, "Invalid Host header"
        host = parse_host_port(host_headers[0])
        if host is None or not any(allowed.matches(host) for allowed in self.hosts):
            return 421, "Invalid Host header"
        if len(origin_headers) > 1:
            return 403, "Invalid Origin header"
        if origin_headers and not any(allowed.matches(origin_headers[0]) for allowed in self.origins):
            return 403, "Invalid Origin header"  # no Origin: not a browser, or same-origin
        return None


def host_policy(settings: Settings) -> HostPolicy:
    """The configured allow-lists, parsed; defaults accept loopback names and an explicit bind address."""
    hosts = settings.allowed_hosts
    if not hosts:
        hosts = list(LOOPBACK_HOSTS)
        bind = settings.host
        if bind not in _WILDCARD_BINDS and not is_loopback(bind):
            bound = f"[{bind}]" if ":" in bind else bind
            hosts += [bound, f"{bound}:*"]
    origins = settings.allowed_origins or LOOPBACK_ORIGINS
    return HostPolicy(
        hosts=tuple(_parsed(hosts, parse_host_port, "PROPELAUTH_MCP_ALLOWED_HOSTS")),
        origins=tuple(_parsed(origins, parse_origin, "PROPELAUTH_MCP_ALLOWED_ORIGINS")),
    )


def _parsed(entries: list[str], parse: Callable[..., Any], variable: str) -> list[Any]:
    parsed = []
    for number, entry in enumerate(entries, start=1):
        value = parse(entry, pattern=True)
        if value is None:
            raise ValueError(
                f"{variable} entry {number} is not a host[:port|:*] (or scheme://host[:port|:*])"
            )
        parsed.append(value)
    return parsed


class HostOriginGuard:
    """Refuse a bad Host (421) or Origin (403) before authentication (and before /readyz asks PropelAuth)."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            refusal = self.policy.refusal(
                [v.decode("latin-1") for k, v in headers if k == b"host"],
                [v.decode("latin-1") for k, v in headers if k == b"origin"],
            )
            if refusal is not None:
                status, reason = refusal
                _log.warning("http_refused", status=status, reason=reason, client=_client_addr(scope))
                await Response(reason, status_code=status)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class PostOnly:
    """Answer anything but POST at once with 405: in stateless JSON mode there is no SSE stream to GET.

    The MCP transport spec lets a server that offers no GET stream answer 405; holding the GET open
    instead would keep an admission slot for as long as the client likes.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "POST":
            await JSONResponse(
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32000, "message": "Method Not Allowed: this endpoint takes POST only"},
                },
                status_code=405,
                headers={"allow": "POST"},
            )(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BufferedBody:
    """Read the whole request body, within a deadline and a size limit, before the request goes on.

    A client that drips its body is cut off with 408 after `timeout_s`, one that sends too much with 413;
    neither ever holds an admission slot, which is taken only after this.
    """

    def __init__(self, app: ASGIApp, *, timeout_s: float, max_bytes: int) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = bytearray()
        with anyio.move_on_after(self.timeout_s) as deadline:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # nobody is left to answer
                body += message.get("body", b"")
                if len(body) > self.max_bytes:
                    await _refuse(scope, receive, send, 413, "Request body too large")
                    return
                if not message.get("more_body", False):
                    break
        if deadline.cancelled_caught:
            _log.warning("http_body_timeout", client=_client_addr(scope), timeout_s=self.timeout_s)
            await _refuse(scope, receive, send, 408, "Request body not received in time")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # after the body: the disconnect, when it comes

        await self.app(scope, replay, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, reason: str) -> None:
    # The rest of the body is never read, so the connection cannot carry another request.
    await Response(reason, status_code=status, headers={"connection": "close"})(scope, receive, send)


def caller_share(limit: int, callers: int | None) -> int:
    """Slots one caller may hold: all of them for a single caller, else half (at least 1).

    `callers=None`: an unbounded set (PropelAuth sign-in), so half.
    """
    return limit if callers is not None and callers <= 1 else max(1, limit // 2)


class AdmissionLimit:
    """At most `limit` requests inside the wrapped app at once; the others wait their turn.

    A burst of concurrent calls would otherwise build a full SDK request context for each at once,
    although only a few can be at PropelAuth at a time; the memory taken for that peak stays with
    the process after the burst.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self._slots = anyio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self._slots:
            await self.app(scope, receive, send)


class CallerShare:
    """At most `share` requests of one caller (by name) past this point at once.

    It sits before the body is read and before AdmissionLimit: a caller's queue, and its bodies still
    arriving, use only its own share, never the slots another caller could use; and the bodies
    buffered at once are bounded by the callers present times their share. A caller's entry lives only
    while it has requests here: signed-in callers are an unbounded set.
    """

    def __init__(self, app: ASGIApp, share: int, *, scope_key: str = CALLER_SCOPE_KEY) -> None:
        self.app = app
        self._share = share
        self._scope_key = scope_key
        self._callers: dict[str | None, tuple[anyio.Semaphore, int]] = {}  # name -> (slots, requests)

    def callers_present(self) -> int:
        return len(self._callers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = scope.get(self._scope_key)
        name = caller.name if isinstance(caller, Caller) else None
        own, requests = self._callers.get(name) or (anyio.Semaphore(self._share), 0)
        self._callers[name] = (own, requests + 1)
        try:
            async with own:
                await self.app(scope, receive, send)
        finally:
            own, requests = self._callers[name]
            if requests == 1:
                del self._callers[name]  # idle: nothing waits on or holds its slots
            else:
                self._callers[name] = (own, requests - 1)


class LogUnauthorized:
    """Log each 401 the token gate gives (who knocked, never what they presented)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                _log.warning("http_unauthorized", client=_client_addr(scope), path=scope.get("path"))
            await send(message)

        await self.app(scope, receive, watch if scope["type"] == "http" else send)


def _client_addr(scope: Scope) -> str | None:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else None


@dataclass
class Readiness:
    """Asks PropelAuth, through the server's own client, whether the configured key works; cached briefly."""

    backend: Callable[[], Backend | None]
    cache_s: float = READINESS_CACHE_S
    _last: tuple[float, bool, str] | None = field(default=None, init=False)
    _lock: anyio.Lock = field(default_factory=anyio.Lock, init=False)

    async def check(self) -> tuple[bool, str]:
        async with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last[0] < self.cache_s:
                return self._last[1], self._last[2]
            ready, detail = await self._probe()
            self._last = (time.monotonic(), ready, detail)
            return ready, detail

    async def _probe(self) -> tuple[bool, str]:
        backend = self.backend()
        if backend is None:
            return False, "starting"
        verdict = await preflight.check(backend)
        return verdict.ready, verdict.detail


def create_http_app(
    server: Server[Any],
    settings: Settings,
    *,
    tokens: TokenTable | None,
    body_read_timeout_s: float = BODY_READ_TIMEOUT_S,
    introspection_transport: httpx2.AsyncBaseTransport | None = None,
) -> Starlette:
    """The ASGI app: `/mcp` (guarded), `/healthz`, `/readyz`, and with --auth propelauth the protected
    resource metadata. `tokens=None` means --no-auth, unless the settings say --auth propelauth;
    `introspection_transport` carries the introspection requests (tests give one)."""
    # The RequestStateBoundary is create_server's, for every transport (shared keys: every replica).
    # Capture the lifespan state (entered once by the session manager) so /readyz can use its client.
    inner_lifespan = server.lifespan
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def capturing_lifespan(srv: Server[Any]) -> AsyncIterator[Any]:
        async with inner_lifespan(srv) as value:
            state["value"] = value
            try:
                yield value
            finally:
                state.pop("value", None)

    server.lifespan = capturing_lifespan

    policy = host_policy(settings)
    # Host/Origin are checked by HostOriginGuard in front (parsed, not prefix-matched); the SDK's own
    # check would refuse names ours accepts (`LOCALHOST`), so it only checks the Content-Type.
    manager = StreamableHTTPSessionManager(
        app=server,
        stateless=True,
        json_response=True,
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    # Admission comes after authentication and the whole body: an unauthenticated flood, a GET or a
    # dripping body cannot take the slots.
    limit = settings.http_max_concurrent
    oauth = settings.auth == "propelauth"
    share = caller_share(limit, None if oauth else len(tokens) if tokens is not None else 1)
    mcp_app: ASGIApp = AdmissionLimit(StreamableHTTPASGIApp(manager), limit)
    mcp_app = _with_scope_challenge(mcp_app, server, settings)  # privileges per caller (OAuth step-up)
    mcp_app = BufferedBody(mcp_app, timeout_s=body_read_timeout_s, max_bytes=MAX_BODY_BYTES)
    mcp_app = PostOnly(CallerShare(mcp_app, share))
    extra_routes: list[Route] = []
    introspector: TokenIntrospector | None = None
    backend = lambda: getattr(state.get("value"), "backend", None)  # noqa: E731 (the lifespan's client)
    if oauth:
        introspector = oauth_introspector(settings)
        operators = operators_check(settings, backend)
        mcp_app = LogUnauthorized(oauth_gate(mcp_app, introspector, settings, operators, server))
        extra_routes = metadata_routes(
            oauth_metadata(settings), wrap=lambda endpoint: HostOriginGuard(endpoint, policy)
        )
    elif tokens is None:
        mcp_app = AnonymousCaller(mcp_app, scope_key=CALLER_SCOPE_KEY)
    else:
        mcp_app = LogUnauthorized(BearerTokenGate(mcp_app, tokens, scope_key=CALLER_SCOPE_KEY))
    mcp_app = HostOriginGuard(mcp_app, policy)

    readiness = Readiness(backend)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})

    async def readyz(_: Request) -> JSONResponse:
        ready, detail = await readiness.check()
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "detail": detail},
            status_code=200 if ready else 503,
            headers={"cache-control": "no-store"},
        )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if introspector is not None:  # its own client: PropelAuth's Backend API never sees a token
                await stack.enter_async_context(introspector.running(introspection_transport))
            await stack.enter_async_context(manager.run())
            yield

    app = Starlette(
        routes=[
            Route(MCP_PATH, endpoint=mcp_app),
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/readyz", HostOriginGuard(request_response(readyz), policy), methods=["GET", "HEAD"]),
            *extra_routes,
        ],
        lifespan=lifespan,
    )
    app.state.readiness = readiness
    app.state.introspector = introspector
    return app


def _with_scope_challenge(app: ASGIApp, server: Server[Any], settings: Settings) -> ASGIApp:
    """OAuth callers' calls that another configured scope would allow: 403 insufficient_scope."""
    service = tool_service_of(server)
    if service is None or not settings.scope_policies:
        return app
    metadata = resource_metadata_url(settings.resource_url or endpoint_url(settings.host, settings.port))
    return ScopeChallenge(app, service.caller_tools, service.audit, resource_metadata=metadata)


def oauth_introspector(settings: Settings) -> TokenIntrospector:
    """The token verifier --auth propelauth uses (the settings are validated: every value is there)."""
    assert settings.auth_url and settings.resource_url and settings.introspection_client_id
    assert settings.introspection_client_secret is not None
    return TokenIntrospector(
        auth_url=settings.auth_url,
        client_id=settings.introspection_client_id,
        client_secret=settings.introspection_client_secret.get_secret_value(),
        resource_url=settings.resource_url,
        cache_s=settings.introspection_cache_s,
    )


def oauth_metadata(settings: Settings) -> ProtectedResourceMetadata:
    assert settings.auth_url and settings.resource_url
    return resource_metadata(
        resource_url=settings.resource_url,
        auth_url=settings.auth_url,
        scopes=scope_keys(settings.scope_policies),
    )


def operators_check(settings: Settings, backend: Callable[[], Backend | None]) -> OperatorsCheck | None:
    """Who may sign in: members of the operators' org, asked with the server's own Backend API client;
    None with --any-project-user (validated by Settings)."""
    if not settings.operators_org:
        return None
    return OperatorsCheck(
        backend,
        org_id=settings.operators_org,
        role=settings.operators_role,
        cache_s=settings.introspection_cache_s,
    )


def oauth_gate(
    app: ASGIApp,
    introspector: TokenIntrospector,
    settings: Settings,
    operators: OperatorsCheck | None = None,
    server: Server[Any] | None = None,
) -> OAuthGate:
    assert settings.resource_url
    service = tool_service_of(server) if server is not None else None
    return OAuthGate(
        app,
        introspector,
        scopes=scope_keys(settings.scope_policies),
        metadata_url=resource_metadata_url(settings.resource_url),
        scope_key=CALLER_SCOPE_KEY,
        operators=operators,
        audit=service.audit if service is not None else None,
    )


def auth_summary(settings: Settings, tokens: TokenTable | None) -> str:
    """How callers authenticate, for the start-up line (names and URLs only, never a secret)."""
    if settings.auth == "propelauth":
        scopes = ", ".join(scope_keys(settings.scope_policies))
        who = who_signs_in(settings)
        return f"PropelAuth sign-in (OAuth 2.1) for {settings.resource_url}, scopes {scopes}, {who}"
    if tokens:
        return f"bearer tokens for {', '.join(tokens.names)}"
    return "OFF (--no-auth, loopback only)"


def who_signs_in(settings: Settings) -> str:
    if not settings.operators_org:
        return "ANY user of the PropelAuth project (--any-project-user)"
    role = f" with role {settings.operators_role} or above" if settings.operators_role else ""
    return f"operators: members of org {settings.operators_org}{role}"


def endpoint_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}{MCP_PATH}"


def uvicorn_server(
    app: ASGIApp, settings: Settings, announce: Callable[[int], None] | None = None
) -> uvicorn.Server:
    """A uvicorn server logging to stderr only (never stdout), announcing the bound port once listening."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        server_header=False,
        # X-Forwarded-For/-Proto rewrite the peer address only when it is a configured proxy's.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies or []),
    )

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and announce is not None:
                announce(self.servers[0].sockets[0].getsockname()[1])

    return AnnouncingServer(config)


def serve_http(server: Server[Any], settings: Settings) -> None:
    tokens = http_tokens(settings)
    app = create_http_app(server, settings, tokens=tokens)
    auth = auth_summary(settings, tokens)

    def announce(port: int) -> None:
        say(
            f"serving MCP over HTTP at {endpoint_url(settings.host, port)} (auth: {auth}); "
            "liveness /healthz, readiness /readyz"
        )

    runner = uvicorn_server(app, settings, announce)
    runner.run()
    if not runner.started:
        raise SystemExit(1)
