"""The one generic executor: validate, confirm, build the request, send, map the answer.

Every tool goes through `execute`; what differs between tools is data (the definition and the
catalog entry), never a branch on the tool name here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from tools.arguments import as_sent, without_unset
from tools.backend import ApiRequest, ApiResponse, Backend, BackendError
from tools.derive import catalog_entry, get_definition, lists_updated_fields
from tools.failures import http_failure, not_found_text, transport_failure, unexpected_answer
from tools.model import ToolDefinition, ToolOutcome
from tools.policy import is_confirmed
from tools.render import RENDERERS, full_name, name_text, when
from tools.untrusted import escaped, shown
from tools.validation import argument_errors

# The read behind every preview (the spec's operation, not a copy of its path).
PREVIEW_READ = "fetch_user_by_id"


async def execute(
    definition: ToolDefinition, arguments: Mapping[str, Any] | None, backend: Backend
) -> ToolOutcome:
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
    target = args.get(definition.target_user_argument) if definition.target_user_argument else None
    confirmed = is_confirmed(args) if definition.requires_confirmation else None

    if confirmed is False:
        outcome = await preview(definition, args, backend)
    else:
        outcome = await _send(definition, args, backend)
    outcome.confirmed = confirmed
    outcome.target_user_id = target
    return outcome


def normalise(definition: ToolDefinition, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments as sent (tools/arguments.py: optional ones given as null dropped, whole-number
    floats of integer fields as integers, UUIDs lower-cased), then the catalog's defaults."""
    schema = definition.input_schema
    args: dict[str, Any] = as_sent(schema, without_unset(schema, dict(arguments)))
    for name, value in catalog_entry(definition.name).applied_defaults.items():
        args.setdefault(name, value)
    return args


def build_request(definition: ToolDefinition, args: Mapping[str, Any]) -> ApiRequest:
    operation = definition.operation
    path = operation.path_template
    for argument, placeholder in operation.path_params.items():
        path = path.replace("{" + placeholder + "}", quote(str(args[argument]), safe=""))
    query = {name: _query_value(args[name]) for name in operation.query_params if args.get(name) is not None}
    body: dict[str, Any] | None = None
    if operation.has_body:
        body = {
            name: args[name] for name in operation.body_params if name in args
        }
    return ApiRequest(
        method=operation.method,
        path=path,
        query=query,
        json=body,
        changes_state=operation.changes_state,
    )


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
        # The service's body carries nothing to read (the official SDKs ignore it): report what we did.
        structured: dict[str, Any] = {"ok": True}
        if args.get("user_id") is not None:
            structured["user_id"] = args["user_id"]
        if lists_updated_fields(definition.operation):
            structured["updated"] = sorted((request.json or {}).keys())
        done = catalog_entry(definition.name).done or f"{definition.title}: done."
        text = done.format_map({name: shown(value) for name, value in args.items()})
        return ToolOutcome("ok", text, structured=structured, http_status=response.status, details=details)

    body = response.body
    if not isinstance(body, dict) or not definition.output_conforms(body):
        return unexpected_answer(definition, args, response)
    return ToolOutcome(
        "ok", renderer(body, args), structured=body, http_status=response.status, details=details
    )


async def preview(definition: ToolDefinition, args: dict[str, Any], backend: Backend) -> ToolOutcome:
    """Say what a confirm-gated call would do, to whom, reading the user first; change nothing."""
    user_id = str(args["user_id"])
    # A failed read is reported as what it is, a read: nothing was changed, whatever the gated tool does.
    read = get_definition(PREVIEW_READ)
    assert read is not None, PREVIEW_READ
    try:
        response = await backend.send(build_request(read, {"user_id": user_id}))
    except BackendError as error:
        failed = transport_failure(read, args, error)
        return _rejected_preview(
            definition, f"Could not fetch a preview: {failed.text}", None, failed.details
        )
    if response.status == 404:
        return _rejected_preview(
            definition, f"{not_found_text(definition, args)} Nothing to do.", 404, {"reason": "not_found"}
        )
    if not response.ok:
        failed = http_failure(read, args, response)
        return _rejected_preview(
            definition, f"Could not fetch a preview: {failed.text}", response.status, failed.details
        )
    user = response.body
    if not isinstance(user, dict) or user.get("user_id") != user_id:
        # Never a confirmation prompt for a user nobody could read.
        return _rejected_preview(
            definition,
            f"Could not fetch a preview: PropelAuth answered HTTP {response.status} with something "
            "that is not this user. Nothing was changed.",
            response.status,
            {"reason": "unexpected_response"},
        )
    consequence = catalog_entry(definition.name).consequence or f"run {definition.name} on"
    summary = {
        "email": user.get("email"),
        "name": full_name(user),
        "enabled": user.get("enabled"),
        "mfa_enabled": user.get("mfa_enabled"),
        "last_active": when(user.get("last_active_at")),
    }
    text = (
        f"Not done yet: this would {consequence} user {shown(user_id)} "
        f"({shown(summary['email'])}, {name_text(user)}; {'enabled' if summary['enabled'] else 'disabled'}; "
        f"2FA {'on' if summary['mfa_enabled'] else 'off'}; last active {summary['last_active']}). "
        f"If that is the right user, call {definition.name} again with the same arguments and confirm: true."
    )
    return _rejected_preview(
        definition, text, response.status, {"reason": "confirmation_required", "preview": summary}
    )


def _rejected_preview(
    definition: ToolDefinition, text: str, status: int | None, details: dict[str, Any]
) -> ToolOutcome:
    # Every caller names its reason; preview_of tells the audit that only the preview read was made.
    return ToolOutcome(
        "rejected", text, http_status=status, details={**details, "preview_of": definition.name}
    )
