"""The MCP authorization spec's scope challenge: an OAuth caller's tools/call that another scope would allow.

The caller signed in with too few scopes for this tool, but a configured scope (PROPELAUTH_MCP_SCOPES)
allows it: the answer is HTTP 403 with
`WWW-Authenticate: Bearer error="insufficient_scope", scope="<its scopes and one that allows it>",
resource_metadata="<PRM URL>"`, so that the client can ask the person to sign in again with more
(step-up). A tool no scope allows, or one the server does not offer, goes on to the MCP server, which
answers with a JSON-RPC error as for any caller. Static tokens and stdio never come here.

It sits after BufferedBody (the whole body is in the first message) and before admission, so a
refused call never takes a slot.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.audit import AuditTrail
from server.audit_records import rejection_record, write_outcome
from server.caller_policies import is_scope_token
from server.caller_tools import CallerTools, is_oauth
from server.callers import Caller, caller_in
from server.http_auth import send_refusal
from server.tool_service import NOT_ALLOWED_FOR_CALLER


def called_tool(body: bytes) -> str | None:
    """The tool a JSON-RPC tools/call request names; None for anything else (the SDK judges that)."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return None
    params = message.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    return name if isinstance(name, str) else None


class ScopeChallenge:
    def __init__(
        self, app: ASGIApp, tools: CallerTools, audit: AuditTrail, *, resource_metadata: str
    ) -> None:
        self.app = app
        self.tools = tools
        self.audit = audit
        self.resource_metadata = resource_metadata

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = caller_in(scope)
        if scope["type"] != "http" or caller is None or not is_oauth(caller):
            await self.app(scope, receive, send)
            return
        first = await receive()  # BufferedBody hands the whole body over in one message
        tool = called_tool(first.get("body", b"")) if first["type"] == "http.request" else None
        needed = self._scope_needed(caller, tool) if tool is not None else None
        if tool is not None and needed is not None:
            self._audit(caller, tool, needed)
            await self._challenge(send, caller, needed)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return first
            return await receive()

        await self.app(scope, replay, send)

    def _scope_needed(self, caller: Caller, tool: str) -> str | None:
        if tool not in self.tools.everything or tool in self.tools.allowed(caller):
            return None  # not offered at all (the server says so), or allowed: none of our business
        return self.tools.scope_allowing(tool)

    def _audit(self, caller: Caller, tool: str, needed: str) -> None:
        details = {"challenge": "insufficient_scope", "scope_needed": needed}
        record = rejection_record(NOT_ALLOWED_FOR_CALLER, tool=tool, caller=caller, details=details)
        write_outcome(self.audit, record)

    async def _challenge(self, send: Send, caller: Caller, needed: str) -> None:
        # Only RFC 6749 scope tokens go into the header: nothing an issuer sent can break out of it.
        scopes = " ".join([*sorted(s for s in caller.scopes if is_scope_token(s)), needed])
        description = "this tool needs another scope; sign in again granting it"
        challenge = (
            f'Bearer error="insufficient_scope", scope="{scopes}", '
            f'resource_metadata="{self.resource_metadata}", error_description="{description}"'
        )
        body = {"error": "insufficient_scope", "error_description": description}
        await send_refusal(send, 403, body, [(b"www-authenticate", challenge.encode())])
