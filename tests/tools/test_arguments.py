"""Arguments go out in the form PropelAuth takes: whole-number floats of integer fields as integers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tools.toolfakes import USER_ID, definition
from tools.arguments import as_sent
from tools.requests import build_request, normalise


def test_a_whole_number_float_for_an_integer_body_field_is_sent_as_an_integer() -> None:
    tool = definition("create_access_token")
    request = build_request(tool, normalise(tool, {"user_id": USER_ID, "duration_in_minutes": 60.0}))
    assert request.json is not None
    sent = request.json["duration_in_minutes"]
    assert sent == 60 and type(sent) is int


def test_a_whole_number_float_for_an_integer_query_field_is_sent_as_an_integer() -> None:
    tool = definition("query_users")
    request = build_request(tool, normalise(tool, {"page_size": 2.0, "page_number": 0.0}))
    assert request.query["page_size"] == "2" and request.query["page_number"] == "0"


def test_numbers_in_free_form_fields_and_strings_are_sent_as_given() -> None:
    tool = definition("update_user")
    args = normalise(tool, {"user_id": USER_ID, "metadata": {"score": 2.0}, "first_name": "2.0"})
    assert type(args["metadata"]["score"]) is float and args["first_name"] == "2.0"


NESTED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sizes": {"type": "array", "items": {"type": "integer"}},
        "inner": {"type": "object", "properties": {"n": {"type": ["integer", "null"]}}},
        "ratio": {"type": "number"},
        "ids": {"type": "object", "additionalProperties": {"type": "string", "format": "uuid"}},
    },
}


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ({"sizes": [1.0, 2, -3.0]}, {"sizes": [1, 2, -3]}),
        ({"inner": {"n": 5.0}}, {"inner": {"n": 5}}),
        ({"inner": {"n": None}}, {"inner": {"n": None}}),
        ({"ratio": 2.0}, {"ratio": 2.0}),
        ({"ids": {"a": USER_ID.upper()}}, {"ids": {"a": USER_ID}}),
    ],
)
def test_the_conversion_follows_the_schema_into_nested_values(value: Any, sent: Any) -> None:
    converted = as_sent(NESTED, value)
    assert converted == sent
    assert repr(converted) == repr(sent)  # 1 and 1.0 are equal in Python: compare the spelling too


def test_optional_arguments_given_as_null_are_dropped_and_defaults_apply() -> None:
    tool = definition("create_access_token")
    args = normalise(tool, {"user_id": USER_ID.upper(), "duration_in_minutes": None, "active_org_id": None})
    assert args == {"user_id": USER_ID, "duration_in_minutes": 60}


def test_a_null_inside_a_free_form_field_is_sent_as_given() -> None:
    tool = definition("update_user")
    args = normalise(tool, {"user_id": USER_ID, "metadata": {"plan": None}, "first_name": None})
    assert args == {"user_id": USER_ID, "metadata": {"plan": None}}
