"""One tool call end to end, for every transport: exposure, execution, abnormal ends, the outcome record."""

from __future__ import annotations

import time
import traceback
import uuid
from collections.abc import Mapping
from typing import Any

import anyio
import mcp.types as types
import structlog
from mcp.shared.exceptions import MCPError

from server.asking import input_required_result
from server.audit import AuditTrail
from server.audit_records import CallContext, call_record, rejection_record, write_outcome
from server.caller_policies import parse_scope_policies, parse_token_policies
from server.caller_tools import CallerTools
from server.callers import Caller
from server.guards import AuditedBackend
from server.limits import SlidingWindowLimit
from server.settings import Settings
from tools import ExposurePolicy, execute, tool_definitions, tool_listing
from tools.asking import Asking
from tools.backend import Backend
from tools.failures import check_hint
from tools.model import ToolDefinition, ToolOutcome

_log = structlog.get_logger("propelauth_mcp.server")


def to_mcp_tool(definition: ToolDefinition) -> types.Tool:
    # tools.tool_listing is the one description of the surface (the committed snapshot checks it).
    return types.Tool.model_validate(tool_listing(definition))


def to_call_result(outcome: ToolOutcome) -> types.CallToolResult | types.InputRequiredResult:
    if outcome.outcome == "input_required":  # 2026-07-28: the person is asked before anything is sent
        return input_required_result(outcome)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=outcome.text)],
        structured_content=outcome.structured,
        is_error=outcome.is_error,
    )


class ToolService:
    """Everything one tool call needs besides the MCP plumbing; shared by all transports."""

    def __init__(self, settings: Settings, audit: AuditTrail) -> None:
        policy = ExposurePolicy(
            read_only=settings.read_only,
            toolsets=settings.toolsets,
            tools=settings.tools,
            exclude_tools=settings.exclude_tools,
        )
        self.exposed = {d.name: d for d in policy.exposed(tool_definitions())}
        self.caller_tools = CallerTools(
            {name: to_mcp_tool(d) for name, d in self.exposed.items()},
            tool_definitions(),
            token_policies=parse_token_policies(settings.token_policies) if settings.token_policies else {},
            scope_policies=parse_scope_policies(settings.scope_policies) if settings.scope_policies else {},
        )
        self.listing = self.caller_tools.listing(None)  # the whole exposure
        self.audit = audit
        self.limit = SlidingWindowLimit(settings.destructive_limit, settings.destructive_window_s)
        self.sensitive_limit = SlidingWindowLimit(settings.sensitive_limit, settings.sensitive_window_s)

    async def call(
        self,
        backend: Backend,
        name: str,
        arguments: dict[str, Any],
        *,
        client: dict[str, str] | None,
        caller: Caller | None,
        asking: Asking | None = None,
    ) -> types.CallToolResult | types.InputRequiredResult:
        """`asking`: how a gated call may be confirmed (None: by `confirm: true` alone)."""
        started = time.perf_counter()
        call_id = uuid.uuid4().hex
        caller_name = caller.name if caller else None
        with structlog.contextvars.bound_contextvars(call_id=call_id, tool=name, caller=caller_name):
            definition = self.exposed.get(name)
            if definition is None:
                self._audit_refused("unknown_tool", call_id, name, client, caller)
                raise MCPError(
                    code=types.INVALID_PARAMS, message=f"Unknown tool: {name!r} is not offered by this server"
                )
            if name not in self.caller_tools.allowed(caller):  # before its arguments are even looked at
                self._audit_refused(NOT_ALLOWED_FOR_CALLER, call_id, name, client, caller)
                raise not_allowed_error(name)
            call = CallContext(call_id, definition, arguments, client, caller)
            audited = AuditedBackend(backend, call, self.audit, self.limit, self.sensitive_limit)
            try:
                outcome = await execute(definition, arguments, audited, asking)
            except anyio.get_cancelled_exc_class():
                # The client cancelled (or the server is stopping): no answer goes out, but the audit
                # still tells how the call ended. A synchronous write: nothing here awaits.
                self._write_cancelled(call, audited, started)
                raise
            except Exception as exc:  # anything of ours that broke: a tool error, never a protocol error
                outcome = internal_error(
                    definition, arguments, exc, may_have_reached=audited.may_have_reached
                )
            duration_ms = _elapsed_ms(started)
            record = call_record(
                call,
                kind="outcome",
                outcome=outcome.outcome,
                status=outcome.http_status,
                duration_ms=duration_ms,
                confirmed=outcome.confirmed,
                target=outcome.target,
                details=_audited_details(outcome),
                confirmation=outcome.confirmation,
            )
            write_outcome(self.audit, record, durable=audited.intent_written)
            return to_call_result(outcome)

    def _write_cancelled(self, call: CallContext, audited: AuditedBackend, started: float) -> None:
        details = {"reason": "cancelled", "may_have_reached": audited.may_have_reached}
        record = call_record(
            call,
            kind="outcome",
            outcome="cancelled",
            status=None,
            duration_ms=_elapsed_ms(started),
            details=details,
        )
        write_outcome(self.audit, record, durable=audited.intent_written)

    def listing_for(self, caller: Caller | None) -> types.ListToolsResult:
        """tools/list: only the tools this caller may use (one shared answer per distinct set)."""
        return self.caller_tools.listing(caller)

    def _audit_refused(
        self, reason: str, call_id: str, name: str, client: dict[str, str] | None, caller: Caller | None
    ) -> None:
        record = rejection_record(reason, tool=name, client=client, caller=caller)
        write_outcome(self.audit, {**record, "call_id": call_id})


NOT_ALLOWED_FOR_CALLER = "not_allowed_for_caller"


def not_allowed_error(name: str) -> MCPError:
    """Like an unknown tool (the caller cannot see it in tools/list), but saying why."""
    return MCPError(
        code=types.INVALID_PARAMS,
        message=f"Unknown tool: {name!r} is not offered to this caller",
        data={"reason": NOT_ALLOWED_FOR_CALLER},
    )


def _audited_details(outcome: ToolOutcome) -> dict[str, Any]:
    # The question's state travels sealed to the client; the audit keeps the message (in confirmation).
    return {key: value for key, value in outcome.details.items() if key != "ask"}


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def internal_error(
    definition: ToolDefinition, arguments: Mapping[str, Any], exc: Exception, *, may_have_reached: bool
) -> ToolOutcome:
    """An exception on the call path, said in one line: its type only (its text may hold values)."""
    error_type = type(exc).__name__
    _log.error("tool_internal_error", error_type=error_type, where=_where(exc))
    text = f"{definition.name} failed inside this server ({error_type})."
    if definition.operation.changes_state and may_have_reached:
        text += f" The request may have reached PropelAuth; {check_hint(definition, arguments)}."
    elif definition.operation.changes_state:
        text += " Nothing was sent to PropelAuth. Try again; if it repeats, report it to the operator."
    else:
        text += " Nothing was changed. Try again; if it repeats, report it to the operator."
    details = {"reason": "internal_error", "error_type": error_type, "may_have_reached": may_have_reached}
    return ToolOutcome("error", text, details=details)


def _where(exc: BaseException) -> str | None:
    """file:line of the innermost frame: enough to find the bug, without the exception's text."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None
