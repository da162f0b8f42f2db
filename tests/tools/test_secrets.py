"""Secret arguments are redacted for the audit; their names stay, as facts."""

from __future__ import annotations

from tools import SECRET_ARGUMENTS, redact_arguments, tool_definitions


def test_every_secret_argument_name_is_a_real_argument_of_some_tool() -> None:
    arguments = {name for d in tool_definitions() for name in d.input_schema["properties"]}
    assert arguments >= SECRET_ARGUMENTS


def test_every_argument_that_carries_a_credential_is_secret() -> None:
    arguments = {name for d in tool_definitions() for name in d.input_schema["properties"]}
    credential_like = {name for name in arguments if any(w in name for w in ("password", "secret", "hash"))}
    flags = {"update_password_required", "ask_user_to_update_password_on_login"}
    assert credential_like - flags <= SECRET_ARGUMENTS


def test_redacting_arguments_hides_secret_values_and_keeps_everything_else() -> None:
    arguments = {
        "email": "ada@example.com",
        "existing_password_hash": "$2b$",
        "existing_mfa_base32_encoded_secret": "K",
    }
    redacted = redact_arguments(arguments)
    assert redacted == {
        "email": "ada@example.com",
        "existing_password_hash": "[redacted]",
        "existing_mfa_base32_encoded_secret": "[redacted]",
    }
    assert arguments["existing_password_hash"] == "$2b$"  # the caller's dict is untouched
