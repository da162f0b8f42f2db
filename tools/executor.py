"""The one generic executor: validate, confirm, build the request, send, map the answer.

Every tool goes through `execute`; what differs between tools is data (the definition and the
catalog entry), never a branch on the tool name here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.asking import Asking
from tools.backend import ApiRequest, ApiResponse, Backend, BackendError
from tools.confirmation import confirm_gated, confirm_sensitive
from tools.derive import lists_updated_fields
from tools.failures import http_failure, transport_failure, unexpected_answer
from tools.model import ToolDefinition, ToolOutcome
from tools.policy import is_confirmed
from tools.render import RENDERERS
from tools.requests import build_request, normalise
from tools.untrusted import escaped, shown
from tools.validation import argument_errors


async def execute(
    definition: ToolDefinition,
    arguments: Mapping[str, Any] | None,
    backend: Backend,
    asking: Asking | None = None,
) -> ToolOutcome:
    """One call. `asking` says how a gated call is confirmed (None: by `confirm: true` alone)."""
    asking = Asking() if asking is None else asking
    arguments = {} if arguments is None else arguments
    errors = argument_errors(definition.input_schema, arguments)
    if errors:
        return ToolOutcome(
            "rejected",
            # Field names in the messages are the caller's keys: escaped so none can start a line.
            f"Invalid arguments for {definition.name}, nothing was sent: "
            + "; ".join(map(escaped, errors))
            + ".",
            details={"reason": "invalid_arguments", "errors": errors},
        )
    args = normalise(definition, arguments)
    confirmed = is_confirmed(args) if definition.requires_confirmation else None

    async def send() -> ToolOutcome:
        return await _send(definition, args, backend)

    if definition.requires_confirmation:
        outcome = await confirm_gated(definition, args, backend, asking, send)
    elif definition.sensitive and asking.mode == "human":
        outcome = await confirm_sensitive(definition, args, backend, asking, send)
    else:
        outcome = await send()
    outcome.confirmed = confirmed
    outcome.target = definition.target_of(args)
    return outcome


async def _send(definition: ToolDefinition, args: dict[str, Any], backend: Backend) -> ToolOutcome:
    request = build_request(definition, args)
    try:
        response = await backend.send(request)
    except BackendError as error:
        return transport_failure(definition, args, error)
    if not response.ok:
        return http_failure(definition, args, response)
    return _success(definition, args, request, response)


def _success(
    definition: ToolDefinition, args: dict[str, Any], request: ApiRequest, response: ApiResponse
) -> ToolOutcome:
    renderer = RENDERERS.get(definition.operation.operation_id)
    details = {"attempts": response.attempts}
    if renderer is None:
        # The service's body carries nothing to read (the official SDKs ignore it): report what we did,
        # to what (the arguments naming the target).
        structured: dict[str, Any] = {"ok": True, **(definition.target_of(args) or {})}
        if lists_updated_fields(definition.operation):
            structured["updated"] = sorted((request.json or {}).keys())
        done = definition.entry.done or f"{definition.title}: done."
        text = done.format_map({name: shown(value) for name, value in args.items()})
        return ToolOutcome("ok", text, structured=structured, http_status=response.status, details=details)

    body = response.body
    key = definition.entry.result_key
    if key is not None and isinstance(body, list):
        body = {key: body}  # a JSON array on the wire; a tool's structured result is an object
    if not isinstance(body, dict) or not definition.output_conforms(body):
        return unexpected_answer(definition, args, response)
    return ToolOutcome(
        "ok", renderer(body, args), structured=body, http_status=response.status, details=details
    )
