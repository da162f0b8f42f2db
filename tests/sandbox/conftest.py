"""Fixtures: a fresh in-memory sandbox per test, driven over HTTP through httpx2's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import closing

import httpx2
import pytest
from starlette.applications import Starlette

from sandbox import create_app
from sandbox.state import Sandbox
from tests.sandbox.sandbox_testkit import API_KEY, AUTH_URL, client_for


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app() -> Iterator[Starlette]:
    app = create_app(api_key=API_KEY, auth_url=AUTH_URL)
    with closing(app.state.sandbox):
        yield app


@pytest.fixture
def sandbox(app: Starlette) -> Sandbox:
    state: Sandbox = app.state.sandbox
    return state


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx2.AsyncClient]:
    async with client_for(app) as http:
        yield http


@pytest.fixture
def seeded_app() -> Iterator[Starlette]:
    app = create_app(api_key=API_KEY, auth_url=AUTH_URL, seed=True)
    with closing(app.state.sandbox):
        yield app


@pytest.fixture
async def seeded(seeded_app: Starlette) -> AsyncIterator[httpx2.AsyncClient]:
    async with client_for(seeded_app) as http:
        yield http
