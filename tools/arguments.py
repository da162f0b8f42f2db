"""Arguments in the form PropelAuth takes them, driven by the tool's input schema (no tool names here).

null for an optional argument means "not given": the advertised schema allows it (tools/derive.py),
and it is dropped before anything else. JSON Schema counts 2.0 as an integer and models often send
one, but PropelAuth refuses it: a whole number sent for an integer field goes out as an integer.
PropelAuth knows ids only in lower case.
"""

from __future__ import annotations

from typing import Any


def schema_types(schema: dict[str, Any]) -> tuple[str, ...]:
    """The JSON types a schema names: "type" may be one name or a list of them."""
    kind = schema.get("type", ())
    return (kind,) if isinstance(kind, str) else tuple(kind)


def without_unset(schema: dict[str, Any], arguments: Any) -> Any:
    """`arguments` without the optional ones given as null; a required null or an unknown name stays."""
    if not isinstance(arguments, dict) or None not in arguments.values():
        return arguments
    properties = schema.get("properties", {})
    required = schema.get("required", ())
    return {
        name: value
        for name, value in arguments.items()
        if value is not None or name not in properties or name in required
    }


def as_sent(schema: dict[str, Any] | bool, value: Any) -> Any:
    """`value` (already valid against `schema`) as it goes on the wire, nested values included."""
    if not isinstance(schema, dict):
        return value  # `true`: free-form content, sent as given
    if isinstance(value, float):
        kinds = schema_types(schema)
        return int(value) if value.is_integer() and "integer" in kinds and "number" not in kinds else value
    if isinstance(value, str):
        return value.lower() if schema.get("format") == "uuid" else value
    if isinstance(value, dict) and (
        "properties" in schema or isinstance(schema.get("additionalProperties"), dict)
    ):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        return {name: as_sent(properties.get(name, extra), item) for name, item in value.items()}
    if isinstance(value, list) and "items" in schema:
        return [as_sent(schema["items"], item) for item in value]
    return value
