"""What the confirmation tests share: a sandbox that counts what reached it, a person at the client
(an elicitation callback) that answers as told and remembers what it was asked, the audit file."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mcp.types as types
from mcp import Client
from mcp.client import ClientRequestContext
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.demo import demo_user_id

ADA = demo_user_id("ada@example.com")
GRACE = demo_user_id("grace.hopper@example.com")
API_PATH = "/api/"


class CountingSandbox:
    """The sandbox's ASGI app behind a tally of the API requests that reached it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state
        self.requests: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(API_PATH):
            self.requests.append((scope["method"], scope["path"]))
        inner: ASGIApp = self.app
        await inner(scope, receive, send)

    @property
    def changes(self) -> list[tuple[str, str]]:
        """The requests that could change something (everything but a read)."""
        return [request for request in self.requests if request[0] != "GET"]


@dataclass
class Person:
    """The person at the client: answers every question with `action` (accept ticks the box)."""

    action: str = "accept"
    asked: list[str] = field(default_factory=list)

    async def __call__(
        self, ctx: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestFormParams)
        self.asked.append(params.message)
        content = {"confirm": True} if self.action == "accept" else None
        return types.ElicitResult(action=self.action, content=content)  # type: ignore[arg-type]


# connect(person or None) -> a connected official client; None: a client without elicitation.
Connect = Callable[[Person | None], AbstractAsyncContextManager[Client]]


def audit_outcomes(path: Path) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [r for r in records if r.get("kind") == "outcome"]


def audit_kinds(path: Path) -> list[str]:
    return [json.loads(line)["kind"] for line in path.read_text().splitlines()] if path.exists() else []


def text_of(result: types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text
