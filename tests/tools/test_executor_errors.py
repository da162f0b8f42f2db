"""What the agent is told when PropelAuth or the transport fails: the key facts, never a traceback."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tools.toolfakes import USER_ID, RecordingBackend, definition
from tools import execute
from tools.backend import (
    ApiResponse,
    BackendAnswerTooLarge,
    BackendBusy,
    BackendNotPropelAuth,
    BackendRefused,
    BackendTimeout,
    BackendUnreachable,
)
from tools.untrusted import escaped


@pytest.mark.anyio
async def test_invalid_arguments_are_rejected_per_field_and_nothing_is_sent() -> None:
    backend = RecordingBackend()

    outcome = await execute(
        definition("create_user"),
        {"email": "not-an-email", "first_nam": "Ada", "email_confirmed": "yes"},
        backend,
    )

    assert outcome.outcome == "rejected"
    assert outcome.details["reason"] == "invalid_arguments"
    assert backend.requests == []
    for fact in (
        "email: 'not-an-email' is not a valid email",
        "extra field 'first_nam'",
        "first_name",
        "email_confirmed",
    ):
        assert fact in outcome.text
    errors = outcome.details["errors"]  # the audit keeps one entry per invalid field, each one told
    assert len(errors) == 3 and all(escaped(error) in outcome.text for error in errors)


@pytest.mark.anyio
async def test_400_field_errors_are_listed_per_field() -> None:
    backend = RecordingBackend(
        ApiResponse(400, {"email": ["Email is already taken"], "username": ["Too short"]})
    )

    outcome = await execute(definition("create_user"), {"email": "ada@example.com"}, backend)

    assert outcome.outcome == "error"
    assert outcome.http_status == 400
    assert outcome.details["field_errors"] == {"email": ["Email is already taken"], "username": ["Too short"]}
    assert 'email: "Email is already taken"' in outcome.text  # the backend's words, quoted
    assert 'username: "Too short"' in outcome.text


@pytest.mark.anyio
async def test_a_user_facing_error_is_passed_on() -> None:
    backend = RecordingBackend(ApiResponse(400, {"user_facing_error": "Email is already confirmed"}))

    outcome = await execute(definition("resend_email_confirmation"), {"user_id": USER_ID}, backend)

    assert outcome.http_status == 400
    assert "Email is already confirmed" in outcome.text


@pytest.mark.anyio
async def test_401_points_at_the_api_key_settings() -> None:
    backend = RecordingBackend(ApiResponse(401, None))
    outcome = await execute(definition("fetch_user_by_id"), {"user_id": USER_ID}, backend)
    assert outcome.details["reason"] == "unauthorized"
    assert "PROPELAUTH_API_KEY" in outcome.text
    assert "PROPELAUTH_AUTH_URL" in outcome.text


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "arguments", "fact"),
    [
        ("fetch_user_by_id", {"user_id": USER_ID}, USER_ID),
        ("fetch_user_by_email", {"email": "ada@example.com"}, "ada@example.com"),
        ("fetch_user_by_username", {"username": "ada"}, "ada"),
        ("fetch_employee_by_id", {"employee_id": USER_ID}, "employee"),
        ("create_magic_link", {"email": "ada@example.com"}, "create_new_user_if_one_doesnt_exist"),
    ],
)
async def test_404_says_what_does_not_exist(name: str, arguments: dict[str, object], fact: str) -> None:
    outcome = await execute(definition(name), arguments, RecordingBackend(ApiResponse(404, None)))
    assert outcome.details["reason"] == "not_found"
    assert fact in outcome.text


@pytest.mark.anyio
async def test_for_access_tokens_403_means_no_such_user_and_404_means_the_feature_is_off() -> None:
    missing = await execute(
        definition("create_access_token"), {"user_id": USER_ID}, RecordingBackend(ApiResponse(403, None))
    )
    feature_off = await execute(
        definition("create_access_token"), {"user_id": USER_ID}, RecordingBackend(ApiResponse(404, None))
    )
    assert missing.details["reason"] == "not_found"
    assert USER_ID in missing.text
    assert feature_off.details["reason"] == "feature_disabled"
    assert "not enabled" in feature_off.text


@pytest.mark.anyio
async def test_426_tells_the_agent_to_retry_without_include_orgs() -> None:
    outcome = await execute(
        definition("query_users"), {"include_orgs": True}, RecordingBackend(ApiResponse(426, ""))
    )
    assert outcome.details["reason"] == "orgs_not_enabled"
    assert "include_orgs" in outcome.text


@pytest.mark.anyio
async def test_429_says_how_long_to_wait_and_how_often_it_tried() -> None:
    body = "Rate limited. Please wait 7 seconds before trying again."
    backend = RecordingBackend(ApiResponse(429, body, attempts=3, elapsed_s=2.5))

    outcome = await execute(definition("fetch_user_by_id"), {"user_id": USER_ID}, backend)

    assert outcome.http_status == 429
    assert outcome.details["retry_after_s"] == 7
    assert outcome.details["attempts"] == 3
    assert "7 seconds" in outcome.text
    assert "3 attempts" in outcome.text


@pytest.mark.anyio
async def test_a_5xx_on_a_write_says_the_change_may_have_happened_and_how_to_check() -> None:
    outcome = await execute(
        definition("enable_user"), {"user_id": USER_ID}, RecordingBackend(ApiResponse(502, "Bad Gateway"))
    )
    assert outcome.http_status == 502
    assert outcome.details["reason"] == "server_error"
    assert "may or may not" in outcome.text
    assert "fetch_user_by_id" in outcome.text


@pytest.mark.anyio
async def test_a_5xx_on_a_read_says_nothing_was_changed() -> None:
    outcome = await execute(
        definition("fetch_user_by_id"),
        {"user_id": USER_ID},
        RecordingBackend(ApiResponse(503, "", attempts=2)),
    )
    assert "Nothing was changed" in outcome.text
    assert outcome.details["attempts"] == 2


@pytest.mark.anyio
async def test_a_timeout_on_a_read_reports_the_attempts_and_that_nothing_changed() -> None:
    error = BackendTimeout("read timed out", may_have_reached=True, attempts=3, elapsed_s=30.0)
    outcome = await execute(definition("fetch_user_by_id"), {"user_id": USER_ID}, RecordingBackend(error))
    assert outcome.outcome == "error"
    assert outcome.details == {
        "reason": "timeout",
        "may_have_reached": True,
        "attempts": 3,
        "elapsed_s": 30.0,
    }
    assert "3 attempts" in outcome.text
    assert "Nothing was changed" in outcome.text
    assert "read timed out" not in outcome.text  # exception text never reaches the agent


@pytest.mark.anyio
async def test_a_write_that_may_have_reached_propelauth_says_to_check_before_retrying() -> None:
    error = BackendTimeout("timed out", may_have_reached=True)
    outcome = await execute(definition("create_user"), {"email": "ada@example.com"}, RecordingBackend(error))
    assert "may or may not have been applied" in outcome.text
    assert "fetch_user_by_email" in outcome.text


@pytest.mark.anyio
async def test_a_write_that_never_left_says_nothing_was_changed() -> None:
    error = BackendUnreachable("connection refused", may_have_reached=False)
    outcome = await execute(definition("enable_user"), {"user_id": USER_ID}, RecordingBackend(error))
    assert outcome.details["reason"] == "unreachable"
    assert "Nothing was changed" in outcome.text


@pytest.mark.anyio
async def test_busy_means_nothing_was_sent_and_a_retry_is_fine() -> None:
    error = BackendBusy("too many in flight", may_have_reached=False, attempts=0)
    outcome = await execute(definition("enable_user"), {"user_id": USER_ID}, RecordingBackend(error))
    assert outcome.details["reason"] == "busy"
    assert "nothing was sent" in outcome.text


@pytest.mark.anyio
async def test_a_2xx_with_a_body_of_the_wrong_shape_is_an_error_not_a_result() -> None:
    backend = RecordingBackend(ApiResponse(200, "<html>maintenance</html>"))

    outcome = await execute(definition("create_user"), {"email": "ada@example.com"}, backend)

    assert outcome.outcome == "error"
    assert outcome.structured is None
    assert outcome.details["reason"] == "unexpected_response"
    assert "probably happened" in outcome.text


@pytest.mark.anyio
async def test_a_user_missing_required_fields_is_an_unexpected_answer() -> None:
    backend = RecordingBackend(ApiResponse(200, {"user_id": USER_ID}))
    outcome = await execute(definition("fetch_user_by_id"), {"user_id": USER_ID}, backend)
    assert outcome.details["reason"] == "unexpected_response"
    assert "probably happened" not in outcome.text  # a read changes nothing


@pytest.mark.anyio
async def test_a_refusal_by_this_server_is_explained_and_nothing_was_sent() -> None:
    error = BackendRefused("the blast-radius limit of 20 changes was reached")
    outcome = await execute(definition("enable_user"), {"user_id": USER_ID}, RecordingBackend(error))
    assert (outcome.outcome, outcome.details["reason"]) == ("rejected", "refused")
    assert "blast-radius limit" in outcome.text
    assert "Nothing was sent" in outcome.text


@settings(max_examples=40, deadline=None)
@given(
    extra=st.dictionaries(
        st.text(min_size=1, max_size=12).filter(lambda key: key not in {"user_id", "confirm"}),
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        min_size=1,
        max_size=3,
    )
)
def test_any_unknown_argument_is_named_and_nothing_is_sent(extra: dict[str, object]) -> None:
    backend = RecordingBackend()
    outcome = anyio.run(
        execute, definition("delete_user"), {"user_id": USER_ID, "confirm": True, **extra}, backend
    )
    assert outcome.outcome == "rejected"
    assert backend.requests == []
    for key in extra:
        assert f"extra field '{escaped(key)}'" in outcome.text  # a key cannot break the line


# --- every status has an outcome; error bodies of any shape; secrets never echoed --------------------------


@pytest.mark.anyio
async def test_a_403_says_the_api_key_lacks_the_permission_and_points_at_read_only() -> None:
    backend = RecordingBackend(ApiResponse(403, None))
    outcome = await execute(definition("update_user"), {"user_id": USER_ID, "first_name": "Ada"}, backend)
    assert (outcome.outcome, outcome.http_status, outcome.details["reason"]) == ("error", 403, "forbidden")
    assert "--read-only" in outcome.text


@pytest.mark.anyio
@pytest.mark.parametrize("status", [302, 405, 409, 410, 418, 422, 451])
async def test_a_status_no_rule_lists_still_gives_an_error_outcome_that_names_it(status: int) -> None:
    backend = RecordingBackend(ApiResponse(status, {"message": "odd"}))
    outcome = await execute(definition("fetch_user_by_id"), {"user_id": USER_ID}, backend)
    assert (outcome.outcome, outcome.http_status, outcome.details["reason"]) == (
        "error",
        status,
        "http_error",
    )
    assert str(status) in outcome.text


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        ["email is invalid"],
        "email is invalid",
        None,
        {"email": {"nested": ["is invalid"]}},
        {"email": [1, 2]},
        {"email": None},
        {},
        42,
    ],
    ids=["list", "string", "null", "nested", "non-text-messages", "null-messages", "empty", "number"],
)
async def test_a_400_whose_body_is_not_a_field_map_is_reported_whole(body: object) -> None:
    backend = RecordingBackend(ApiResponse(400, body))
    outcome = await execute(definition("create_user"), {"email": "ada@example.com"}, backend)
    assert (outcome.outcome, outcome.http_status, outcome.details["reason"]) == ("error", 400, "bad_request")
    assert "field_errors" not in outcome.details and "HTTP 400" in outcome.text


@pytest.mark.anyio
async def test_a_400_quoting_the_password_sent_never_repeats_it() -> None:
    secret = "hunter2-secret"
    backend = RecordingBackend(ApiResponse(400, {"password": [f"{secret} is too common"]}))
    outcome = await execute(
        definition("update_user_password"), {"user_id": USER_ID, "password": secret}, backend
    )
    assert outcome.details["reason"] == "bad_request"
    assert secret not in outcome.text and secret not in repr(outcome.details)
    assert outcome.details["field_errors"] == {"password": ["[redacted] is too common"]}


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 418])
async def test_an_error_body_quoting_a_password_hash_or_mfa_secret_never_repeats_it(status: int) -> None:
    hash_, mfa = "$2b$12$abcdefghijklmnopqrstuv", "JBSWY3DPEHPK3PXP"
    body = {"detail": f"cannot import {hash_} with {mfa}", f"{mfa}": "is not valid"}
    arguments = {
        "email": "ada@example.com",
        "existing_password_hash": hash_,
        "existing_mfa_base32_encoded_secret": mfa,
    }
    outcome = await execute(
        definition("migrate_user"), arguments, RecordingBackend(ApiResponse(status, body))
    )
    assert outcome.is_error
    for secret in (hash_, mfa):
        assert secret not in outcome.text and secret not in repr(outcome.details)


@pytest.mark.anyio
async def test_an_answer_that_is_not_propelauths_is_never_reported_as_a_missing_user() -> None:
    error = BackendNotPropelAuth(
        "this does not look like PropelAuth at auth.example.com: HTTP 404 with an HTML page; "
        "check PROPELAUTH_AUTH_URL",
        may_have_reached=False,
    )
    outcome = await execute(
        definition("fetch_user_by_email"), {"email": "ada@example.com"}, RecordingBackend(error)
    )
    assert (outcome.outcome, outcome.details["reason"]) == ("error", "not_propelauth")
    assert "does not look like PropelAuth" in outcome.text and "No user" not in outcome.text


@pytest.mark.anyio
async def test_a_preview_behind_an_answer_that_is_not_propelauths_says_so_and_is_no_preview() -> None:
    error = BackendNotPropelAuth("this does not look like PropelAuth at x: HTTP 404", may_have_reached=False)
    outcome = await execute(definition("delete_user"), {"user_id": USER_ID}, RecordingBackend(error))
    assert (outcome.outcome, outcome.details["reason"]) == ("rejected", "not_propelauth")
    assert "confirm: true" not in outcome.text


@pytest.mark.anyio
async def test_an_answer_too_large_on_a_write_says_the_change_may_have_happened() -> None:
    error = BackendAnswerTooLarge("PropelAuth's answer was larger than 16 MiB", may_have_reached=True)
    outcome = await execute(definition("enable_user"), {"user_id": USER_ID}, RecordingBackend(error))
    assert outcome.details["reason"] == "answer_too_large" and outcome.details["may_have_reached"] is True
    assert "larger than 16 MiB" in outcome.text and "fetch_user_by_id" in outcome.text


@pytest.mark.anyio
async def test_a_connection_failure_text_carries_the_host_and_cause_the_client_named() -> None:
    error = BackendUnreachable(
        "could not reach PropelAuth at auth.example.com: DNS lookup failed", may_have_reached=False
    )
    outcome = await execute(definition("fetch_user_by_id"), {"user_id": USER_ID}, RecordingBackend(error))
    assert "auth.example.com" in outcome.text and "DNS" in outcome.text


@pytest.mark.anyio
async def test_a_429_reports_the_wait_named_by_retry_after() -> None:
    backend = RecordingBackend(ApiResponse(429, None, retry_after_s=7.0))
    outcome = await execute(definition("fetch_user_by_id"), {"user_id": USER_ID}, backend)
    assert outcome.details["retry_after_s"] == 7.0
