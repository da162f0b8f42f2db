"""The fast output-shape check gives the same answers as a JSON Schema validator."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tools import tool_definitions
from tools.shape import conforms

DEFINITIONS = tool_definitions()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


def near_instances(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Instances shaped like the schema, with some fields dropped, retyped or added."""
    if schema.get("type") == "object" and "properties" in schema:
        fields = {name: near_instances(sub) | json_values for name, sub in schema["properties"].items()}
        return st.fixed_dictionaries({}, optional=fields).flatmap(
            lambda base: st.dictionaries(st.text(max_size=4), json_values, max_size=2).map(
                lambda extra: {**extra, **base}
            )
        )
    if schema.get("type") == "array" and "items" in schema:
        return st.lists(near_instances(schema["items"]), max_size=3)
    return json_values


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.name)
def test_conforms_agrees_with_jsonschema_on_every_output_schema(definition: Any) -> None:
    validator = Draft202012Validator(definition.output_schema)

    @settings(max_examples=60, deadline=None)
    @given(near_instances(definition.output_schema))
    def agrees(instance: Any) -> None:
        assert conforms(instance, definition.output_schema) == validator.is_valid(instance)

    agrees()


def test_a_schema_using_an_unsupported_keyword_is_refused_loudly() -> None:
    with pytest.raises(ValueError, match="minimum"):
        conforms(3, {"type": "integer", "minimum": 1})
