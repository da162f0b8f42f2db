"""A local emulator of the PropelAuth Backend API (ASGI app + SQLite store); knows nothing of MCP.

    app = sandbox.create_app(api_key="key")              # in memory
    app = sandbox.create_app(api_key="key", db_path="sandbox.db", seed=True)
    app.state.sandbox                                    # the Sandbox: store, faults, counters

Names are resolved lazily so that `import sandbox` costs nothing until the app is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.app import create_app
    from sandbox.demo import seed_demo
    from sandbox.faults import Faults, RateLimit
    from sandbox.state import Sandbox
    from sandbox.store import Store

__all__ = ["Faults", "RateLimit", "Sandbox", "Store", "create_app", "seed_demo"]

_HOMES = {
    "create_app": "sandbox.app",
    "seed_demo": "sandbox.demo",
    "Faults": "sandbox.faults",
    "RateLimit": "sandbox.faults",
    "Sandbox": "sandbox.state",
    "Store": "sandbox.store",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
