"""The data the tool layer hands around: tool definitions and the outcome of one call."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from tools.arguments import as_sent
from tools.shape import shape_check

if TYPE_CHECKING:
    from tools.catalog.entry import CatalogEntry
    from tools.targets import PreviewRead, TargetKind

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
    output_schema: dict[str, Any]
    read_only: bool  # from the method, unless the entry says otherwise (tools/derive.py checks it)
    open_world: bool
    preview: tuple[PreviewStep, ...] = ()  # the reads of a confirm-gated tool's preview, in order

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
        """Whether an answer has the shape of `output_schema`, compiled on first use (tools/shape.py)."""
        return shape_check(self.output_schema)


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
    target: dict[str, Any] | None = None  # the arguments naming what the call acted on
    details: dict[str, Any] = field(default_factory=dict)  # extra facts for the audit (attempts, reason code)

    @property
    def is_error(self) -> bool:
        return self.outcome != "ok"
