"""The data the tool layer hands around: tool definitions and the outcome of one call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from tools.validation import conformance_check

Outcome = Literal["ok", "error", "rejected"]


@dataclass(frozen=True)
class Operation:
    """Where one spec operation lives on the wire and where each tool argument goes."""

    operation_id: str
    method: str  # upper case: GET, POST, PUT, DELETE
    path_template: str  # e.g. "/api/backend/v1/user/{userId}"
    path_params: dict[str, str]  # tool argument name -> spec parameter name ("user_id" -> "userId")
    query_params: tuple[str, ...]  # tool argument names sent in the query string
    body_params: tuple[str, ...]  # tool argument names sent in the JSON body
    has_body: bool  # the operation takes a JSON body (send {} when no body argument is given)

    @property
    def changes_state(self) -> bool:
        return self.method != "GET"


@dataclass(frozen=True)
class ToolDefinition:
    """One MCP tool: what agents see (name, schemas, hints) and the operation it drives."""

    name: str
    title: str
    description: str
    toolset: str  # one of: users, magic_links, access_tokens, migration, sessions, employees
    operation: Operation
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool
    requires_confirmation: bool  # the five confirm-gated tools
    target_user_argument: str | None  # the argument naming the user acted on, e.g. "user_id"

    @cached_property
    def output_conforms(self) -> Callable[[Any], bool]:
        """Whether an answer has the shape of `output_schema`, compiled on first use (jsonschema-rs)."""
        return conformance_check(self.output_schema)


@dataclass
class ToolOutcome:
    """What one tool call came to; the server turns it into a CallToolResult and an audit record."""

    outcome: Outcome
    text: str  # a short rendering for clients that read only text; for errors: what happened, what to do
    structured: dict[str, Any] | None = (
        None  # validates against the tool's output schema when outcome == "ok"
    )
    http_status: int | None = None  # the last PropelAuth status seen, if a request was made
    confirmed: bool | None = None  # for confirm-gated tools: whether confirm=true was given
    target_user_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # extra facts for the audit (attempts, reason code)

    @property
    def is_error(self) -> bool:
        return self.outcome != "ok"
