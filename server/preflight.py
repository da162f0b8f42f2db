"""Does the Auth URL answer like PropelAuth, and does it accept the key? One check, two users.

`/readyz` asks it on demand (through the server's own client); a stdio server asks it once at start-up,
in the background, and says the answer in one line on stderr, so that a wrong Auth URL or key shows
before the first tool call fails, without delaying the first answer or holding the process at exit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import httpx2

from server.console import say
from server.http_client import http_client
from server.propelauth_client import PropelAuthClient
from server.settings import Settings
from server.wire_answers import IDENTITY_PATH, host_of, propelauth_identity
from tools.backend import ApiRequest, Backend, BackendError, BackendNotPropelAuth

CHECK_DEADLINE_S = 5.0

Kind = Literal["ok", "key_refused", "not_propelauth", "unreachable", "failed"]


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    detail: str  # one clause, never the key

    @property
    def ready(self) -> bool:
        return self.kind == "ok"


async def check(backend: Backend, *, deadline_s: float = CHECK_DEADLINE_S) -> Verdict:
    """Ask PropelAuth's token-verification endpoint, which needs the key and only PropelAuth serves."""
    try:
        with anyio.fail_after(deadline_s):
            response = await backend.send(ApiRequest("GET", IDENTITY_PATH))
    except BackendNotPropelAuth as exc:
        return Verdict("not_propelauth", str(exc))
    except BackendError as exc:
        return Verdict("unreachable", str(exc))  # names the host and the cause
    except TimeoutError:
        return Verdict("unreachable", f"PropelAuth did not answer within {deadline_s:g} s")
    identity = propelauth_identity(response.status, response.body, f"HTTP {response.status}")
    if identity.is_propelauth:
        note = getattr(backend, "note_identified", None)
        if note is not None:
            note()  # its 404s now mean "not found" with no confirmation of their own
        return Verdict("ok", "PropelAuth answered with the configured API key")
    if identity.key_refused:
        return Verdict(
            "key_refused",
            f"PropelAuth refused the configured API key (HTTP {response.status}); check PROPELAUTH_API_KEY",
        )
    if response.status == 404 or 200 <= response.status < 300:
        # The official SDKs read a 404 here as a wrong Auth URL; a 2xx without a verifier key is no better.
        return Verdict(
            "not_propelauth",
            f"this does not look like PropelAuth: {identity.seen} on {IDENTITY_PATH}; "
            "check PROPELAUTH_AUTH_URL (--auth-url)",
        )
    return Verdict("failed", f"PropelAuth answered HTTP {response.status}")


async def startup_check(
    settings: Settings,
    transport: httpx2.AsyncBaseTransport | None,
    *,
    report: Callable[[str], None] = say,
) -> Verdict:
    """Run `check` on a client of its own (one attempt) and report the verdict in one line."""
    try:
        # Building the client loads the CA bundle (~0.1 s): off the event loop, which serves the client.
        http = await anyio.to_thread.run_sync(http_client, settings, transport)
        async with http:
            verdict = await check(
                PropelAuthClient(http, max_retries=0, timeout_s=settings.timeout_s),
                deadline_s=settings.timeout_s,
            )
    except Exception as exc:  # a start-up check never takes the server down
        verdict = Verdict("failed", f"the check itself failed ({type(exc).__name__})")
    target = settings.api_base_url or settings.auth_url or ""
    host = host_of(httpx2.URL(target)) if target else "?"
    report(f"start-up check of {host}: {'OK, ' if verdict.ready else 'WARNING: '}{verdict.detail}")
    return verdict


async def serve_with_startup_check(
    serve: Callable[[Any], Awaitable[None]],
    server: Any,
    settings: Settings,
    transport: httpx2.AsyncBaseTransport | None,
) -> None:
    """`await serve(server)` with the start-up check beside it; a check still running at exit is dropped."""
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(startup_check, settings, transport)
        await serve(server)
        tasks.cancel_scope.cancel()
