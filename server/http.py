"""The Streamable HTTP transport: `/mcp` behind Host/Origin checks and named bearer tokens, plus probes.

Routes:
  /mcp      the SDK's Streamable HTTP app, stateless (any replica can answer any request), both protocol
            eras; reached only through the Host/Origin guard and then the bearer-token gate.
  /healthz  liveness: 200 while the process serves HTTP; no auth, never touches PropelAuth.
  /readyz   readiness: 200 when PropelAuth (or the sandbox) answers with the configured key, else 503.

The server lifespan (the one httpx2 client to PropelAuth) is entered once per process, by the SDK's
session manager inside the Starlette lifespan; the readiness probe borrows that same client.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import structlog
from mcp.server import Server
from mcp.server.request_state import RequestStateBoundary, RequestStateSecurity
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from server import preflight
from server.app import CALLER_SCOPE_KEY, caller_of
from server.console import say
from server.http_auth import AnonymousCaller, BearerTokenGate, TokenTable, load_tokens
from server.settings import Settings, is_loopback
from tools.backend import Backend

if TYPE_CHECKING:
    import socket

    import uvicorn

MCP_PATH = "/mcp"
READINESS_CACHE_S = 5.0  # an unauthenticated prober cannot make us hammer PropelAuth
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "127.0.0.1:*", "localhost:*", "[::1]:*"]
LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
_WILDCARD_BINDS = ("0.0.0.0", "::", "")

_log = structlog.get_logger("propelauth_mcp.http")


def http_tokens(settings: Settings) -> TokenTable | None:
    """The callers' tokens, or None when serving with --no-auth (validated by Settings)."""
    if settings.no_auth:
        return None
    inline = settings.http_tokens.get_secret_value() if settings.http_tokens else None
    return load_tokens(inline, settings.http_tokens_file)


def http_secrets(settings: Settings) -> list[str]:
    """Every HTTP-side secret, for the log/audit scrubber; raises ValueError for a bad token list."""
    tokens = http_tokens(settings)
    return [*(tokens.secrets() if tokens else ()), *request_state_keys(settings)]


def request_state_keys(settings: Settings) -> list[str]:
    if settings.request_state_keys is None:
        return []
    return [k.strip() for k in settings.request_state_keys.get_secret_value().split(",") if k.strip()]


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """DNS-rebinding protection, always on; defaults accept loopback names and an explicit bind address."""
    hosts = settings.allowed_hosts
    if not hosts:
        hosts = list(LOOPBACK_HOSTS)
        bind = settings.host
        if bind not in _WILDCARD_BINDS and not is_loopback(bind):
            bound = f"[{bind}]" if ":" in bind else bind
            hosts += [bound, f"{bound}:*"]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(hosts),
        allowed_origins=list(settings.allowed_origins or LOOPBACK_ORIGINS),
    )


class HostOriginGuard:
    """Refuse a bad Host (421) or Origin (403) before authentication, exactly as the SDK would after it."""

    def __init__(self, app: ASGIApp, security: TransportSecuritySettings) -> None:
        self.app = app
        self._check = TransportSecurityMiddleware(security)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = await self._check.validate_request(Request(scope), is_post=False)
            if refusal is not None:
                _log.warning(
                    "http_refused",
                    status=refusal.status_code,
                    reason=bytes(refusal.body).decode(),
                    client=_client_addr(scope),
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


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


def create_http_app(server: Server[Any], settings: Settings, *, tokens: TokenTable | None) -> Starlette:
    """The ASGI app: `/mcp` (guarded), `/healthz`, `/readyz`. `tokens=None` means --no-auth."""
    keys = request_state_keys(settings)
    # Without shared keys, state sealed here opens only in this process (a per-process random key).
    security = RequestStateSecurity(keys=keys or [os.urandom(32)], bind_principal=caller_of)
    server.middleware.append(RequestStateBoundary(security, default_audience=server.name))

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

    guard_settings = transport_security(settings)
    manager = StreamableHTTPSessionManager(
        app=server, stateless=True, json_response=True, security_settings=guard_settings
    )
    # Admission comes after authentication: an unauthenticated flood cannot take the slots.
    mcp_app: ASGIApp = AdmissionLimit(StreamableHTTPASGIApp(manager), settings.http_max_concurrent)
    if tokens is None:
        mcp_app = AnonymousCaller(mcp_app, scope_key=CALLER_SCOPE_KEY)
    else:
        mcp_app = LogUnauthorized(BearerTokenGate(mcp_app, tokens, scope_key=CALLER_SCOPE_KEY))
    mcp_app = HostOriginGuard(mcp_app, guard_settings)

    readiness = Readiness(lambda: getattr(state.get("value"), "backend", None))

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
        async with manager.run():
            yield

    app = Starlette(
        routes=[
            Route(MCP_PATH, endpoint=mcp_app),
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/readyz", readyz, methods=["GET", "HEAD"]),
        ],
        lifespan=lifespan,
    )
    app.state.readiness = readiness
    return app


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
    auth = f"bearer tokens for {', '.join(tokens.names)}" if tokens else "OFF (--no-auth, loopback only)"

    def announce(port: int) -> None:
        say(
            f"serving MCP over HTTP at {endpoint_url(settings.host, port)} (auth: {auth}); "
            "liveness /healthz, readiness /readyz"
        )

    runner = uvicorn_server(app, settings, announce)
    runner.run()
    if not runner.started:
        raise SystemExit(1)
