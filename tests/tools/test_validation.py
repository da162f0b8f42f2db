"""Arguments are checked against the advertised schema, formats included, with per-field reasons."""

from __future__ import annotations

import pytest

from tests.tools.toolfakes import USER_ID, definition
from tools.validation import argument_errors, format_checker


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
