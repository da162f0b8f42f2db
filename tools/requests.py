"""A call's arguments as PropelAuth takes them, and the HTTP request they make (no tool names here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from tools.arguments import as_sent, without_unset
from tools.backend import ApiRequest
from tools.model import ToolDefinition


def normalise(definition: ToolDefinition, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments as sent (tools/arguments.py: optional ones given as null dropped, whole-number
    floats of integer fields as integers, UUIDs lower-cased), then the catalog's defaults."""
    schema = definition.input_schema
    args: dict[str, Any] = as_sent(schema, without_unset(schema, dict(arguments)))
    for name, value in definition.entry.applied_defaults.items():
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
        body = {name: args[name] for name in operation.body_params if name in args}
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
