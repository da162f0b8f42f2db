"""The start-up check: one line on stderr saying whether the Auth URL is PropelAuth and takes the key."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from sandbox import create_app
from server.preflight import serve_with_startup_check, startup_check
from server.wire_answers import IDENTITY_PATH
from tests.conftest import API_KEY, AUTH_URL, make_settings

pytestmark = pytest.mark.anyio


def sandbox_transport(api_key: str = API_KEY) -> httpx2.ASGITransport:
    return httpx2.ASGITransport(app=create_app(api_key=api_key, db_path=":memory:", auth_url=AUTH_URL))


async def run_check(audit_path: Path, transport: httpx2.AsyncBaseTransport | None, **overrides: Any) -> Any:
    lines: list[str] = []
    with anyio.fail_after(10):
        verdict = await startup_check(make_settings(audit_path, **overrides), transport, report=lines.append)
    assert len(lines) == 1 and lines[0].startswith("start-up check of ")
    assert API_KEY not in lines[0]
    return verdict, lines[0]


async def test_against_the_sandbox_the_check_says_ok(audit_path: Path) -> None:
    verdict, line = await run_check(audit_path, sandbox_transport())
    assert verdict.kind == "ok" and "OK" in line and "sandbox.test" in line


async def test_with_a_wrong_key_the_check_says_the_key_was_refused(audit_path: Path) -> None:
    verdict, line = await run_check(audit_path, sandbox_transport(api_key="sk-another-key-0123456789"))
    assert verdict.kind == "key_refused" and "WARNING" in line and "PROPELAUTH_API_KEY" in line


async def test_against_an_html_server_the_check_says_it_does_not_look_like_propelauth(
    audit_path: Path,
) -> None:
    html = "<html><body>Not Found</body></html>"
    page = httpx2.MockTransport(lambda request: httpx2.Response(404, html=html))
    verdict, line = await run_check(audit_path, page)
    assert verdict.kind == "not_propelauth" and "does not look like PropelAuth" in line


async def test_a_json_server_without_propelauths_key_endpoint_does_not_look_like_propelauth(
    audit_path: Path,
) -> None:
    other = httpx2.MockTransport(lambda request: httpx2.Response(200, json={"status": "ok"}))
    verdict, _ = await run_check(audit_path, other)
    assert verdict.kind == "not_propelauth"


async def test_a_refused_port_is_reported_as_unreachable_with_the_cause(audit_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verdict, line = await run_check(audit_path, None, auth_url=f"http://127.0.0.1:{port}")
    assert verdict.kind == "unreachable" and "connection refused" in line


async def test_the_check_runs_beside_the_server_and_never_holds_it_at_exit(
    audit_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reached = anyio.Event()

    async def never_answers(request: httpx2.Request) -> httpx2.Response:
        reached.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    served: list[str] = []

    async def serve(server: object) -> None:
        served.append("started")
        await reached.wait()  # the check is under way while the server serves
        served.append("done")

    with anyio.fail_after(10):
        await serve_with_startup_check(
            serve, object(), make_settings(audit_path), httpx2.MockTransport(never_answers)
        )
    assert served == ["started", "done"]
    assert "start-up check" not in capsys.readouterr().err


async def test_the_check_asks_the_token_verification_endpoint_once(audit_path: Path) -> None:
    seen: list[str] = []

    def record(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.url.path)
        return httpx2.Response(503)

    verdict, _ = await run_check(audit_path, httpx2.MockTransport(record))
    assert seen == [IDENTITY_PATH] and verdict.kind == "failed"
