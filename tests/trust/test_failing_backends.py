"""A slow, rate-limiting, failing or garbling PropelAuth (the sandbox's fault injection): every outcome says
what happened, reads are retried where safe, and a change that may have reached PropelAuth is never re-sent.

Timeouts need a real socket (an in-process ASGI transport has no clock), so those tests serve the sandbox
with uvicorn on a loopback port; the others talk to it over ASGI. Retry back-off is recorded, not slept.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp.types import CallToolResult
from starlette.responses import HTMLResponse, JSONResponse

from sandbox import Sandbox
from sandbox.demo import demo_user_id
from server.audit import AuditTrail
from server.http_client import http_client
from server.propelauth_client import PropelAuthClient
from server.tool_service import ToolService
from tests.conftest import API_KEY, make_settings
from tests.loopback import serve_on_loopback
from tests.trust.conftest import RecordingSandbox, read_records

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("quiet_logs")]

ADA = demo_user_id("ada@example.com")
GRACE = demo_user_id("grace.hopper@example.com")


@dataclass
class Rig:
    """The server's tool service and PropelAuth client, wired as in production, with back-off recorded."""

    service: ToolService
    backend: PropelAuthClient
    front: RecordingSandbox
    audit_path: Path
    sleeps: list[float] = field(default_factory=list)

    @property
    def sandbox(self) -> Sandbox:
        return self.front.sandbox

    def sent(self, method: str | None = None) -> int:
        return sum(1 for seen in self.front.seen if method is None or seen.method == method)

    async def call(self, name: str, arguments: dict[str, Any]) -> CallToolResult:
        with anyio.fail_after(20):
            return await self.service.call(self.backend, name, arguments, client=None, caller=None)

    def outcome_record(self) -> dict[str, Any]:
        return [r for r in read_records(self.audit_path) if r["kind"] == "outcome"][-1]


@asynccontextmanager
async def rig(
    front: RecordingSandbox,
    audit_path: Path,
    *,
    over_tcp: bool = False,
    in_flight_wait_s: float = 10.0,
    on_sleep: Any = None,
    **overrides: Any,
) -> AsyncIterator[Rig]:
    trail = AuditTrail(audit_path)
    sleeps: list[float] = []

    async def recorded_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if on_sleep is not None:
            on_sleep()

    async with _base_url(front, over_tcp) as base_url:
        settings = make_settings(audit_path, **({"auth_url": base_url} if base_url else {}), **overrides)
        transport = httpx2.AsyncHTTPTransport() if base_url else httpx2.ASGITransport(app=front)
        async with http_client(settings, transport) as http:
            backend = PropelAuthClient(
                http,
                max_retries=settings.max_retries,
                retry_budget_s=settings.retry_budget_s,
                max_in_flight=settings.max_in_flight,
                in_flight_wait_s=in_flight_wait_s,
                sleep=recorded_sleep,
            )
            try:
                yield Rig(ToolService(settings, trail), backend, front, audit_path, sleeps)
            finally:
                trail.close()


@asynccontextmanager
async def _base_url(front: RecordingSandbox, over_tcp: bool) -> AsyncIterator[str | None]:
    if not over_tcp:
        yield None
        return
    async with serve_on_loopback(front, graceful_shutdown_s=1) as base_url:
        yield base_url


@pytest.fixture
def front() -> RecordingSandbox:
    return RecordingSandbox()


def text_of(result: CallToolResult) -> str:
    assert result.content and result.content[0].type == "text"
    return result.content[0].text


# --- timeouts ---------------------------------------------------------------------------------------------


async def test_a_read_past_the_timeout_is_retried_then_says_nothing_was_changed(
    front: RecordingSandbox, audit_path: Path
) -> None:
    front.sandbox.faults.latency_s = 1.0
    async with rig(front, audit_path, over_tcp=True, timeout_s=0.1, max_retries=2) as r:
        result = await r.call("fetch_user_by_id", {"user_id": ADA})
        assert r.sent("GET") == 3  # the first try and two retries, all seen by the sandbox
    text = text_of(result)
    assert result.is_error and "did not answer in time" in text and "3 attempts" in text
    assert "Nothing was changed" in text and "gave up after" in text
    assert len(r.sleeps) == 2
    record = r.outcome_record()
    assert record["details"]["reason"] == "timeout" and record["details"]["attempts"] == 3


async def test_a_confirmed_delete_past_the_timeout_may_or_may_not_have_happened_and_is_sent_once(
    front: RecordingSandbox, audit_path: Path
) -> None:
    front.sandbox.faults.latency_s = 0.5
    async with rig(front, audit_path, over_tcp=True, timeout_s=0.1, max_retries=3) as r:
        result = await r.call("delete_user", {"user_id": GRACE, "confirm": True})
        sent = r.sent("DELETE")
    text = text_of(result)
    assert result.is_error and "may or may not" in text and "fetch_user_by_id" in text
    assert sent == 1 and r.sleeps == []  # never re-sent, no back-off even started
    assert "1 attempt" in text and "Nothing was changed" not in text
    intent, outcome = [rec for rec in read_records(audit_path) if rec["tool"] == "delete_user"]
    assert (intent["kind"], outcome["kind"], intent["call_id"]) == ("intent", "outcome", outcome["call_id"])
    assert outcome["details"]["reason"] == "timeout" and outcome["details"]["may_have_reached"] is True


# --- error statuses ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
async def test_a_failing_write_is_not_retried_and_says_it_may_have_happened(
    front: RecordingSandbox, audit_path: Path, status: int
) -> None:
    front.sandbox.faults.status = status
    async with rig(front, audit_path) as r:
        result = await r.call("enable_user", {"user_id": ADA})
    text = text_of(result)
    assert result.is_error and f"HTTP {status}" in text and "may or may not" in text
    assert r.sent("POST") == 1 and r.sleeps == []
    details = r.outcome_record()["details"]
    assert (details["reason"], details["attempts"]) == ("server_error", 1)


async def test_a_read_retried_through_503s_says_how_often_and_that_nothing_changed(
    front: RecordingSandbox, audit_path: Path
) -> None:
    front.sandbox.faults.status = 503
    async with rig(front, audit_path, max_retries=2) as r:
        result = await r.call("query_users", {"page_size": 2})
    text = text_of(result)
    assert result.is_error and "HTTP 503" in text and "3 attempts" in text and "Nothing was changed" in text
    assert r.sent("GET") == 3 and len(r.sleeps) == 2 and all(0 <= s <= 4 for s in r.sleeps)


async def test_a_500_on_a_read_is_not_retried(front: RecordingSandbox, audit_path: Path) -> None:
    front.sandbox.faults.status = 500
    async with rig(front, audit_path) as r:
        result = await r.call("fetch_user_by_id", {"user_id": ADA})
    assert result.is_error and "Nothing was changed" in text_of(result)
    assert r.sent() == 1 and r.sleeps == []


# --- rate limits ------------------------------------------------------------------------------------------


async def test_a_rate_limited_read_waits_as_told_and_then_succeeds(
    front: RecordingSandbox, audit_path: Path
) -> None:
    faults = front.sandbox.faults
    faults.status, faults.retry_after_s = 429, 2

    def lift_the_limit() -> None:
        faults.status = None

    async with rig(front, audit_path, on_sleep=lift_the_limit) as r:
        result = await r.call("fetch_user_by_id", {"user_id": ADA})
    assert not result.is_error and result.structured_content is not None
    assert r.sleeps == [2.0] and r.sent("GET") == 2
    assert r.outcome_record()["details"]["attempts"] == 2


async def test_a_read_rate_limited_every_time_says_how_often_how_long_and_that_nothing_changed(
    front: RecordingSandbox, audit_path: Path
) -> None:
    faults = front.sandbox.faults
    faults.status, faults.retry_after_s = 429, 3
    async with rig(front, audit_path, max_retries=2, retry_budget_s=30.0) as r:
        result = await r.call("fetch_user_by_email", {"email": "ada@example.com"})
    text = text_of(result)
    assert r.sleeps == [3.0, 3.0] and r.sent("GET") == 3
    assert result.is_error and "rate-limited" in text and "3 attempts" in text
    assert "wait 3 seconds" in text and "Nothing was changed" in text and "gave up after" in text
    details = r.outcome_record()["details"]
    assert (details["reason"], details["attempts"], details["retry_after_s"]) == ("rate_limited", 3, 3.0)


async def test_a_429_whose_wait_exceeds_the_retry_budget_is_reported_at_once_with_the_wait(
    front: RecordingSandbox, audit_path: Path
) -> None:
    faults = front.sandbox.faults
    faults.status, faults.retry_after_s = 429, 60
    async with rig(front, audit_path, retry_budget_s=5.0) as r:
        result = await r.call("query_users", {})
    text = text_of(result)
    assert r.sleeps == [] and r.sent() == 1
    assert (
        result.is_error
        and "wait 60 seconds" in text
        and "1 attempt" in text
        and "Nothing was changed" in text
    )
    assert r.outcome_record()["details"]["retry_after_s"] == 60.0


async def test_a_rate_limited_write_is_not_resent_and_says_nothing_was_changed(
    front: RecordingSandbox, audit_path: Path
) -> None:
    faults = front.sandbox.faults
    faults.status, faults.retry_after_s = 429, 1
    async with rig(front, audit_path) as r:
        result = await r.call("create_user", {"email": "rate.limited@example.com"})
    assert (
        result.is_error and "Nothing was changed" in text_of(result) and "wait 1 seconds" in text_of(result)
    )
    assert r.sent("POST") == 1 and r.sleeps == []
    assert r.sandbox.store.user_id_by_email("rate.limited@example.com") is None


async def test_the_sandbox_rate_limit_is_honoured_on_reads(front: RecordingSandbox, audit_path: Path) -> None:
    from sandbox import RateLimit

    now = [1000.0]
    front.sandbox.clock = lambda: now[0]
    front.sandbox.rate_limit = RateLimit(requests=1, per_seconds=10)

    def time_passes() -> None:
        now[0] += 10

    async with rig(front, audit_path, on_sleep=time_passes, retry_budget_s=30.0) as r:
        first = await r.call("fetch_user_by_id", {"user_id": ADA})
        second = await r.call("fetch_user_by_id", {"user_id": ADA})
    assert not first.is_error and not second.is_error
    assert r.sleeps == [10.0] and r.sent() == 3


# --- broken connections and garbled answers ---------------------------------------------------------------


async def test_a_dropped_connection_on_a_read_is_retried_then_says_nothing_was_changed(
    front: RecordingSandbox, audit_path: Path
) -> None:
    front.sandbox.faults.drop_connection = True
    async with rig(front, audit_path, max_retries=2) as r:
        result = await r.call("fetch_employee_by_id", {"employee_id": "3f8a2c1e-6b4d-4e7a-9c2b-5d1e8f0a7b31"})
    text = text_of(result)
    assert result.is_error and "Could not reach PropelAuth" in text and "3 attempts" in text
    assert "Nothing was changed" in text and r.sent() == 3


async def test_a_dropped_connection_on_a_write_is_not_resent_and_may_have_happened(
    front: RecordingSandbox, audit_path: Path
) -> None:
    front.sandbox.faults.drop_connection = True
    async with rig(front, audit_path, max_retries=3) as r:
        result = await r.call("update_user", {"user_id": ADA, "first_name": "Augusta"})
    text = text_of(result)
    assert result.is_error and "may or may not" in text and r.sent("PUT") == 1 and r.sleeps == []
    assert r.outcome_record()["details"]["may_have_reached"] is True


async def test_a_dropped_connection_over_tcp_is_handled_like_in_memory(
    front: RecordingSandbox, audit_path: Path
) -> None:
    front.sandbox.faults.drop_connection = True
    async with rig(front, audit_path, over_tcp=True, max_retries=1) as r:
        read = await r.call("fetch_user_by_id", {"user_id": ADA})
        write = await r.call("disable_user", {"user_id": ADA, "confirm": True})
    assert read.is_error and "Nothing was changed" in text_of(read)
    assert write.is_error and "may or may not" in text_of(write)
    assert r.sent("GET") == 2 and r.sent("POST") == 1


async def test_malformed_json_on_a_read_says_the_answer_was_unexpected(
    front: RecordingSandbox, audit_path: Path
) -> None:
    front.sandbox.faults.malformed_json = True
    async with rig(front, audit_path) as r:
        result = await r.call("fetch_user_by_id", {"user_id": ADA})
    text = text_of(result)
    assert result.is_error and "unexpectedly" in text and "probably happened" not in text
    assert r.outcome_record()["details"]["reason"] == "unexpected_response" and r.sent() == 1


async def test_malformed_json_on_a_write_says_the_change_probably_happened(
    front: RecordingSandbox, audit_path: Path
) -> None:
    front.sandbox.faults.malformed_json = True
    async with rig(front, audit_path) as r:
        result = await r.call("create_user", {"email": "garbled@example.com"})
    text = text_of(result)
    assert result.is_error and "probably happened" in text and "fetch_user_by_email" in text
    assert r.sent("POST") == 1 and r.sleeps == []
    assert r.sandbox.store.user_id_by_email("garbled@example.com") is not None  # it did happen


# --- bounded concurrency ----------------------------------------------------------------------------------


class ConcurrencyProbe:
    """ASGI middleware counting the requests the sandbox handles at once."""

    def __init__(self, app: Any) -> None:
        self.app, self.now, self.peak = app, 0, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


async def test_no_more_than_max_in_flight_requests_reach_propelauth_at_once(
    front: RecordingSandbox, audit_path: Path
) -> None:
    front.sandbox.faults.latency_s = 0.05
    probe = ConcurrencyProbe(front.app)
    front.app = probe
    results: list[CallToolResult] = []
    async with rig(front, audit_path, max_in_flight=2) as r:

        async def one() -> None:
            results.append(await r.call("fetch_user_by_id", {"user_id": ADA}))

        async with anyio.create_task_group() as tasks:
            for _ in range(6):
                tasks.start_soon(one)
    assert probe.peak == 2 and len(results) == 6 and not any(res.is_error for res in results)


async def test_a_call_that_cannot_get_an_in_flight_slot_says_nothing_was_sent(
    front: RecordingSandbox, audit_path: Path
) -> None:
    front.sandbox.faults.latency_s = 0.5
    async with rig(front, audit_path, max_in_flight=1, in_flight_wait_s=0.05) as r:
        results: list[CallToolResult] = []

        async def one(name: str, arguments: dict[str, Any]) -> None:
            results.append(await r.call(name, arguments))

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(one, "fetch_user_by_id", {"user_id": ADA})
            await anyio.wait_all_tasks_blocked()
            tasks.start_soon(one, "enable_user", {"user_id": ADA})
    busy = [res for res in results if res.is_error]
    assert len(busy) == 1 and "nothing was sent" in text_of(busy[0])
    assert r.sent() == 1 and r.sent("POST") == 0


# --- a backend that is not PropelAuth, or misbehaves ------------------------------------------------------


def answer_http_with(front: RecordingSandbox, respond: Any) -> None:
    """HTTP requests get `respond` instead of the sandbox (its lifespan still runs the sandbox's)."""
    sandbox_app = front.app

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await sandbox_app(scope, receive, send)
            return
        await respond(scope, receive, send)

    front.app = app


NGINX_404 = HTMLResponse("<html><head><title>404 Not Found</title></head><body>nginx</body></html>", 404)


async def test_an_auth_url_answering_html_404s_is_not_reported_as_no_such_user(
    front: RecordingSandbox, audit_path: Path
) -> None:
    answer_http_with(front, NGINX_404)
    async with rig(front, audit_path) as r:
        result = await r.call("fetch_user_by_email", {"email": "nobody@example.com"})
    text = text_of(result)
    assert result.is_error and "does not look like PropelAuth at sandbox.test" in text
    assert "PROPELAUTH_AUTH_URL" in text and "No user" not in text
    assert r.outcome_record()["details"]["reason"] == "not_propelauth"


async def test_a_delete_preview_against_a_server_that_is_not_propelauth_is_refused_and_deletes_nothing(
    front: RecordingSandbox, audit_path: Path
) -> None:
    answer_http_with(front, NGINX_404)
    async with rig(front, audit_path) as r:
        result = await r.call("delete_user", {"user_id": ADA})
    assert result.is_error and "does not look like PropelAuth" in text_of(result)
    assert r.outcome_record()["details"]["reason"] == "not_propelauth" and r.sent("DELETE") == 0


async def test_an_unknown_user_in_the_sandbox_is_not_found_and_the_host_is_checked_once(
    front: RecordingSandbox, audit_path: Path
) -> None:
    async with rig(front, audit_path) as r:
        first = await r.call("fetch_user_by_email", {"email": "nobody@example.com"})
        second = await r.call("fetch_user_by_id", {"user_id": GRACE.replace(GRACE[:8], "00000000")})
    assert first.is_error and second.is_error
    assert r.outcome_record()["details"]["reason"] == "not_found"
    assert [seen.path for seen in front.seen].count("/api/v1/token_verification_metadata") == 1


async def drip(scope: Any, receive: Any, send: Any) -> None:
    """A backend that answers at once and then sends its body a byte at a time, for seconds."""
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    for _ in range(200):
        await send({"type": "http.response.body", "body": b" ", "more_body": True})
        await anyio.sleep(0.02)
    await send({"type": "http.response.body", "body": b"{}"})


async def test_a_dripping_backend_is_cut_at_the_timeout_body_included(
    front: RecordingSandbox, audit_path: Path
) -> None:
    answer_http_with(front, drip)
    async with rig(front, audit_path, over_tcp=True, timeout_s=0.3, max_retries=0) as r:
        started = anyio.current_time()
        result = await r.call("fetch_user_by_id", {"user_id": ADA})
        took = anyio.current_time() - started
    assert result.is_error and "did not answer in time" in text_of(result) and took < 2.0
    assert r.outcome_record()["details"]["reason"] == "timeout"


async def test_an_error_body_echoing_the_api_key_or_the_password_reaches_neither_agent_nor_audit(
    front: RecordingSandbox, audit_path: Path
) -> None:
    password = "hunter2-secret-pass"

    async def echo(scope: Any, receive: Any, send: Any) -> None:
        body = {"password": [f"{password} is too common"], "key": [f"{API_KEY} was used"]}
        await JSONResponse(body, 400)(scope, receive, send)

    answer_http_with(front, echo)
    async with rig(front, audit_path) as r:
        result = await r.call("update_user_password", {"user_id": ADA, "password": password})
    assert result.is_error and r.outcome_record()["details"]["reason"] == "bad_request"
    for secret in (password, API_KEY):
        assert secret not in text_of(result) and secret not in audit_path.read_text()


async def test_a_refused_port_names_the_host_and_the_cause_and_never_the_key(audit_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(audit_path, auth_url=f"http://127.0.0.1:{port}", max_retries=0)
    trail = AuditTrail(audit_path)
    try:
        async with http_client(settings, None) as http:
            service = ToolService(settings, trail)
            with anyio.fail_after(10):
                result = await service.call(
                    PropelAuthClient(http), "fetch_user_by_id", {"user_id": ADA}, client=None, caller=None
                )
    finally:
        trail.close()
    text = text_of(result)
    assert result.is_error and f"127.0.0.1:{port}" in text and "connection refused" in text
    assert API_KEY not in text and API_KEY not in audit_path.read_text()
