"""A real loopback port for an ASGI app (uvicorn in-process), for tests that need TCP semantics."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import uvicorn
from starlette.types import ASGIApp


@asynccontextmanager
async def serve_on_loopback(app: ASGIApp, *, graceful_shutdown_s: float | None = None) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1:<free port>; the socket listens before uvicorn starts: no readiness wait.

    `graceful_shutdown_s` bounds the wait for requests still running at the end (a sandbox fault may
    hold one for longer than the test cares to wait).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
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
                yield f"http://127.0.0.1:{port}"
            finally:
                server.should_exit = True
                with anyio.fail_after(10):
                    await stopped.wait()
    finally:
        sock.close()
