"""The gate every request passes: API-key check, counters, rate limit, then injected faults."""

from __future__ import annotations

import hmac
import json
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.faults import rate_limited_text
from sandbox.state import Sandbox

# Routes that need the API key; anything else (the magic-link landing page) is public.
API_PREFIXES = ("/api/backend/v1/", "/api/v1/token_verification_metadata")

_MALFORMED_BODY = b"<html><body>502 Bad Gateway</body></html>"


class SandboxGate:
    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sandbox = self.sandbox
        sandbox.requests_total += 1
        if not str(scope["path"]).startswith(API_PREFIXES):
            await self.app(scope, receive, send)
            return
        # Authentication comes before anything else, faults and rate limits included.
        if not self._authorized(scope):
            await _send_json(send, 401, {"message": "Unauthorized: a valid backend API key is required"})
            return
        sandbox.requests_received += 1

        if sandbox.rate_limit is not None:
            wait = sandbox.rate_limit.wait_seconds(sandbox.clock())
            if wait is not None:
                await _send_text(send, 429, rate_limited_text(wait))
                return

        faults = sandbox.faults
        if faults.latency_s > 0:
            await anyio.sleep(faults.latency_s)
        if faults.drop_connection:
            await _drop(send)
        status = faults.take_status()
        if status == 429:
            await _send_text(send, 429, rate_limited_text(faults.retry_after_s))
            return
        if status is not None:
            await _send_json(send, status, {"message": f"Fault injected by the sandbox (HTTP {status})"})
            return
        if faults.malformed_json:
            await self.app(scope, receive, _garble_success(send))
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, key = value.decode("latin-1").partition(" ")
                return scheme.lower() == "bearer" and hmac.compare_digest(
                    key.strip().encode("utf-8"), self.sandbox.api_key.encode("utf-8")
                )
        return False


async def _drop(send: Send) -> None:
    """Start a response and abandon it, so the client sees a broken connection.

    Over a socket, uvicorn closes the connection mid-response; in process, the exception
    raised is the one httpx2 raises for a peer that hung up, so clients see the same error.
    """
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"1024")],
        }
    )
    try:
        import httpx2
    except ImportError:  # pragma: no cover - httpx2 is a project dependency
        raise ConnectionResetError("connection dropped by the sandbox") from None
    raise httpx2.RemoteProtocolError("Server disconnected without sending a complete response.")


def _garble_success(send: Send) -> Send:
    """Pass errors through; replace a 2xx body with one that is not JSON."""
    garbling = False

    async def garbled_send(message: Message) -> None:
        nonlocal garbling
        if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
            garbling = True
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_MALFORMED_BODY)).encode()),
            ]
            await send({**message, "headers": headers})
            return
        if garbling and message["type"] == "http.response.body":
            if not message.get("more_body", False):
                await send({"type": "http.response.body", "body": _MALFORMED_BODY})
            return
        await send(message)

    return garbled_send


async def _send_json(send: Send, status: int, body: Any) -> None:
    await _send(send, status, json.dumps(body).encode("utf-8"), b"application/json")


async def _send_text(send: Send, status: int, text: str) -> None:
    await _send(send, status, text.encode("utf-8"), b"text/plain; charset=utf-8")


async def _send(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
