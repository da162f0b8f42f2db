"""Which of the server's tools one caller may use, and the tools/list answer for them, computed once.

Always within the server's own exposure (--read-only, --toolsets, --tools, --exclude-tools win):
  - no Caller (stdio, in memory): the whole exposure;
  - an OAuth caller (scopes, or a PropelAuth user id): the union of what its scopes allow in
    PROPELAUTH_MCP_SCOPES; a scope not listed allows nothing, so no listed scope means no tools;
  - a static token's caller: its name's policy in PROPELAUTH_MCP_TOKEN_POLICIES; a name not listed
    gets the whole exposure (what every token had before policies existed).

Callers share answers: one frozenset and one ListToolsResult per distinct allowed set, not per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import mcp.types as types

from server.callers import Caller
from tools import ExposurePolicy
from tools.model import ToolDefinition


def is_oauth(caller: Caller) -> bool:
    """Signed in with PropelAuth (an introspected token), as opposed to a named static token."""
    return bool(caller.scopes) or caller.user_id is not None


class CallerTools:
    def __init__(
        self,
        exposed: Mapping[str, types.Tool],
        definitions: Iterable[ToolDefinition],
        *,
        token_policies: Mapping[str, ExposurePolicy],
        scope_policies: Mapping[str, ExposurePolicy],
    ) -> None:
        """`exposed`: the server's tools in listing order; `definitions`: every tool there is."""
        definitions = tuple(definitions)
        self._tools = dict(exposed)
        self.everything = frozenset(self._tools)
        self._by_token = {name: self._within(p, definitions) for name, p in token_policies.items()}
        self._by_scope = {scope: self._within(p, definitions) for scope, p in scope_policies.items()}
        self._by_scopes: dict[frozenset[str], frozenset[str]] = {}
        self._listings: dict[frozenset[str], types.ListToolsResult] = {}

    def _within(self, policy: ExposurePolicy, definitions: tuple[ToolDefinition, ...]) -> frozenset[str]:
        return frozenset(d.name for d in policy.exposed(definitions)) & self.everything

    def allowed(self, caller: Caller | None) -> frozenset[str]:
        if caller is None:
            return self.everything
        if not is_oauth(caller):
            return self._by_token.get(caller.name, self.everything)
        granting = frozenset(self._by_scope.keys() & caller.scopes)  # a bounded key: configured scopes
        allowed = self._by_scopes.get(granting)
        if allowed is None:
            allowed = frozenset().union(*(self._by_scope[scope] for scope in granting))
            self._by_scopes[granting] = allowed
        return allowed

    def listing(self, caller: Caller | None) -> types.ListToolsResult:
        allowed = self.allowed(caller)
        listing = self._listings.get(allowed)
        if listing is None:
            chosen = [tool for name, tool in self._tools.items() if name in allowed]
            listing = self._listings[allowed] = types.ListToolsResult(tools=chosen)
        return listing

    def scope_allowing(self, tool: str) -> str | None:
        """The first configured scope (in the operator's order) whose policy allows `tool`."""
        return next((scope for scope, names in self._by_scope.items() if tool in names), None)
