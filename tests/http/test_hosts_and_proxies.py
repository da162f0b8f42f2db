"""Host and Origin are parsed, not prefix-matched; X-Forwarded-For is believed only from set proxies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import httpx2
import pytest
from starlette.types import Receive, Scope, Send

from server.addresses import is_loopback
from server.cli import main
from server.http import uvicorn_server
from tests.http.conftest import ALICE_TOKEN
from tests.http.test_http_transport import MCP_HEADERS
from tests.jsonrpc import INITIALIZE

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1:8000", 200),
        ("localhost", 200),
        ("LOCALHOST", 200),
        ("LocalHost:8000", 200),
        ("[::1]:8000", 200),
        ("[0:0::1]", 200),  # the same IPv6 address, written longer
        ("localhost:evil.example", 421),
        ("127.0.0.1:evil.example", 421),
        ("127.0.0.1.evil", 421),
        ("127.0.0.1.evil:8000", 421),
        ("localhost.evil.example:8000", 421),
        ("localhost:", 421),
        ("localhost:99999", 421),
        ("localhost:8000:8000", 421),
        ("[::1]evil", 421),
        ("[::1", 421),
        ("evil@localhost", 421),
    ],
)
async def test_only_an_allowed_host_name_with_a_numeric_port_reaches_the_mcp_endpoint(
    start_http: Callable[..., Any], host: str, status: int
) -> None:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {ALICE_TOKEN}", "Host": host}
    with anyio.fail_after(30):
        async with start_http() as srv, httpx2.AsyncClient(headers=headers) as http:
            answer = await http.post(srv.url, json=INITIALIZE)
    assert answer.status_code == status


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        ("http://localhost:3000", 200),
        ("http://LOCALHOST:3000", 200),
        ("http://[::1]:3000", 200),
        ("http://localhost:evil.example", 403),
        ("http://localhost.evil.example:3000", 403),
        ("http://127.0.0.1.evil:3000", 403),
        ("https://localhost:3000", 403),  # the default allows http loopback origins only
        ("http://localhost:3000/path", 403),
        ("null", 403),
    ],
)
async def test_only_an_allowed_origin_is_accepted(
    start_http: Callable[..., Any], origin: str, status: int
) -> None:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {ALICE_TOKEN}", "Origin": origin}
    with anyio.fail_after(30):
        async with start_http() as srv, httpx2.AsyncClient(headers=headers) as http:
            answer = await http.post(srv.url, json=INITIALIZE)
    assert answer.status_code == status


async def test_a_configured_host_name_is_matched_whole_and_case_insensitively(
    start_http: Callable[..., Any],
) -> None:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {ALICE_TOKEN}"}
    with anyio.fail_after(30):
        async with (
            start_http(allowed_hosts="MCP.acme.internal,127.0.0.1:*") as srv,
            httpx2.AsyncClient(headers=headers) as http,
        ):
            statuses = [
                (await http.post(srv.url, json=INITIALIZE, headers={"Host": host})).status_code
                for host in ("mcp.ACME.internal", "mcp.acme.internal:443", "mcp.acme.internal.evil")
            ]
    assert statuses == [200, 421, 421]  # a pattern without a port allows no port


async def test_readyz_is_behind_the_host_check_but_healthz_is_not(start_http: Callable[..., Any]) -> None:
    foreign = {"Host": "rebound.evil.example"}
    with anyio.fail_after(30):
        async with start_http() as srv, httpx2.AsyncClient() as http:
            ready = await http.get(f"{srv.base}/readyz", headers=foreign)
            health = await http.get(f"{srv.base}/healthz", headers=foreign)
    assert (ready.status_code, health.status_code) == (421, 200)
    assert srv.sandbox.requests_received == 0  # the refused probe never asked PropelAuth


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("127.evil.com", False),
        ("127.0.0.1.evil", False),
        ("localhost.evil.example", False),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.1", False),
        ("", False),
    ],
)
def test_loopback_means_the_name_localhost_or_a_literal_loopback_address(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--sandbox", "--sandbox-db", ":memory:", "--transport", "http", *argv])
    return code, capsys.readouterr().err


def test_no_auth_on_a_name_that_merely_starts_with_127_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["--no-auth", "--host", "127.evil.com"], capsys)
    assert code == 2 and "loopback" in err


def test_a_trusted_proxy_that_is_not_an_ip_or_cidr_is_refused_at_start_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = run(["--no-auth", "--trusted-proxies", "10.0.0.0/8,proxy.internal"], capsys)
    assert code == 2 and "PROPELAUTH_MCP_TRUSTED_PROXIES (--trusted-proxies)" in err and "entry 2" in err


def test_trusted_proxies_come_from_the_environment_normalised(
    http_settings: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROPELAUTH_MCP_TRUSTED_PROXIES", "10.1.2.3/8, ::1")
    assert http_settings().trusted_proxies == ["10.0.0.0/8", "::1/128"]


async def echo_client(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = str(scope["client"][0]).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize(
    ("trusted", "seen"),
    [("", "127.0.0.1"), ("10.0.0.0/8", "127.0.0.1"), ("127.0.0.0/8", "203.0.113.9")],
    ids=["none-configured", "peer-not-a-proxy", "peer-is-a-proxy"],
)
async def test_x_forwarded_for_is_believed_only_from_a_configured_proxy(
    http_settings: Callable[..., Any], trusted: str, seen: str
) -> None:
    settings = http_settings(port=0, trusted_proxies=trusted)
    listening = anyio.Event()
    ports: list[int] = []

    def announce(port: int) -> None:
        ports.append(port)
        listening.set()

    runner = uvicorn_server(echo_client, settings, announce)
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(runner.serve)
            await listening.wait()
            async with httpx2.AsyncClient() as http:
                answer = await http.get(
                    f"http://127.0.0.1:{ports[0]}/", headers={"X-Forwarded-For": "203.0.113.9"}
                )
            runner.should_exit = True
    assert answer.text == seen
