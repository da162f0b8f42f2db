"""Secrets reach the caller but can be redacted for the audit."""

from __future__ import annotations

from tests.tools.toolfakes import USER_ID, definition
from tools import SECRET_ARGUMENTS, SECRET_RESULT_FIELDS, redact_arguments, redact_result, tool_definitions


def test_every_secret_argument_name_is_a_real_argument_of_some_tool() -> None:
    arguments = {name for d in tool_definitions() for name in d.input_schema["properties"]}
    assert arguments >= SECRET_ARGUMENTS


def test_secret_result_fields_are_fields_of_those_tools_output() -> None:
    for name, fields in SECRET_RESULT_FIELDS.items():
        assert set(definition(name).output_schema["properties"]) >= fields


def test_redacting_arguments_hides_secret_values_and_keeps_everything_else() -> None:
    arguments = {
        "email": "ada@example.com",
        "existing_password_hash": "$2b$",
        "existing_mfa_base32_encoded_secret": "K",
    }
    redacted = redact_arguments(definition("migrate_user"), arguments)
    assert redacted == {
        "email": "ada@example.com",
        "existing_password_hash": "[redacted]",
        "existing_mfa_base32_encoded_secret": "[redacted]",
    }
    assert arguments["existing_password_hash"] == "$2b$"  # the caller's dict is untouched


def test_redacting_a_result_hides_the_token_and_the_magic_link() -> None:
    assert redact_result(definition("create_access_token"), {"access_token": "jwt"}) == {
        "access_token": "[redacted]"
    }
    assert redact_result(definition("create_magic_link"), {"url": "https://x"}) == {"url": "[redacted]"}
    assert redact_result(definition("enable_user"), {"ok": True, "user_id": USER_ID}) == {
        "ok": True,
        "user_id": USER_ID,
    }
