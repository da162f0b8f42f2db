"""Helpers shared by the trust tests: a sandbox whose requests are recorded, and quiet logging."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import structlog

from sandbox import Sandbox, create_app
from server.audit import SecretScrubber
from server.logs import configure_logging
from tests.conftest import API_KEY, AUTH_URL


def fresh_sandbox_app() -> Any:
    return create_app(api_key=API_KEY, db_path=":memory:", auth_url=AUTH_URL, seed=True)


@dataclass
class SeenRequest:
    method: str
    path: str
    raw_path: bytes


@dataclass
class RecordingSandbox:
    """An ASGI app in front of a (replaceable) sandbox app that records every request it is given.

    `on_request` runs when a request arrives, before the sandbox handles it (e.g. to read the audit file).
    """

    app: Any = field(default_factory=fresh_sandbox_app)
    seen: list[SeenRequest] = field(default_factory=list)
    on_request: Any = None

    @property
    def sandbox(self) -> Sandbox:
        return self.app.state.sandbox  # type: ignore[no-any-return]

    def reset(self) -> None:
        self.app.state.sandbox.close()  # closed now, not whenever the collector gets to it
        self.app = fresh_sandbox_app()
        self.seen.clear()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append(SeenRequest(scope["method"], scope["path"], scope.get("raw_path") or b""))
            if self.on_request is not None:
                self.on_request(scope)
        await self.app(scope, receive, send)


@pytest.fixture
def quiet_logs() -> Iterator[None]:
    """Log as the server does, but into /dev/null (thousands of calls would flood the capture)."""
    with open(os.devnull, "w") as null:
        configure_logging("info", SecretScrubber([API_KEY]), stream=null)
        try:
            yield
        finally:
            structlog.reset_defaults()
            logging.basicConfig(force=True)


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
