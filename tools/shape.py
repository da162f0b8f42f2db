"""Compiled checks for the small subset of JSON Schema the tools use, on every call.

A general JSON Schema validator is slow per call: it walks the schema and builds error objects on
every instance. The schemas here use few keywords, so each one is compiled once into plain functions
that only answer "conforms or not":

- output schemas (`SHAPE_KEYWORDS`; tools/derive.py keeps no other keyword) check each PropelAuth
  answer before it is handed on;
- input schemas (`ARGUMENT_KEYWORDS`) let valid arguments through at once; only invalid ones go to
  jsonschema, which says what is wrong (tools/validation.py).

Property tests hold both to the same answers as jsonschema (tests/tools/test_shape.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

SHAPE_KEYWORDS = frozenset({"type", "properties", "required", "items", "additionalProperties"})
ARGUMENT_KEYWORDS = SHAPE_KEYWORDS | {
    "format",
    "enum",
    "pattern",
    "minLength",
    "minimum",
    "maximum",
    "minProperties",
}
_ANNOTATIONS = frozenset({"description", "default", "title", "examples"})  # never change the answer

Check = Callable[[Any], bool]
FormatCheck = Callable[[Any, str], bool]  # (instance, format name) -> conforms

_PYTHON_TYPES: dict[str, type] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}
_NUMBER_CHECKS: dict[str, Check] = {  # bool is an int in Python, never a number in JSON
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


def shape_check(schema: dict[str, Any] | bool) -> Check:
    """Compile an output schema; a keyword outside `SHAPE_KEYWORDS` is refused (ValueError)."""
    return compile_check(schema, SHAPE_KEYWORDS)


def compile_check(
    schema: dict[str, Any] | bool, keywords: frozenset[str], formats: FormatCheck | None = None
) -> Check:
    """Compile `schema` once into a function deciding conformance; ValueError for what it cannot decide."""
    if isinstance(schema, bool):
        return (lambda _: True) if schema else (lambda _: False)
    if unsupported := schema.keys() - keywords - _ANNOTATIONS:
        raise ValueError(f"these checks do not handle {sorted(unsupported)}")
    type_ok = _type_check(schema.get("type"))
    value_ok = _value_checks(schema, formats)
    items = compile_check(schema["items"], keywords, formats) if "items" in schema else None
    required = tuple(schema.get("required", ()))
    min_properties = schema.get("minProperties", 0)
    properties = {
        key: compile_check(sub, keywords, formats) for key, sub in schema.get("properties", {}).items()
    }
    extra = compile_check(schema.get("additionalProperties", True), keywords, formats)

    def check(instance: Any) -> bool:
        if not type_ok(instance):
            return False
        for value_check in value_ok:
            if not value_check(instance):
                return False
        if isinstance(instance, dict):
            if len(instance) < min_properties:
                return False
            for key in required:
                if key not in instance:
                    return False
            for key, value in instance.items():
                if not properties.get(key, extra)(value):
                    return False
        elif items is not None and isinstance(instance, list):
            for item in instance:
                if not items(item):
                    return False
        return True

    return check


def _type_check(expected: str | list[str] | None) -> Check:
    if expected is None:
        return lambda _: True
    names = expected if isinstance(expected, list) else [expected]
    plain = tuple(_PYTHON_TYPES[name] for name in names if name in _PYTHON_TYPES)
    numbers = [_NUMBER_CHECKS[name] for name in names if name in _NUMBER_CHECKS]
    if not numbers:
        return lambda v: isinstance(v, plain)
    return lambda v: isinstance(v, plain) or any(number_check(v) for number_check in numbers)


def _value_checks(schema: dict[str, Any], formats: FormatCheck | None) -> list[Check]:
    """The keywords that look at a value of one JSON type; each lets values of other types pass."""
    checks: list[Check] = []
    if "enum" in schema:
        allowed = schema["enum"]
        if not all(isinstance(value, str) or value is None for value in allowed):
            # JSON equality of 1, 1.0 and true differs from Python's; strings and null compare alike.
            raise ValueError("only enums of strings and null are compiled")
        allowed_set = frozenset(allowed)
        checks.append(lambda v: (v is None or isinstance(v, str)) and v in allowed_set)
    if "format" in schema:
        if formats is None:
            raise ValueError("a format needs a format checker")
        name = schema["format"]
        checks.append(lambda v: formats(v, name))
    if "pattern" in schema:
        search = re.compile(schema["pattern"]).search
        checks.append(lambda v: not isinstance(v, str) or search(v) is not None)
    if "minLength" in schema:
        shortest = schema["minLength"]
        checks.append(lambda v: not isinstance(v, str) or len(v) >= shortest)
    is_number = _NUMBER_CHECKS["number"]
    if "minimum" in schema:
        least = schema["minimum"]
        checks.append(lambda v: not is_number(v) or v >= least)
    if "maximum" in schema:
        most = schema["maximum"]
        checks.append(lambda v: not is_number(v) or v <= most)
    return checks
