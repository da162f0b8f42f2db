"""Build the ToolDefinitions from the spec and the catalog.

Input schema: the operation's path, query and body parameters merged into one self-contained object
schema (refs inlined, vendor keys and spec prose dropped, snake_case names). Output schema: the 2xx
response schema, lean (types and structure only), or a small `{ok, user_id}` object for operations
whose response carries nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import string
from typing import Any

from schemas import load_spec
from tools.catalog import CATALOG, OPEN_WORLD, CatalogEntry
from tools.catalog.excluded import EXCLUDED
from tools.model import Operation, PreviewStep, ToolDefinition
from tools.secrets import SECRET_ARGUMENTS
from tools.tokens import TOKEN_ARGUMENT
from tools.validation import WEB_URL_PATTERN

_METHODS = ("get", "put", "post", "delete", "patch")

# Keywords worth their tokens to an agent choosing arguments (everything else is dropped).
_INPUT_KEYWORDS = frozenset(
    {
        "type",
        "format",
        "enum",
        "minimum",
        "maximum",
        "minLength",
        "default",
        "items",
        "properties",
        "required",
        "additionalProperties",
        "pattern",
    }
)
# Output schemas describe shape only; formats and defaults would cost tokens and say little.
_OUTPUT_KEYWORDS = frozenset({"type", "properties", "required", "items", "additionalProperties"})
# Formats that carry no checkable meaning ("password" is a UI hint).
_DROPPED_FORMATS = frozenset({"password"})

CONFIRM_ARGUMENT = "confirm"
_CONFIRM_SCHEMA = {"type": "boolean", "description": "omit for a preview"}
# Its name says it, and the preview's text says where it goes: no description (the token budget).
_TOKEN_SCHEMA = {"type": "string"}

# The answers of a gated or sensitive tool that are not a success, over one properties map (the
# client checks every non-error result against the output schema). Shape only, as every output schema.
_PREVIEW_PROPERTIES: dict[str, Any] = {
    "confirmation_required": {"type": "boolean"},
    "preview": {"type": "object"},
    "confirmation_token": {"type": ["string", "null"]},
    "expires_in_s": {"type": ["integer", "null"]},
}
_DECLINED_PROPERTIES: dict[str, Any] = {"declined": {"type": "boolean"}, "answer": {"type": "string"}}


class SpecError(ValueError):
    """The spec and the catalog do not fit together (a programming error, found at start-up)."""


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise SpecError(f"external $ref not supported: {ref}")
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def _clean(spec: dict[str, Any], node: Any, keep: frozenset[str], *, shallow_maps: bool = False) -> Any:
    """Inline refs and keep only the `keep` keywords, recursively.

    shallow_maps: the values of a map (`additionalProperties`) keep only their type; used for output
    schemas, where e.g. the org memberships' full shape would cost ~500 bytes per User schema.
    """
    if isinstance(node, bool) or not isinstance(node, dict):
        return node
    node = _resolve(spec, node)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in keep:
            continue
        if key == "properties":
            out[key] = {
                name: _clean(spec, sub, keep, shallow_maps=shallow_maps) for name, sub in value.items()
            }
        elif key == "additionalProperties" and shallow_maps and isinstance(value, dict):
            out[key] = {"type": _resolve(spec, value)["type"]}
        elif key in ("items", "additionalProperties"):
            out[key] = _clean(spec, value, keep, shallow_maps=shallow_maps)
        elif key == "format" and value in _DROPPED_FORMATS:
            continue
        else:
            out[key] = value
    if out.get("format") == "uri" and "pattern" in keep:
        out["pattern"] = WEB_URL_PATTERN
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or null: for an optional argument null means "not given" (tools/arguments.py drops it).

    Clients that make every field required (the OpenAI Agents SDK in strict mode) send null for the
    ones the model leaves out. Every keyword kept here other than "type" and "enum" applies to one JSON
    type and so already lets null pass: no anyOf is needed.
    """
    out = dict(schema)
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    kind = out.get("type")
    if isinstance(kind, str) and kind != "null":
        out["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        out["type"] = [*kind, "null"]
    return out


def _find_operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in spec["paths"].items():
        for method in _METHODS:
            if method in item:
                op = item[method]
                found[op["operationId"]] = (method.upper(), path, op)
    return found


def _success_schema(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    """The 2xx JSON schema, or None when the response carries nothing to read (Empty)."""
    for status, response in op["responses"].items():
        if not str(status).startswith("2"):
            continue
        response = _resolve(spec, response)
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None or schema.get("$ref") == "#/components/schemas/Empty":
            return None
        return _resolve(spec, schema)
    raise SpecError(f"{op['operationId']}: no 2xx response")


def _no_body_output_schema(target: tuple[str, ...], lists_updated_fields: bool) -> dict[str, Any]:
    """`{ok}` and the arguments naming the target (what was acted on), for a body that says nothing."""
    properties: dict[str, Any] = {"ok": {"type": "boolean"}}
    properties.update({name: {"type": "string"} for name in target})
    if lists_updated_fields:
        properties["updated"] = {"type": "array", "items": {"type": "string"}}
    return {"type": "object", "required": ["ok"], "properties": properties}


def lists_updated_fields(operation: Operation) -> bool:
    """PUTs with a body report which fields they sent: the agent sees what changed."""
    return operation.method == "PUT" and bool(operation.body_params)


def _read_only(entry: CatalogEntry, method: str) -> bool:
    """Read-only exactly when the method is GET, unless the entry says a POST only reads.

    As github-mcp-server does when registering tools, a contradiction is a start-up error: a GET said
    to write, or a tool said to be read-only that destroys, needs confirmation or is not repeatable.
    """
    if entry.read_only is None:
        return method == "GET"
    if method == "GET":
        raise SpecError(f"{entry.name}: a GET is read-only; drop read_only from its entry")
    if entry.read_only and (entry.destructive or entry.requires_confirmation or not entry.idempotent):
        raise SpecError(f"{entry.name}: said to be read-only, but destructive, gated or not idempotent")
    if not entry.read_only:
        raise SpecError(f"{entry.name}: a {method} is a write already; drop read_only from its entry")
    return True


def _check_target(entry: CatalogEntry, properties: dict[str, Any]) -> None:
    target = entry.target
    if target is not None and not set(target.arguments) <= properties.keys():
        raise SpecError(f"{entry.name}: its target names arguments it does not have: {target.arguments}")
    if entry.requires_confirmation and (target is None or target.preview is None or not entry.consequence):
        raise SpecError(f"{entry.name}: a gated tool needs a target with a preview and a consequence")
    if entry.sensitive and not entry.consequence:
        raise SpecError(f"{entry.name}: a sensitive tool needs a consequence (the person may be asked it)")
    named = {field for _, field, _, _ in string.Formatter().parse(entry.consequence or "") if field}
    if named & SECRET_ARGUMENTS:
        raise SpecError(f"{entry.name}: its consequence would show a secret to the person: {sorted(named)}")


def _with_answers(schema: dict[str, Any], extra: dict[str, Any], required: list[list[str]]) -> dict[str, Any]:
    """`schema` that also admits the `extra` answers: one properties map, an anyOf of required-sets."""
    clash = schema.get("properties", {}).keys() & extra.keys()
    if clash or schema.get("type") != "object":
        raise SpecError(f"an output schema cannot take the confirmation answers: {sorted(clash)}")
    out = {key: value for key, value in schema.items() if key != "required"}
    out["properties"] = {**schema.get("properties", {}), **extra}
    out["anyOf"] = [{"required": names} for names in [schema.get("required", []), *required]]
    return out


def _answer_schemas(entry: CatalogEntry, result: dict[str, Any]) -> dict[str, Any]:
    """The advertised output schema: the success, and a gated tool's preview, and a decline."""
    if entry.requires_confirmation:
        extra = {**_PREVIEW_PROPERTIES, **_DECLINED_PROPERTIES}
        return _with_answers(result, extra, [["confirmation_required", "preview"], ["declined"]])
    if entry.sensitive:
        return _with_answers(result, _DECLINED_PROPERTIES, [["declined"]])
    return result


def _derive_one(
    spec: dict[str, Any], entry: CatalogEntry, method: str, path: str, op: dict[str, Any]
) -> ToolDefinition:
    properties: dict[str, Any] = {}
    required: list[str] = []
    path_params: dict[str, str] = {}
    query_params: list[str] = []
    body_params: list[str] = []

    def add(name: str, schema: Any, is_required: bool) -> None:
        if name in properties:
            raise SpecError(f"{entry.name}: argument {name!r} appears twice")
        properties[name] = _clean(spec, schema, _INPUT_KEYWORDS)
        if is_required:
            required.append(name)

    for raw in op.get("parameters", []):
        param = _resolve(spec, raw)
        name = snake_case(param["name"])
        if param["in"] == "path":
            path_params[name] = param["name"]
        elif param["in"] == "query":
            query_params.append(name)
        else:
            raise SpecError(f"{entry.name}: unsupported parameter location {param['in']!r}")
        add(name, param["schema"], bool(param.get("required")) or param["in"] == "path")

    has_body = "requestBody" in op
    if has_body:
        body = _resolve(spec, op["requestBody"])
        body_schema = _resolve(spec, body["content"]["application/json"]["schema"])
        body_required = set(body_schema.get("required", ())) if body.get("required") else set()
        for name, schema in body_schema.get("properties", {}).items():
            body_params.append(name)
            add(name, schema, name in body_required)

    for name, note in entry.argument_notes.items():
        properties[name]["description"] = note
    for name, value in entry.applied_defaults.items():
        properties[name]["default"] = value
        if name in required:
            required.remove(name)
    if entry.requires_confirmation:
        properties[CONFIRM_ARGUMENT] = dict(_CONFIRM_SCHEMA)
        properties[TOKEN_ARGUMENT] = dict(_TOKEN_SCHEMA)
    for name in properties.keys() - set(required):
        properties[name] = _nullable(properties[name])

    input_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        input_schema["required"] = required
    input_schema["additionalProperties"] = False
    input_schema.update(entry.schema_extras)
    _check_target(entry, properties)
    read_only = _read_only(entry, method)

    operation = Operation(
        operation_id=entry.operation_id,
        method=method,
        path_template=path,
        path_params=path_params,
        query_params=tuple(query_params),
        body_params=tuple(body_params),
        has_body=has_body,
        changes_state=not read_only,
    )
    success = _success_schema(spec, op)
    if success is None:
        target = entry.target.arguments if entry.target else ()
        output_schema = _no_body_output_schema(target, lists_updated_fields(operation))
    else:
        output_schema = _clean(spec, success, _OUTPUT_KEYWORDS, shallow_maps=True)
        if output_schema.get("type") == "array" and entry.result_key:
            output_schema = {
                "type": "object",
                "required": [entry.result_key],
                "properties": {entry.result_key: output_schema},
            }
        if output_schema.get("type") != "object":
            raise SpecError(f"{entry.name}: the 2xx schema is not an object (an array needs a result_key)")

    advertised = _answer_schemas(entry, output_schema)
    return ToolDefinition(
        entry=entry,
        operation=operation,
        input_schema=input_schema,
        output_schema=advertised,
        read_only=read_only,
        open_world=OPEN_WORLD,
        result_schema=None if advertised is output_schema else output_schema,
    )


def _with_preview(definition: ToolDefinition, by_name: dict[str, ToolDefinition]) -> ToolDefinition:
    """A gated (or sensitive) tool with its preview's reads resolved: each a read-only tool taking those
    arguments. A sensitive tool's target is read before the person is asked about it."""
    target = definition.target
    asks = definition.requires_confirmation or definition.sensitive
    if not asks or target is None or target.preview is None:
        return definition
    steps = []
    for read in target.preview.reads:
        found = by_name.get(read.tool)
        if found is None or not found.read_only:
            raise SpecError(f"{definition.name}: its preview reads {read.tool!r}, which is no read-only tool")
        unknown = (set(read.passed) | set(read.fixed)) - found.input_schema["properties"].keys()
        if unknown or not set(read.passed) <= definition.input_schema["properties"].keys():
            raise SpecError(f"{definition.name}: its preview read {read.tool} does not fit {sorted(unknown)}")
        steps.append(PreviewStep(found, read))
    return dataclasses.replace(definition, preview=tuple(steps))


def derive_definitions(
    spec: dict[str, Any],
    catalog: tuple[CatalogEntry, ...] = CATALOG,
    excluded: dict[str, tuple[str, str]] = EXCLUDED,
) -> tuple[ToolDefinition, ...]:
    operations = _find_operations(spec)
    catalogued = {entry.operation_id for entry in catalog}
    missing = catalogued - operations.keys()
    if missing:
        raise SpecError(f"operations not in the spec: {sorted(missing)}")
    both = catalogued & excluded.keys()
    if both:
        raise SpecError(f"operations both excluded and catalogued: {sorted(both)}")
    # Every operation of the spec is a tool, or excluded with a reason: a new one must not go unnoticed.
    uncatalogued = operations.keys() - catalogued - excluded.keys()
    if uncatalogued:
        raise SpecError(f"spec operations with no catalog entry: {sorted(uncatalogued)}")
    derived = [_derive_one(spec, entry, *operations[entry.operation_id]) for entry in catalog]
    by_name = {definition.name: definition for definition in derived}
    if len(by_name) != len(derived):
        raise SpecError("two catalog entries have the same name")
    return tuple(_with_preview(definition, by_name) for definition in derived)


@functools.cache
def tool_definitions() -> tuple[ToolDefinition, ...]:
    """All tool definitions, derived once per process. Treat the schemas as read-only."""
    return derive_definitions(load_spec())


@functools.cache
def _by_name() -> dict[str, ToolDefinition]:
    return {definition.name: definition for definition in tool_definitions()}


def get_definition(name: str) -> ToolDefinition | None:
    return _by_name().get(name)
