"""The `Sandbox`: one emulated PropelAuth project (its store, key, switches and counters)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sandbox.faults import Faults, RateLimit
from sandbox.store import Store
from sandbox.tokens import TokenSigner

_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


@dataclass(eq=False)
class Sandbox:
    store: Store
    api_key: str
    auth_url: str
    faults: Faults = field(default_factory=Faults)
    rate_limit: RateLimit | None = None
    # Project switches: off, the service answers 404 to createAccessToken / 426 to
    # queryUsers with include_orgs=true.
    access_tokens_enabled: bool = True
    orgs_enabled: bool = True
    # Requests that passed authentication on the API routes, and all requests.
    requests_received: int = 0
    requests_total: int = 0
    # Seconds since the epoch; tests replace it to move time without sleeping.
    clock: Callable[[], float] = time.time
    signer: TokenSigner = field(init=False)

    def __post_init__(self) -> None:
        self.auth_url = self.auth_url.rstrip("/")
        self.signer = TokenSigner(self.store)

    def close(self) -> None:
        """Close the store's database (an unclosed sqlite3 connection warns on Python 3.13)."""
        self.store.close()

    def now(self) -> int:
        return int(self.clock())

    def issuer(self, propelauth_url_header: str | None) -> str:
        """`https://<host>` when the gateway header names the Auth URL host, else our Auth URL.

        Like the official SDKs, a value given as a full URL is reduced to its host.
        """
        if propelauth_url_header:
            value = propelauth_url_header.strip()
            host = urlsplit(value).netloc if "://" in value else value.rstrip("/")
            if _HOST.match(host):
                return f"https://{host}"
        return self.auth_url
