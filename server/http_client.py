"""The httpx2 client that carries PropelAuth requests, and the per-process state that creates it lazily."""

from __future__ import annotations

import httpx2

from server import __version__
from server.propelauth_client import PropelAuthClient
from server.settings import Settings
from tools.backend import Backend


def http_client(settings: Settings, transport: httpx2.AsyncBaseTransport | None) -> httpx2.AsyncClient:
    assert settings.auth_url is not None and settings.api_key is not None
    headers = {
        "Authorization": f"Bearer {settings.api_key.get_secret_value()}",
        "User-Agent": f"propelauth-mcp/{__version__}",
    }
    base_url = settings.auth_url
    if settings.api_base_url:
        headers["X-Propelauth-url"] = httpx2.URL(settings.auth_url).netloc.decode()
        base_url = settings.api_base_url
    return httpx2.AsyncClient(
        base_url=base_url,
        headers=headers,
        timeout=settings.timeout_s,
        transport=transport,
        follow_redirects=False,
    )


class AppState:
    """Per-process state: the PropelAuth client, created on first use.

    Creating an httpx2 client loads the system's CA bundle (about 0.1 s), so it waits for the
    first tool call instead of delaying the server's first answer.
    """

    def __init__(self, settings: Settings, transport: httpx2.AsyncBaseTransport | None) -> None:
        self._settings = settings
        self._transport = transport
        self._http: httpx2.AsyncClient | None = None
        self._backend: PropelAuthClient | None = None

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._http = http_client(self._settings, self._transport)
            self._backend = PropelAuthClient(
                self._http,
                max_retries=self._settings.max_retries,
                retry_budget_s=self._settings.retry_budget_s,
                max_in_flight=self._settings.max_in_flight,
            )
        return self._backend

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
