"""Arguments are checked against the advertised schema, formats included, with per-field reasons."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tools.toolfakes import USER_ID, definition
from tools.validation import argument_errors, conformance_for, format_checker, validator_for


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("uuid", USER_ID, ["abc", USER_ID.replace("-", ""), "{" + USER_ID + "}"]),
        (
            "email",
            "ada.l+ops@mail.example.co.uk",  # and an IDN TLD below
            [
                "ada",
                "ada@",
                "ada@localhost",
                "@example.com",
                "a b@x.com",
                "a@x..com",
                "a@-x.com",
                "a@x.com\n",
                ".a@x.com",
            ],
        ),
        ("uri", "https://app.example.com/x?y=1", ["app.example.com", "/relative", "http://a b"]),
    ],
)
def test_each_format_the_schemas_use_is_really_checked(fmt: str, good: str, bad: list[str]) -> None:
    checker = format_checker()
    assert checker.conforms(good, fmt)
    if fmt == "email":
        assert checker.conforms("ivan@example.xn--p1ai", fmt)
    for value in bad:
        assert not checker.conforms(value, fmt), value


def test_a_bad_uuid_names_the_field_and_the_value() -> None:
    assert argument_errors(definition("fetch_user_by_id").input_schema, {"user_id": "abc"}) == [
        "user_id: 'abc' is not a valid uuid"
    ]


def test_a_missing_required_field_is_named() -> None:
    assert argument_errors(
        definition("update_user_email").input_schema, {"user_id": USER_ID, "new_email": "a@b.io"}
    ) == ["require_email_confirmation: required"]


def test_an_extra_field_is_named_with_a_suggestion() -> None:
    errors = argument_errors(definition("fetch_user_by_id").input_schema, {"user_id": USER_ID, "userid": "x"})
    assert errors == ["extra field 'userid' is not allowed (did you mean 'user_id'?)"]


def test_bounds_types_and_enums_say_what_is_allowed() -> None:
    errors = argument_errors(
        definition("query_users").input_schema, {"page_size": 500, "page_number": "1", "order_by": "NAME"}
    )
    assert "page_size: must be at most 100, got 500" in errors
    assert "page_number: expected integer, got string" in errors
    assert any(error.startswith("order_by:") and "CREATED_AT_ASC" in error for error in errors)


def test_a_boolean_is_not_accepted_as_an_integer() -> None:
    errors = argument_errors(
        definition("create_access_token").input_schema, {"user_id": USER_ID, "duration_in_minutes": True}
    )
    assert errors == ["duration_in_minutes: expected integer, got boolean"]


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        (7, "integer"),
        (2.5, "number"),
        (True, "boolean"),
        (None, "null"),
        (["x"], "array"),
        ({"id": "x"}, "object"),
    ],
)
def test_a_wrong_type_is_named_in_json_schema_words(value: Any, sent: str) -> None:
    # The agent reads the schema's vocabulary, so what it sent is named in it too (never Python's
    # "float", "dict" or "NoneType").
    errors = argument_errors(
        definition("update_user_email").input_schema,
        {"user_id": value, "new_email": "a@b.io", "require_email_confirmation": True},
    )
    assert errors == [f"user_id: expected string, got {sent}"]


def test_a_fractional_number_is_not_an_integer_but_a_whole_one_is() -> None:
    schema = definition("query_users").input_schema
    assert argument_errors(schema, {"page_number": 2.5}) == ["page_number: expected integer, got number"]
    assert argument_errors(schema, {"page_number": 2.0}) == []


def test_a_secret_value_is_never_echoed_in_an_error() -> None:
    errors = argument_errors(
        definition("update_user_password").input_schema, {"user_id": USER_ID, "password": 12345678}
    )
    assert errors == ["password: expected string, got integer"]
    errors = argument_errors(
        definition("update_user_password").input_schema, {"user_id": USER_ID, "password": ""}
    )
    assert errors == ["password: must not be empty"]


def test_a_missing_confirm_is_not_a_validation_error() -> None:
    assert argument_errors(definition("delete_user").input_schema, {"user_id": USER_ID}) == []


def test_arguments_that_are_not_an_object_are_refused() -> None:
    assert argument_errors(definition("enable_user").input_schema, ["x"]) == ["expected object, got array"]


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<script>x</script>", "ftp://files.example"]
)
def test_urls_handed_to_users_must_be_web_urls(url: str) -> None:
    errors = argument_errors(
        definition("create_magic_link").input_schema, {"email": "ada@example.com", "redirect_to_url": url}
    )
    assert errors and all(error.startswith("redirect_to_url") for error in errors)
    assert any("http:// or https:// URL" in error for error in errors)


# Forms PropelAuth does not know; the first eight passed jsonschema's own check (uuid.UUID parses them).
LAX_UUIDS = [
    "\u0666f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",  # an Arabic-Indic digit
    "\uff16f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",  # a fullwidth digit
    "6f1a_b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",
    "0x1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",
    "+f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",
    " f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",
    "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4 ",
    "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4\n",
    "{" + USER_ID + "}",
    "urn:uuid:" + USER_ID,
    USER_ID.replace("-", ""),
    USER_ID.replace("-", "_"),
    " " + USER_ID,
    USER_ID + "\n",
    USER_ID[:-1] + "g",
]


@pytest.mark.parametrize("value", LAX_UUIDS, ids=ascii)
def test_only_the_canonical_uuid_form_is_a_uuid_on_both_checking_paths(value: str) -> None:
    schema = definition("delete_user").input_schema
    arguments = {"user_id": value, "confirm": True}
    assert not conformance_for(schema)(arguments)
    assert not validator_for(schema).is_valid(arguments)
    assert argument_errors(schema, arguments) == [f"user_id: {value!r} is not a valid uuid"]


@pytest.mark.parametrize("value", [USER_ID, USER_ID.upper(), "6F1a2B3c-4d5E-4f60-8A7b-9c0d1e2f3a4b"])
def test_a_canonical_uuid_in_any_case_is_valid(value: str) -> None:
    schema = definition("delete_user").input_schema
    assert argument_errors(schema, {"user_id": value}) == []
    assert validator_for(schema).is_valid({"user_id": value})


def is_canonical_uuid(text: str) -> bool:
    """The canonical form spelled out character by character (an oracle independent of any regex)."""
    return len(text) == 36 and all(
        (char == "-") if index in (8, 13, 18, 23) else char in "0123456789abcdefABCDEF"
        for index, char in enumerate(text)
    )


@st.composite
def near_uuids(draw: st.DrawFn) -> str:
    """A real uuid with one character replaced, inserted or removed, or a piece of it, or any text."""
    text = str(draw(st.uuids()))
    if draw(st.booleans()):
        text = text.upper()
    where = draw(st.integers(0, len(text) - 1))
    odd = draw(st.characters() | st.sampled_from("_+{} \n\t-xX\u0660\uff10"))
    change = draw(st.sampled_from(["replace", "insert", "remove", "slice", "none", "any"]))
    if change == "replace":
        return text[:where] + odd + text[where + 1 :]
    if change == "insert":
        return text[:where] + odd + text[where:]
    if change == "remove":
        return text[:where] + text[where + 1 :]
    if change == "slice":
        return text[:where]
    if change == "any":
        return draw(st.text(max_size=40))
    return text


@settings(max_examples=300, deadline=None)
@given(near_uuids())
def test_a_string_is_a_uuid_exactly_when_it_is_the_canonical_form(text: str) -> None:
    schema = definition("delete_user").input_schema
    conforms = conformance_for(schema)
    expected = is_canonical_uuid(text)
    assert format_checker().conforms(text, "uuid") == expected
    assert conforms({"user_id": text}) == expected
    assert validator_for(schema).is_valid({"user_id": text}) == expected


def email_of(local_length: int, total_length: int) -> str:
    """A well-formed address with a local part and a whole length of exactly these sizes."""
    local = "a" * local_length
    domain_length = total_length - local_length - 1
    labels = ["b" * 63, "c" * 63]
    last = domain_length - sum(len(label) + 1 for label in labels) - len(".com")
    address = f"{local}@{'.'.join([*labels, 'd' * last])}.com"
    assert len(address) == total_length and len(address.split("@")[0]) == local_length
    return address


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        (email_of(64, 200), True),  # RFC 5321: at most 64 characters before the "@"
        (email_of(65, 200), False),
        (email_of(60, 254), True),  # and at most 254 in all
        (email_of(60, 255), False),
        (email_of(64, 254), True),
    ],
    ids=["local-64", "local-65", "total-254", "total-255", "both-at-the-limit"],
)
def test_the_email_length_limits_hold_on_both_checking_paths(address: str, valid: bool) -> None:
    schema = definition("fetch_user_by_email").input_schema
    conforms = conformance_for(schema)
    assert conforms({"email": address}) is valid
    assert validator_for(schema).is_valid({"email": address}) is valid
    errors = argument_errors(schema, {"email": address})  # the explaining path, for the invalid ones
    if valid:
        assert errors == []
    else:
        assert len(errors) == 1
        assert errors[0].startswith("email: ") and errors[0].endswith("not a valid email")


@pytest.mark.parametrize(
    ("arguments", "errors"),
    [
        ({"page_size": math.inf}, ["page_size: Infinity is not a JSON number"]),
        ({"page_number": -math.inf}, ["page_number: -Infinity is not a JSON number"]),
        (
            {"page_size": math.nan, "page_number": -1},
            ["page_size: NaN is not a JSON number", "page_number: must be at least 0, got -1"],
        ),
    ],
)
def test_nan_and_infinity_are_invalid_and_named_once(arguments: dict[str, Any], errors: list[str]) -> None:
    assert argument_errors(definition("query_users").input_schema, arguments) == errors


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.sampled_from([math.nan, math.inf, -math.inf]),
        lambda inner: (
            st.lists(inner, min_size=1, max_size=2)
            | st.dictionaries(st.sampled_from("abc"), inner, min_size=1, max_size=2)
        ),
        max_leaves=4,
    ),
    st.dictionaries(st.sampled_from("xyz"), st.integers() | st.text(max_size=3), max_size=2),
)
def test_a_nan_or_infinity_nested_anywhere_in_free_form_metadata_is_invalid(
    not_finite: Any, fine: dict[str, Any]
) -> None:
    schema = definition("update_user").input_schema
    arguments = {"user_id": USER_ID, "metadata": {**fine, "deep": not_finite}}
    assert validator_for(schema).is_valid(arguments)  # JSON Schema itself takes them as numbers
    errors = argument_errors(schema, arguments)
    assert errors and all(error.startswith("metadata.deep") for error in errors)
    assert all(error.endswith("is not a JSON number") for error in errors)


def test_null_for_an_optional_argument_means_not_given() -> None:
    schema = definition("query_users").input_schema
    strict_mode = {name: None for name in schema["properties"]}  # what OpenAI's strict mode sends
    assert argument_errors(schema, strict_mode) == []
    assert (
        argument_errors(definition("delete_user").input_schema, {"user_id": USER_ID, "confirm": None}) == []
    )


def test_null_for_a_required_argument_is_invalid() -> None:
    schema = definition("update_user_email").input_schema
    errors = argument_errors(
        schema, {"user_id": None, "new_email": "a@b.io", "require_email_confirmation": True}
    )
    assert errors == ["user_id: expected string, got null"]


def test_null_for_an_unknown_argument_is_still_an_extra_field() -> None:
    errors = argument_errors(
        definition("fetch_user_by_id").input_schema, {"user_id": USER_ID, "userid": None}
    )
    assert errors == ["extra field 'userid' is not allowed (did you mean 'user_id'?)"]


def test_fields_given_as_null_do_not_count_as_fields_to_update() -> None:
    schema = definition("update_user").input_schema
    errors = argument_errors(schema, {"user_id": USER_ID, "first_name": None, "metadata": None})
    assert len(errors) == 1 and errors[0].startswith("give at least one of: ")
    assert argument_errors(schema, {"user_id": USER_ID, "first_name": "Ada", "metadata": None}) == []
