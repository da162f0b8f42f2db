"""An HTTP server on a real loopback port (uvicorn in-process), wired to an in-memory sandbox."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from sandbox import Sandbox
from server.app import create_server
from server.audit import AuditTrail
from server.http import create_http_app, http_tokens
from server.settings import Settings
from tests.conftest import CLIENT_INFO, make_settings
from tests.loopback import serve_on_loopback

ALICE_TOKEN = "alice-0123456789abcdefghijklmn"
BOT_TOKEN = "ci-bot-zyxwvutsrqponmlkjihgfe"
TOKENS = f"alice={ALICE_TOKEN},ci-bot={BOT_TOKEN}"


@dataclass
class RunningServer:
    base: str
    settings: Settings
    sandbox: Sandbox
    app: Any

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"


@pytest.fixture
def http_settings(audit_path: Path) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"transport": "http", "http_tokens": TOKENS}
        return make_settings(audit_path, **{**values, **overrides})

    return build


@pytest.fixture
def start_http(sandbox_app: Any, http_settings: Callable[..., Settings]) -> Callable[..., Any]:
    @asynccontextmanager
    async def start(
        *,
        sandbox: Any = None,
        app_options: dict[str, Any] | None = None,
        wrap: Callable[[Any], Any] | None = None,
        **overrides: Any,
    ) -> AsyncIterator[RunningServer]:
        """`app_options` go to create_http_app; `wrap` puts an ASGI layer in front of the app."""
        target = sandbox if sandbox is not None else sandbox_app
        settings = http_settings(**overrides)
        audit = AuditTrail(settings.audit_path)
        server = create_server(settings, audit, transport=httpx2.ASGITransport(app=target))
        app = create_http_app(server, settings, tokens=http_tokens(settings), **(app_options or {}))
        try:
            async with serve_on_loopback(wrap(app) if wrap else app) as base:
                yield RunningServer(base, settings, target.state.sandbox, app)
        finally:
            audit.close()

    return start


@asynccontextmanager
async def http_client(
    url: str, *, token: str | None, mode: str = "legacy", **headers: str
) -> AsyncIterator[Client]:
    """The official MCP client over Streamable HTTP, presenting `token` as a bearer token."""
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode, client_info=CLIENT_INFO) as c,
    ):
        yield c


ENTRY_POINT = str(Path(__import__("sys").executable).parent / "propelauth-mcp")
ANNOUNCE = re.compile(r"serving MCP over HTTP at (http://\S+)/mcp")


@dataclass
class EntryPoint:
    base: str
    process: anyio.abc.Process
    stderr: list[str]

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"


@asynccontextmanager
async def entry_point_over_http(
    command: list[str],
    env: dict[str, str],
    *,
    user: str | None = None,
    start_timeout: float = 60,
    cwd: Path | None = None,
) -> AsyncIterator[EntryPoint]:
    """Start `command` (the console script over HTTP on --port 0) and wait, bounded, for its announcement."""
    process = await anyio.open_process(
        command,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        user=user,
        cwd=cwd,
    )
    stderr: list[str] = []
    found = anyio.Event()
    base: list[str] = []

    async def drain() -> None:
        assert process.stderr is not None
        buffered = ""
        async for chunk in process.stderr:
            buffered += chunk.decode(errors="replace")
            *lines, buffered = buffered.split("\n")
            for line in lines:
                stderr.append(line)
                if not found.is_set() and (match := ANNOUNCE.search(line)):
                    base.append(match.group(1))
                    found.set()
        found.set()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(drain)
            with anyio.fail_after(start_timeout):
                await found.wait()
            assert base, "the server exited before serving:\n" + "\n".join(stderr)
            try:
                yield EntryPoint(base[0], process, stderr)
            finally:
                process.terminate()
                with anyio.fail_after(15):
                    await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            with anyio.CancelScope(shield=True), anyio.fail_after(5):
                await process.wait()
