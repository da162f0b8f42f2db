"""The operators' gate of `--auth propelauth`: a signed-in person must belong to the operators' org.

PropelAuth's MCP OAuth lets every user of the project sign in with an allowed client and consent to
any scope, so a scope says what an agent may do, not who the person is. With PROPELAUTH_MCP_OPERATORS_ORG
the server asks its own Backend API (its API key, never the caller's token) whether the signed-in user
is an enabled member of that organization (`GET /api/backend/v1/user/{id}?include_orgs=true`), and,
with PROPELAUTH_MCP_OPERATORS_ROLE, holds that role or one above it (the membership's
`inherited_user_roles_plus_current_role`).

Answers are cached by the token's SHA-256 for as long as the introspection answer may be (at most
`cache_s`, never past the token's expiry), and concurrent requests with one token make one read.
An unknown or disabled user is not an operator; a Backend API that cannot answer raises
OperatorsUnavailable (the gate answers 503, never lets the request pass). Nothing is cached then.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import anyio
import structlog

from server.answer_cache import MAX_ENTRIES, AnswerCache
from server.callers import Caller
from tools.backend import ApiRequest, Backend, BackendError

MEMBERSHIP_TIMEOUT_S = 10.0  # one request may not wait longer for the Backend API's retries
USER_PATH = "/api/backend/v1/user/{user_id}"

_log = structlog.get_logger("propelauth_mcp.operators")


class OperatorsUnavailable(Exception):
    """The Backend API gave no usable answer about the membership; `reason` says why (no token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_operator(user: Any, org_id: str, role: str | None) -> bool:
    """Whether a Backend API User (with `org_id_to_org_info`) is an enabled member of `org_id`, holding
    `role` or a role above it when one is required."""
    if not isinstance(user, dict) or user.get("enabled") is False:
        return False
    orgs = user.get("org_id_to_org_info")
    membership = orgs.get(org_id) if isinstance(orgs, dict) else None
    if not isinstance(membership, dict):
        return False
    if role is None:
        return True
    held = membership.get("inherited_user_roles_plus_current_role")
    return isinstance(held, list) and role in held


class OperatorsCheck:
    """Is this signed-in caller an operator? See the module docstring."""

    def __init__(
        self,
        backend: Callable[[], Backend | None],
        *,
        org_id: str,
        role: str | None = None,
        cache_s: float,
        timeout_s: float = MEMBERSHIP_TIMEOUT_S,
        max_cached: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._backend = backend  # the server's own PropelAuth client, once its lifespan has made it
        self.org_id = org_id
        self.role = role
        self._cache_s = cache_s
        self._timeout_s = timeout_s
        self._clock = clock
        self._cache: AnswerCache[bool] = AnswerCache(max_entries=max_cached, clock=clock)
        self.reads = 0  # Backend API reads made (for tests)

    async def allows(self, digest: bytes, caller: Caller, token_exp: float | None) -> bool:
        """Whether `caller` (whose token has SHA-256 `digest` and expires at `token_exp`) is an operator."""

        async def ask() -> tuple[bool, float]:
            until = self._clock() + self._cache_s
            return await self._read(caller), min(until, token_exp) if token_exp is not None else until

        return await self._cache.get(digest, ask)

    async def _read(self, caller: Caller) -> bool:
        backend = self._backend()
        if backend is None:
            raise self._unavailable("the server is still starting")
        assert caller.user_id is not None
        request = ApiRequest(
            "GET", USER_PATH.format(user_id=quote(caller.user_id, safe="")), query={"include_orgs": "true"}
        )
        self.reads += 1
        try:
            with anyio.fail_after(self._timeout_s):
                answer = await backend.send(request)
        except TimeoutError:
            raise self._unavailable("PropelAuth's Backend API did not answer in time") from None
        except BackendError as exc:
            reason = f"PropelAuth's Backend API cannot be asked ({type(exc).__name__})"
            raise self._unavailable(reason) from None
        if answer.status == 404:
            return False  # no such user (any more): not an operator
        if answer.status != 200:
            raise self._unavailable(f"PropelAuth's Backend API answered HTTP {answer.status}")
        if not isinstance(answer.body, dict):
            raise self._unavailable("PropelAuth's Backend API answer is not a user")
        return is_operator(answer.body, self.org_id, self.role)

    def _unavailable(self, reason: str) -> OperatorsUnavailable:
        _log.warning("operators_check_unavailable", reason=reason)
        return OperatorsUnavailable(reason)
