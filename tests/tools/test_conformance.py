"""The compiled checks (jsonschema-rs, our formats) of output shapes and tool arguments give the same
answers as jsonschema, which explains invalid arguments."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tools import tool_definitions
from tools.arguments import schema_types
from tools.validation import argument_errors, conformance_check, conformance_for, format_checker

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
    # A PropelAuth answer is checked against the success shape alone (not a preview's or a decline's).
    schema = definition.result_schema or definition.output_schema
    validator = Draft202012Validator(schema)
    conforms = definition.output_conforms

    @settings(max_examples=60, deadline=None)
    @given(near_instances(schema))
    def agrees(instance: Any) -> None:
        assert conforms(instance) == validator.is_valid(instance)

    agrees()


VALID_FORMATS = {
    "uuid": st.uuids().map(str),
    "email": st.sampled_from(["ada@example.com", "a.b+c@mail.example.co.uk", "ivan@example.xn--p1ai"]),
    "uri": st.sampled_from(["https://app.example.com/x?y=1", "http://a"]),
}
INVALID_FORMATS = {
    "uuid": st.sampled_from(
        ["abc", "68c45f5c17694c5b96004c63f1192eac", "{68c45f5c-1769-4c5b-9600-4c63f1192eac}"]
    ),
    "email": st.sampled_from(["ada@", "ada@localhost", "a b@x.io", "a@x..com"]),
    "uri": st.sampled_from(["javascript:alert(1)", "/relative", "app.example.com", "", "http://a b"]),
}


def main_type(schema: dict[str, Any]) -> str | None:
    """The type other than null (optional arguments are also nullable: ["integer", "null"])."""
    return next((kind for kind in schema_types(schema) if kind != "null"), None)


def valid_value(schema: dict[str, Any] | bool) -> st.SearchStrategy[Any]:
    """Values the schema accepts, edges included (an integer's bounds, 1.0 for an integer, null)."""
    if isinstance(schema, bool):
        return json_values
    if "null" in schema_types(schema):
        return st.none() | valid_non_null_value(schema)
    return valid_non_null_value(schema)


def valid_non_null_value(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = main_type(schema)
    if "format" in schema:
        return VALID_FORMATS[schema["format"]]
    if "enum" in schema:
        return st.sampled_from([value for value in schema["enum"] if value is not None])
    if "pattern" in schema:  # an API key id, a date
        return st.from_regex(schema["pattern"], fullmatch=True)
    if kind == "integer":
        low, high = schema.get("minimum", -5), schema.get("maximum", 200)
        return st.sampled_from([low, high, float(high)]) | st.integers(low, high)
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=4)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(valid_value(schema.get("items", True)), max_size=3)
    if kind == "object":
        fields = {name: valid_value(sub) for name, sub in schema.get("properties", {}).items()}
        required = {name: fields.pop(name) for name in schema.get("required", ())}
        extra = schema.get("additionalProperties", True)
        extras = (
            st.just({})
            if extra is False
            else st.dictionaries(st.text(max_size=4), valid_value(extra), max_size=2)
        )
        fewest = schema.get("minProperties", 0)
        return (
            st.tuples(st.fixed_dictionaries(required, optional=fields), extras)
            .map(lambda parts: {**parts[1], **parts[0]})
            .filter(lambda instance: len(instance) >= fewest)
        )
    return json_values


def refused_value(schema: dict[str, Any] | bool) -> st.SearchStrategy[Any]:
    """Values just outside what the schema accepts, or of another type (some may still be accepted)."""
    if isinstance(schema, bool):
        return json_values
    kind = main_type(schema)
    if "format" in schema:
        return INVALID_FORMATS[schema["format"]] | json_values
    if "enum" in schema:
        return st.sampled_from(["", schema["enum"][0].lower(), schema["enum"][0] + " ", 1]) | json_values
    if kind == "integer":
        low, high = schema.get("minimum", -5), schema.get("maximum", 200)
        return st.sampled_from([low - 1, high + 1, float(high + 1), 2.5, True, "1", None])
    if kind == "string" and schema.get("minLength"):
        return st.just("") | json_values
    return json_values


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.name)
def test_the_compiled_argument_check_agrees_with_jsonschema_on_every_input_schema(definition: Any) -> None:
    schema = definition.input_schema
    validator = Draft202012Validator(schema, format_checker=format_checker())
    conforms = conformance_for(schema)
    properties = schema["properties"]

    @settings(max_examples=100, deadline=None)
    @given(st.data())
    def agrees(data: st.DataObject) -> None:
        instance = data.draw(valid_value(schema))
        assert validator.is_valid(instance)  # the generator's promise: the accepting side is tested too
        # A tool without arguments (e.g. fetch_custom_role_mappings) has no field to change.
        changes = (
            ["none", "field", "field", "extra", "drop", "whole"] if properties else ["none", "extra", "whole"]
        )
        change = data.draw(st.sampled_from(changes))
        if change == "field":
            name = data.draw(st.sampled_from(sorted(properties)))
            instance[name] = data.draw(refused_value(properties[name]))
        elif change == "extra":
            instance[data.draw(st.text(max_size=6))] = data.draw(json_values)
        elif change == "drop" and instance:
            del instance[data.draw(st.sampled_from(sorted(instance)))]
        elif change == "whole":
            instance = data.draw(json_values)
        assert conforms(instance) == validator.is_valid(instance)

    agrees()


@pytest.mark.parametrize("value", [1, 1.0, True, False, 0, "1", None])
def test_an_enum_of_numbers_and_booleans_compares_as_json_does(value: Any) -> None:
    schema = {"type": "object", "properties": {"n": {"enum": [1, True]}}}
    instance = {"n": value}
    assert conformance_check(schema)(instance) == Draft202012Validator(schema).is_valid(instance)


@pytest.mark.parametrize("value", ["EMAIL", None, "email", "", 0, False, 1.0, [], {}])
def test_a_nullable_enum_and_type_list_agree_with_jsonschema(value: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"order": {"type": ["string", "null"], "enum": ["EMAIL", None]}},
    }
    instance = {"order": value}
    assert conformance_check(schema)(instance) == Draft202012Validator(schema).is_valid(instance)


@pytest.mark.parametrize("text", ["P1D", "soon", "a b"])
def test_a_format_we_do_not_define_is_checked_as_jsonschema_checks_it(text: str) -> None:
    # jsonschema-rs checks "duration" itself; jsonschema does only with an optional package.
    schema = {"type": "object", "properties": {"how_long": {"type": "string", "format": "duration"}}}
    expected = Draft202012Validator(schema, format_checker=format_checker()).is_valid({"how_long": text})
    assert conformance_check(schema)({"how_long": text}) == expected


LONE_SURROGATE = "Ada \ud800"  # JSON can spell it ("\\ud800") and Python's parser gives it


def test_arguments_jsonschema_rs_cannot_read_are_decided_by_jsonschema() -> None:
    schema = next(d for d in DEFINITIONS if d.name == "update_user").input_schema
    user_id = "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
    assert argument_errors(schema, {"user_id": user_id, "first_name": LONE_SURROGATE}) == []
    assert argument_errors(schema, {"user_id": LONE_SURROGATE, "first_name": "Ada"}) == [
        f"user_id: {LONE_SURROGATE!r} is not a valid uuid"
    ]
    assert not conformance_for(schema)({"user_id": user_id, 1: "x"})


def test_an_answer_jsonschema_rs_cannot_read_is_decided_by_jsonschema() -> None:
    definition = next(d for d in DEFINITIONS if d.name == "fetch_user_by_id")
    validator = Draft202012Validator(definition.output_schema)
    answer = {"user_id": "x", "email": LONE_SURROGATE}
    assert definition.output_conforms(answer) == validator.is_valid(answer)
    assert not definition.output_conforms({"user_id": "x", "email": {"a", "b"}})
