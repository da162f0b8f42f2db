"""A fast check of a PropelAuth answer against a tool's output schema.

Output schemas use only `type`, `properties`, `required`, `items` and `additionalProperties`
(tools/derive.py keeps no other keyword), so a direct walk decides conformance about ten times
faster than a general JSON Schema validator: this runs on every successful call. A property test
(tests/tools/test_shape.py) holds it to the same answers as jsonschema.
"""

from __future__ import annotations

from typing import Any

SUPPORTED_KEYWORDS = frozenset({"type", "properties", "required", "items", "additionalProperties"})

_TYPE_CHECKS: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def conforms(instance: Any, schema: dict[str, Any] | bool) -> bool:
    if isinstance(schema, bool):
        return schema
    if unsupported := schema.keys() - SUPPORTED_KEYWORDS:
        raise ValueError(f"output schemas may not use {sorted(unsupported)}")
    expected = schema.get("type")
    if expected is not None:
        types = expected if isinstance(expected, list) else [expected]
        if not any(_TYPE_CHECKS[name](instance) for name in types):
            return False
    if isinstance(instance, dict):
        return _object_conforms(instance, schema)
    if isinstance(instance, list) and "items" in schema:
        return all(conforms(item, schema["items"]) for item in instance)
    return True


def _object_conforms(instance: dict[str, Any], schema: dict[str, Any]) -> bool:
    if any(key not in instance for key in schema.get("required", ())):
        return False
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, value in instance.items():
        sub = properties.get(key, extra)
        if not conforms(value, sub):
            return False
    return True
