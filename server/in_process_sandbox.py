"""The in-process sandbox as an ASGI app that is built on its first request, not at start-up.

Importing the sandbox's handlers, compiling its routes and opening its database cost about 25 ms
of CPU that the first `tools/list` never needs; the first tool call pays them instead.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Receive, Scope, Send


class LazySandboxApp:
    def __init__(self, *, api_key: str, db_path: str, auth_url: str) -> None:
        self._api_key, self._db_path, self._auth_url = api_key, db_path, auth_url
        self._app: Any = None

    @property
    def built(self) -> bool:
        return self._app is not None

    def app(self) -> Any:
        """The sandbox's Starlette app, built (and its database opened and seeded) on first use."""
        if self._app is None:
            from sandbox import create_app

            self._app = create_app(
                api_key=self._api_key, db_path=self._db_path, auth_url=self._auth_url, seed=True
            )
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app()(scope, receive, send)

    def close(self) -> None:
        """Close the database, if a request ever opened it."""
        if self._app is not None:
            self._app.state.sandbox.close()
