"""The shape of an audit record, in one place: a call's intent and outcome, a refused message's outcome."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import structlog

from server.audit import AuditTrail, AuditUnavailable, clip_long_values
from server.callers import Caller
from tools import is_confirmed, redact_arguments
from tools.model import ToolDefinition

_log = structlog.get_logger("propelauth_mcp.server")


@dataclass(frozen=True)
class CallContext:
    call_id: str
    definition: ToolDefinition
    arguments: dict[str, Any]
    client: dict[str, str] | None
    caller: Caller | None  # None on stdio and in memory


def call_record(
    call: CallContext,
    *,
    kind: str,
    outcome: str | None,
    status: int | None,
    duration_ms: float | None,
    confirmed: bool | None = None,
    target: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    confirmation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The intent or outcome record of a call to a tool this server offers.

    `confirmation` (a gated call's, and under --confirmation human a sensitive one's): how it was
    confirmed ("argument", "preview", "human"), the person's answer and the message they saw.
    """
    definition = call.definition
    return {
        "kind": kind,
        "call_id": call.call_id,
        "tool": definition.name,
        "operation": definition.operation.operation_id,
        "arguments": clip_long_values(redact_arguments(call.arguments)),
        "target": clip_long_values(target or _target_of(call)),
        "confirmed": confirmed if confirmed is not None else _confirmed_of(call),
        "outcome": outcome,
        "http_status": status,
        "duration_ms": duration_ms,
        "client": call.client,
        **caller_fields(call.caller),
        **({"confirmation": clip_long_values(confirmation)} if confirmation else {}),
        **({"details": details} if details else {}),
    }


def _target_of(call: CallContext) -> dict[str, Any] | None:
    """What the call acts on, from its arguments as given (before the executor has normalised them)."""
    return call.definition.target_of(call.arguments)


def _confirmed_of(call: CallContext) -> bool | None:
    return is_confirmed(call.arguments) if call.definition.requires_confirmation else None


def rejection_record(
    reason: str,
    *,
    tool: str | None = None,
    client: dict[str, str] | None = None,
    caller: Caller | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The outcome record of a message refused before any tool ran (unknown tool, malformed message)."""
    return {
        "kind": "outcome",
        "call_id": uuid.uuid4().hex,
        "tool": clip_long_values(tool),
        "operation": None,
        "arguments": None,
        "target": None,
        "confirmed": None,
        "outcome": "rejected",
        "http_status": None,
        "duration_ms": 0.0,
        "client": client,
        **caller_fields(caller),
        "details": {"reason": reason, **(details or {})},
    }


def caller_fields(caller: Caller | None) -> dict[str, Any]:
    """`caller`: the stable name (a token's name, a PropelAuth user id); `caller_identity`: who PropelAuth
    says it is (user id, email, OAuth client id), null for a static token and on stdio. Never the token.
    """
    if caller is None:
        return {"caller": None, "caller_identity": None}
    return {"caller": caller.name, "caller_identity": caller.identity()}


def write_outcome(audit: AuditTrail, record: dict[str, Any], *, durable: bool = False) -> None:
    """The call (or refusal) already happened: a failed write is logged, not turned into a failed call."""
    try:
        audit.write(record, durable=durable)
    except AuditUnavailable as exc:
        _log.error("audit_write_failed", reason=str(exc), call_id=record["call_id"])


def audit_rejection(audit: AuditTrail, reason: str, details: dict[str, Any]) -> None:
    """Record a message the transport refused; a failed write is logged, as for any outcome."""
    write_outcome(audit, rejection_record(reason, tool=details.pop("tool", None), details=details))
