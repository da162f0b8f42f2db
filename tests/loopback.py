"""A real loopback port for an ASGI app (uvicorn in-process), for tests that need TCP semantics."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import uvicorn
from starlette.types import ASGIApp


def listening_socket() -> socket.socket:
    """A socket listening on 127.0.0.1:<free port>: its URL is known before the app that serves it is
    built (an OAuth resource and its authorization server name their own URLs)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@asynccontextmanager
async def serve_on_loopback(
    app: ASGIApp, *, graceful_shutdown_s: float | None = None, sock: socket.socket | None = None
) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1:<free port> (or on `sock`); the socket listens before uvicorn starts:
    no readiness wait.

    `graceful_shutdown_s` bounds the wait for requests still running at the end (a sandbox fault may
    hold one for longer than the test cares to wait).
    """
    sock = sock or listening_socket()
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=graceful_shutdown_s
    )
    server = uvicorn.Server(config)
    stopped = anyio.Event()

    async def run() -> None:
        try:
            await server.serve([sock])
        finally:
            stopped.set()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            try:
                yield url_of(sock)
            finally:
                server.should_exit = True
                with anyio.fail_after(10):
                    await stopped.wait()
    finally:
        sock.close()
