"""OAuth access tokens checked by PropelAuth's introspection endpoint (RFC 7662), with a short cache.

`TokenIntrospector.verify(token)` asks `POST {auth_url}/oauth/2.1/introspect` (form `token=`, HTTP
Basic with the introspection client's id and secret) and accepts a token only when the answer says
`active: true`, names this server's resource URL in `aud`, has an `exp` still in the future and, when
it names an issuer, PropelAuth's. It answers the `Caller` the token belongs to, or None for a token
to refuse; it raises IntrospectionUnavailable when it cannot tell (PropelAuth unreachable, slow,
failing or refusing our credentials): the gate answers 503, never lets the request pass.

Answers are cached by the token's SHA-256 (never the token itself) for at most `cache_s` and never
past the token's `exp`, in a bounded LRU; concurrent requests with one token make a single
introspection (the others wait for its answer), so a burst of calls is not a burst of introspections.
An inactive answer is cached too: a token never turns active again. At most MAX_IN_FLIGHT
introspections are in flight at once, so made-up tokens (each a miss) queue here, not at PropelAuth.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
import structlog
from pydantic import AnyHttpUrl, ValidationError

from server.answer_cache import MAX_ENTRIES, AnswerCache
from server.callers import Caller

INTROSPECTION_TIMEOUT_S = 5.0  # a sign-in check must not hold a request for PropelAuth's whole timeout
# Introspections in flight at once: a flood of made-up tokens (each one a cache miss) waits its turn
# here instead of becoming a flood at PropelAuth. Each answer is quick; the cache serves the rest.
MAX_IN_FLIGHT = 8
ISSUER_PATH = "/oauth/2.1"

_log = structlog.get_logger("propelauth_mcp.introspection")


class IntrospectionUnavailable(Exception):
    """The introspection endpoint gave no usable answer; `reason` says why (never the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def token_digest(token: str) -> bytes:
    """What caches key a token by: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def issuer_of(auth_url: str) -> str:
    return f"{auth_url.rstrip('/')}{ISSUER_PATH}"


def same_url(a: str, b: str) -> bool:
    """Equal as URLs (case of scheme and host, default ports), a trailing slash aside."""
    try:
        return str(AnyHttpUrl(a)).removesuffix("/") == str(AnyHttpUrl(b)).removesuffix("/")
    except ValidationError:
        return False


@dataclass(frozen=True)
class Answer:
    """What introspection said about one token, as far as we use it."""

    active: bool
    sub: str | None = None
    email: str | None = None
    client_id: str | None = None
    scopes: frozenset[str] = frozenset()
    exp: float | None = None
    audiences: tuple[str, ...] = ()
    issuer: str | None = None

    @classmethod
    def parse(cls, body: Any) -> Answer:
        """RFC 7662 JSON; anything that is not an object with a boolean `active` is no answer."""
        if not isinstance(body, dict) or not isinstance(body.get("active"), bool):
            raise IntrospectionUnavailable("the introspection answer is not RFC 7662 JSON")
        if not body["active"]:
            return cls(active=False)
        aud = body.get("aud")
        listed = aud if isinstance(aud, list) else [aud]
        audiences = tuple(a for a in listed if isinstance(a, str))
        exp = body.get("exp")
        scope = body.get("scope")
        return cls(
            active=True,
            sub=_text(body.get("sub")),
            email=_text(body.get("email")),
            client_id=_text(body.get("client_id")),
            scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
            exp=float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None,
            audiences=audiences,
            issuer=_text(body.get("iss")),
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class TokenIntrospector:
    """Verifies bearer tokens with PropelAuth's introspection endpoint; see the module docstring."""

    def __init__(
        self,
        *,
        auth_url: str,
        client_id: str,
        client_secret: str,
        resource_url: str,
        cache_s: float,
        max_cached: int = MAX_ENTRIES,
        timeout_s: float = INTROSPECTION_TIMEOUT_S,
        max_in_flight: int = MAX_IN_FLIGHT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer_of(auth_url)
        self._slots = anyio.Semaphore(max_in_flight)
        self.endpoint = f"{self.issuer}/introspect"
        self.resource_url = resource_url
        self._credentials = (client_id, client_secret)
        self._cache_s = cache_s
        self._timeout_s = timeout_s
        self._clock = clock
        self._cache: AnswerCache[Answer] = AnswerCache(max_entries=max_cached, clock=clock)
        self._client: httpx2.AsyncClient | None = None
        self.introspections = 0  # requests sent to the endpoint (for tests and the start-up check)

    @contextlib.asynccontextmanager
    async def running(self, transport: httpx2.AsyncBaseTransport | None = None) -> AsyncIterator[None]:
        """Own one HTTP client to the introspection endpoint for as long as the app runs."""
        async with httpx2.AsyncClient(
            transport=transport, timeout=self._timeout_s, follow_redirects=False
        ) as client:
            self._client = client
            try:
                yield
            finally:
                self._client = None

    def cached_tokens(self) -> int:
        return len(self._cache)

    async def verify(self, token: str) -> Caller | None:
        """The token's caller; None when the token must be refused; IntrospectionUnavailable otherwise."""
        verified = await self.verify_until(token)
        return verified[0] if verified is not None else None

    async def verify_until(self, token: str) -> tuple[Caller, float] | None:
        """As `verify`, with the token's expiry (what a check cached along with this answer must not pass)."""
        answer = await self._answer(token_digest(token), token)
        if not self._acceptable(answer):
            return None
        assert answer.sub is not None and answer.exp is not None
        caller = Caller(
            name=answer.sub,
            user_id=answer.sub,
            email=answer.email,
            client_id=answer.client_id,
            scopes=answer.scopes,
        )
        return caller, answer.exp

    def _acceptable(self, answer: Answer) -> bool:
        # Checked on every use, a cached answer included: it may have expired since it was stored.
        return (
            answer.active
            and answer.sub is not None
            and answer.exp is not None
            and answer.exp > self._clock()
            and any(same_url(aud, self.resource_url) for aud in answer.audiences)
            and (answer.issuer is None or same_url(answer.issuer, self.issuer))
        )

    async def _answer(self, digest: bytes, token: str) -> Answer:
        async def ask() -> tuple[Answer, float]:
            answer = await self._introspect(token)
            until = self._clock() + self._cache_s
            return answer, min(until, answer.exp) if answer.exp is not None else until

        return await self._cache.get(digest, ask)

    async def _introspect(self, token: str) -> Answer:
        if self._client is None:
            raise IntrospectionUnavailable("the introspection client is not running")
        try:
            async with self._slots:
                self.introspections += 1
                response = await self._client.post(
                    self.endpoint,
                    data={"token": token},
                    auth=self._credentials,
                    headers={"accept": "application/json"},
                )
        except httpx2.TimeoutException as exc:
            raise self._unavailable("PropelAuth's introspection endpoint did not answer in time") from exc
        except httpx2.HTTPError as exc:
            raise self._unavailable(
                f"PropelAuth's introspection endpoint is unreachable ({type(exc).__name__})"
            ) from exc
        if response.status_code in (401, 403):
            raise self._unavailable(
                "PropelAuth refused the introspection client id/secret "
                "(PROPELAUTH_MCP_INTROSPECTION_CLIENT_ID / _SECRET)",
                status=response.status_code,
            )
        if response.status_code != 200:
            raise self._unavailable(
                f"PropelAuth's introspection endpoint answered HTTP {response.status_code}",
                status=response.status_code,
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise self._unavailable("the introspection answer is not JSON") from exc
        try:
            return Answer.parse(body)
        except IntrospectionUnavailable as exc:
            raise self._unavailable(exc.reason) from None

    def _unavailable(self, reason: str, *, status: int | None = None) -> IntrospectionUnavailable:
        _log.warning("introspection_unavailable", reason=reason, status=status, endpoint=self.endpoint)
        return IntrospectionUnavailable(reason)
