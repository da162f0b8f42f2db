"""One row of the tool table: everything about a tool that is not derived from the spec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tools.targets import TargetKind


@dataclass(frozen=True)
class StatusText:
    """What a PropelAuth status means for one operation, where it differs from the general meaning."""

    reason: str  # the audit's reason code, e.g. "not_found"
    text: str  # formatted with the arguments


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    operation_id: str
    title: str
    description: str
    toolset: str
    destructive: bool
    idempotent: bool
    # What the call acts on (None: nothing in particular, e.g. a search): the audit's `target`, the
    # not-found text, where to check a write, and for a gated tool how its preview is read and said.
    target: TargetKind | None = None
    # None: read-only exactly when the method is GET. Only a read sent as a POST (a batch fetch with a
    # body) says so here; derivation refuses a GET said to write, or a write said to be read-only.
    read_only: bool | None = None
    requires_confirmation: bool = False
    # Not destructive, but hands an account over (a sign-in link, a token, a password): a budget of its
    # own, and under --confirmation human the person's accept.
    sensitive: bool = False
    # For a gated or sensitive tool: what the call does, formatted with the preview's parts ({target},
    # ...) and the non-secret arguments, e.g. "permanently delete {target}"; the person is asked it.
    consequence: str | None = None
    # The result field that hands a credential to the caller alone (a sign-in link, a token): results
    # are never audited or logged, and the no-leak test checks this one reaches nothing but the caller.
    returned_secret: str | None = None
    # Statuses that mean something particular for this operation (e.g. a 403 that means "no such user").
    status_texts: Mapping[int, StatusText] = field(default_factory=dict)
    # Short agent-facing notes for individual arguments (spec descriptions are dropped).
    argument_notes: dict[str, str] = field(default_factory=dict)
    # Defaults the executor applies when the argument is absent (advertised as `default`, not required).
    applied_defaults: dict[str, Any] = field(default_factory=dict)
    # Extra keywords merged into the top of the input schema (e.g. minProperties).
    schema_extras: dict[str, Any] = field(default_factory=dict)
    # Text for a success without a response body, formatted with the arguments.
    done: str | None = None
    # For an operation that answers a JSON array (a batch fetch): the key it is returned under, since a
    # tool's structured result is an object.
    result_key: str | None = None


OPEN_WORLD = True  # every tool talks to PropelAuth, an external service
