"""Fixtures shared by the server and end-to-end tests: a sandbox, a server wired to it, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.types import Implementation

from sandbox import Sandbox, create_app
from sandbox.store import Store
from server.app import create_server
from server.audit import AuditTrail
from server.settings import Settings

API_KEY = "sk-test-0123456789abcdefghij"
AUTH_URL = "http://sandbox.test"
CLIENT_INFO = Implementation(name="pytest-agent", version="1.2.3")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", autouse=True)
def sandbox_stores_are_closed() -> Iterator[None]:
    """Every sandbox database opened in this run is closed explicitly, at the latest when it ends.

    Fixtures and tests close theirs (contextlib.closing); this catches the rest (an in-process
    `main()`, a module-scoped harness) and keeps them from being garbage-collected open, which on
    Python 3.13 is a ResourceWarning, an error in this suite. Session-wide, since a module-scoped
    harness may use a database opened during an earlier test.
    """
    opened: list[Store] = []
    open_store = Store.__init__

    def tracked(store: Store, *args: Any, **kwargs: Any) -> None:
        open_store(store, *args, **kwargs)
        opened.append(store)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Store, "__init__", tracked)
        yield
    for store in opened:
        store.close()


@pytest.fixture
def sandbox_app() -> Iterator[Any]:
    app = create_app(api_key=API_KEY, db_path=":memory:", auth_url=AUTH_URL, seed=True)
    with closing(app.state.sandbox):
        yield app


@pytest.fixture
def sandbox(sandbox_app: Any) -> Sandbox:
    return sandbox_app.state.sandbox


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


def make_settings(audit_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "auth_url": AUTH_URL,
        "api_key": API_KEY,
        "audit_log": audit_path,
        "max_retries": 2,
        "retry_budget_s": 5.0,
        "timeout_s": 5.0,
        # What tools do is tested with `confirm: true` alone; the confirmation modes (the default is
        # auto) are tested by tests/server/test_person_confirms.py and its HTTP twin, which set them.
        "confirmation": "argument",
        # Every tool, whatever the default surface (tests/server/test_cli_and_settings.py tests that).
        "toolsets": {"all"},
    }
    return Settings(**{**values, **overrides})


@pytest.fixture
def settings(audit_path: Path) -> Settings:
    return make_settings(audit_path)


@pytest.fixture
def audit(settings: Settings) -> AsyncIterator[AuditTrail]:
    trail = AuditTrail(settings.audit_path)
    yield trail
    trail.close()


@pytest.fixture(params=["legacy", "auto"], ids=["handshake-era", "2026-era"])
def protocol_mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def client(settings: Settings, audit: AuditTrail, sandbox_app: Any) -> AsyncIterator[Client]:
    server = create_server(settings, audit, transport=httpx2.ASGITransport(app=sandbox_app))
    async with Client(server, mode="legacy", client_info=CLIENT_INFO) as connected:
        yield connected
