"""The data the tool layer hands around: tool definitions and the outcome of one call."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from tools.arguments import as_sent
from tools.validation import conformance_check

if TYPE_CHECKING:
    from tools.catalog.entry import CatalogEntry
    from tools.targets import PreviewRead, TargetKind

# "preview": a gated call's preview, an answer (nothing done); "declined": the person said no (nothing
# sent); "input_required": the person is to be asked first (the server puts the question to the client).
Outcome = Literal["ok", "error", "rejected", "preview", "declined", "input_required"]
Confirmation = dict[str, Any]  # {"method": ..., "answer": ..., "message": ...} (tools/confirmation.py)


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
    changes_state: bool  # a write: audited before it is sent, never retried once it may have arrived


@dataclass(frozen=True)
class PreviewStep:
    """One read behind a gated tool's preview, resolved at derivation (no lookup by name per call)."""

    definition: ToolDefinition
    read: PreviewRead


@dataclass(frozen=True)
class ToolDefinition:
    """One MCP tool: its catalog entry (what agents are told), the operation it drives, its schemas."""

    entry: CatalogEntry
    operation: Operation
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]  # advertised: the done shape, and for a gated tool the preview's too
    read_only: bool  # from the method, unless the entry says otherwise (tools/derive.py checks it)
    open_world: bool
    preview: tuple[PreviewStep, ...] = ()  # the reads of a confirm-gated tool's preview, in order
    # The shape of a successful answer alone (what PropelAuth's body is checked against); None: as
    # output_schema (a tool whose answer has no other shape).
    result_schema: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def title(self) -> str:
        return self.entry.title

    @property
    def description(self) -> str:
        return self.entry.description

    @property
    def toolset(self) -> str:
        return self.entry.toolset

    @property
    def destructive(self) -> bool:
        return self.entry.destructive

    @property
    def idempotent(self) -> bool:
        return self.entry.idempotent

    @property
    def requires_confirmation(self) -> bool:
        return self.entry.requires_confirmation

    @property
    def sensitive(self) -> bool:
        return self.entry.sensitive

    @property
    def target(self) -> TargetKind | None:
        return self.entry.target

    def target_of(self, arguments: Mapping[str, Any]) -> dict[str, Any] | None:
        """The arguments naming what the call acts on (for the audit), ids in PropelAuth's lower case."""
        if self.target is None:
            return None
        named = {name: arguments[name] for name in self.target.arguments if name in arguments}
        properties = self.input_schema.get("properties", {})
        return {name: as_sent(properties.get(name, True), value) for name, value in named.items()} or None

    @cached_property
    def output_conforms(self) -> Callable[[Any], bool]:
        """Whether an answer has the shape of a success, compiled on first use (jsonschema-rs)."""
        return conformance_check(self.output_schema if self.result_schema is None else self.result_schema)


@dataclass
class ToolOutcome:
    """What one tool call came to; the server turns it into a CallToolResult and an audit record."""

    outcome: Outcome
    text: str  # a short rendering for clients that read only text; for errors: what happened, what to do
    # Validates against the tool's output schema whenever the outcome is not an error.
    structured: dict[str, Any] | None = None
    http_status: int | None = None  # the last PropelAuth status seen, if a request was made
    confirmed: bool | None = None  # for confirm-gated tools: whether confirm=true was given
    target: dict[str, Any] | None = None  # the arguments naming what the call acted on
    details: dict[str, Any] = field(default_factory=dict)  # extra facts for the audit (attempts, reason code)
    # For a gated call (and a sensitive one under --confirmation human): how it was confirmed, the
    # person's answer and the message they saw; the audit record carries it.
    confirmation: Confirmation | None = None

    @property
    def is_error(self) -> bool:
        # A preview, a decline and a question to the person are answers: the model should not retry.
        return self.outcome in ("error", "rejected")
