"""The bridge between MCP's elicitation and the tool layer's `Asking`: whether and how the person at
the client can be asked during this call, in this protocol era, over this transport.

- 2025-11-25 era: an `elicitation/create` request during the call (`ask_now`), when the client
  declared form elicitation and the transport can carry a server request (stdio and in memory; not
  our stateless HTTP).
- 2026-07-28 era: the multi-round-trip form. A first call answers `InputRequiredResult`; the retry
  carries the person's answer and our state, which the SDK's RequestStateBoundary has already
  unsealed and checked (a state of ours, for this tool and these arguments, not expired).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

import mcp.types as types
import structlog
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from tools.asking import Answer, Asking, ConfirmationMode, Sealer, SpentTokens
from tools.model import ToolOutcome

_log = structlog.get_logger("propelauth_mcp.server")

CONFIRM_KEY = "confirm"  # the one field of the form, and the key of the one input request
CONFIRM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [CONFIRM_KEY],
    "properties": {
        CONFIRM_KEY: {
            "type": "boolean",
            "title": "Confirm",
            "description": "Tick to go ahead; anything else changes nothing.",
            "default": False,
        }
    },
}


def is_modern(ctx: ServerRequestContext[Any]) -> bool:
    return ctx.protocol_version in MODERN_PROTOCOL_VERSIONS


def can_elicit_form(ctx: ServerRequestContext[Any]) -> bool:
    """The client declared form elicitation (a bare `elicitation: {}` means form, as the spec says).

    The SDK's own capability check cannot tell form from url-only; on 2026-07-28 the capabilities are
    this request's own, so the verdict is never carried over from an earlier request.
    """
    caps = ctx.session.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def answer_of(response: object) -> Answer:
    """The person's answer: accept only with the box ticked (`True` itself, not "true" or 1)."""
    if not isinstance(response, types.ElicitResult):
        return "cancel"  # not an answer to our form: nobody said yes
    if response.action == "accept":
        content = response.content or {}
        return "accept" if content.get(CONFIRM_KEY) is True else "decline"
    return response.action


class AskingBridge:
    """Builds the `Asking` of each call; holds what lives as long as the process."""

    def __init__(
        self,
        mode: ConfirmationMode,
        sealer: Sealer,
        *,
        elicitation_timeout_s: float,
        spent: SpentTokens | None = None,
    ) -> None:
        self.mode = mode
        self.sealer = sealer
        self.spent = spent or SpentTokens()
        self.elicitation_timeout_s = elicitation_timeout_s

    def asking(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams, caller: str | None
    ) -> Asking:
        base = Asking(mode=self.mode, caller=caller, sealer=self.sealer, spent=self.spent)
        if self.mode not in ("auto", "human"):
            return base  # preview and argument never ask
        if not is_modern(ctx):
            # inputResponses/requestState a 2025 client sends are not part of its era: ignored.
            if can_elicit_form(ctx) and ctx.session.can_send_request:
                return replace(base, ask_now=self._asker(ctx))
            return base
        state, answer = _retry_of(params)
        return replace(base, can_ask_later=can_elicit_form(ctx), state=state, answer=answer)

    def _asker(self, ctx: ServerRequestContext[Any]) -> Callable[[str], Awaitable[Answer]]:
        session, request_id, timeout_s = ctx.session, ctx.request_id, self.elicitation_timeout_s

        async def ask_now(message: str) -> Answer:
            request = types.ElicitRequest(
                params=types.ElicitRequestFormParams(message=message, requested_schema=CONFIRM_SCHEMA)
            )
            try:
                # Tied to this call, so it travels on the call's own stream; the SDK has no default
                # timeout, and on expiry it tells the client the question is withdrawn.
                result = await session.send_request(
                    request,
                    types.ElicitResult,
                    request_read_timeout_seconds=timeout_s,
                    metadata=ServerMessageMetadata(related_request_id=request_id),
                )
            except MCPError as exc:  # not supported after all, no back channel, timed out, closed
                _log.info("elicitation_unavailable", jsonrpc_code=exc.error.code)
                return "unavailable"
            except ValidationError:  # an answer that is not an elicitation result
                _log.info("elicitation_unavailable", reason="malformed_answer")
                return "unavailable"
            return answer_of(result)

        return ask_now


def _retry_of(params: types.CallToolRequestParams) -> tuple[Mapping[str, Any] | None, Answer | None]:
    """Our state and the person's answer on a retry; both or neither.

    `request_state` is plaintext here only because the boundary unsealed and verified it; an answer
    without our state (even on a first call) is plain client input and is ignored: the person is asked.
    """
    if params.request_state is None:
        return None, None
    responses = params.input_responses or {}
    if CONFIRM_KEY not in responses:
        return None, None
    try:
        state = json.loads(params.request_state)
    except ValueError:
        return None, None
    if not isinstance(state, dict):
        return None, None
    return state, answer_of(responses[CONFIRM_KEY])


def input_required_result(outcome: ToolOutcome) -> types.InputRequiredResult:
    """The question of an "input_required" outcome, as the 2026-07-28 form: one boolean to tick.

    The state goes out as plaintext JSON; the RequestStateBoundary seals it on the way out.
    """
    ask = outcome.details["ask"]
    question = types.ElicitRequest(
        params=types.ElicitRequestFormParams(message=ask["message"], requested_schema=CONFIRM_SCHEMA)
    )
    return types.InputRequiredResult(
        input_requests={CONFIRM_KEY: question},
        request_state=json.dumps(ask["state"], sort_keys=True, separators=(",", ":")),
    )
