"""What a failure report guarantees: the reason code the audit records, what the agent should do next,
the backend's own words shown whole, quoted and scrubbed of the secrets that were sent.

The reason codes and attempt counts in `details` are what the audit trail records for the call, so
they are pinned exactly; the texts are pinned where they carry the next step.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.tools.toolfakes import USER_ID, RecordingBackend, definition
from tools import execute
from tools.backend import (
    ApiResponse,
    BackendAnswerTooLarge,
    BackendBusy,
    BackendError,
    BackendNotPropelAuth,
    BackendRefused,
    BackendTimeout,
    BackendUnreachable,
)
from tools.failures import check_hint
from tools.model import ToolOutcome

pytestmark = pytest.mark.anyio

READ = ("fetch_user_by_id", {"user_id": USER_ID})


async def failed(reply: ApiResponse | BackendError, name: str = READ[0], **arguments: Any) -> ToolOutcome:
    return await execute(definition(name), arguments or dict(READ[1]), RecordingBackend(reply))


# --- the reason codes the audit records -------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "outcome", "reason", "status"),
    [
        (ApiResponse(400, {"user_facing_error": "Email is already confirmed"}), "error", "bad_request", 400),
        (ApiResponse(400, {"email": ["is invalid"]}), "error", "bad_request", 400),
        (ApiResponse(400, ["is invalid"]), "error", "bad_request", 400),
        (ApiResponse(401, None), "error", "unauthorized", 401),
        (ApiResponse(403, None), "error", "forbidden", 403),
        (ApiResponse(404, None), "error", "not_found", 404),
        (ApiResponse(409, {"message": "conflict"}), "error", "http_error", 409),
        (ApiResponse(426, None), "error", "orgs_not_enabled", 426),
        (ApiResponse(429, None), "error", "rate_limited", 429),
        (ApiResponse(500, None), "error", "server_error", 500),
        (ApiResponse(200, "<html>maintenance</html>"), "error", "unexpected_response", 200),
        (BackendBusy("busy", may_have_reached=False, attempts=0), "error", "busy", None),
        (BackendRefused("the audit log is unwritable"), "rejected", "refused", None),
        (BackendTimeout("timed out", may_have_reached=True), "error", "timeout", None),
        (BackendUnreachable("refused", may_have_reached=False), "error", "unreachable", None),
        (BackendNotPropelAuth("an HTML page", may_have_reached=False), "error", "not_propelauth", None),
        (BackendAnswerTooLarge("too large", may_have_reached=True), "error", "answer_too_large", None),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
async def test_every_failure_has_the_outcome_reason_and_status_the_audit_records(
    reply: ApiResponse | BackendError, outcome: str, reason: str, status: int | None
) -> None:
    result = await failed(reply)
    assert (result.outcome, result.details["reason"], result.http_status) == (outcome, reason, status)


async def test_the_attempts_and_the_time_spent_are_recorded_to_the_millisecond() -> None:
    outcome = await failed(ApiResponse(503, None, attempts=2, elapsed_s=2.34567))
    assert outcome.details == {"reason": "server_error", "attempts": 2, "elapsed_s": 2.346}


# --- how often it tried and how long it waited -------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "elapsed_s", "said"),
    [
        (1, 0.3, "after 1 attempt"),
        (2, 0.42, "after 2 attempts; gave up after 0.4 s"),  # under a second: tenths, never "0 s"
        (3, 1.4, "after 3 attempts; gave up after 1 s"),
        (3, 9.6, "after 3 attempts; gave up after 10 s"),
    ],
)
async def test_a_failure_says_how_often_it_tried_and_how_long_it_waited_before_giving_up(
    attempts: int, elapsed_s: float, said: str
) -> None:
    answered = await failed(ApiResponse(503, None, attempts=attempts, elapsed_s=elapsed_s))
    unanswered = await failed(
        BackendTimeout("timed out", may_have_reached=True, attempts=attempts, elapsed_s=elapsed_s)
    )
    assert f"(HTTP 503) {said}." in answered.text
    assert f"({said})." in unanswered.text


async def test_a_failed_read_ends_by_saying_nothing_changed_and_to_try_again_later() -> None:
    for reply in (ApiResponse(503, None), BackendUnreachable("could not connect", may_have_reached=False)):
        outcome = await failed(reply)
        assert outcome.text.endswith(" Nothing was changed; try again later.")


async def test_a_write_that_may_have_happened_names_the_read_and_the_user_to_check() -> None:
    by_id = await failed(ApiResponse(502, None), "enable_user", user_id=USER_ID)
    by_email = await failed(
        BackendTimeout("timed out", may_have_reached=True), "create_user", email="ada@example.com"
    )
    assert f"check with fetch_user_by_id (user_id {USER_ID}) before retrying." in by_id.text
    assert "check with fetch_user_by_email (ada@example.com) before retrying." in by_email.text


def test_a_write_whose_arguments_name_no_user_still_says_to_check_before_retrying() -> None:
    # The server uses the hint for cancelled calls too, whose arguments may be anything.
    assert check_hint(definition("create_user"), {}) == "check before retrying"


# --- what to do next -----------------------------------------------------------------------------------


async def test_a_rate_limit_naming_no_wait_says_to_wait_a_little_and_try_again() -> None:
    outcome = await failed(ApiResponse(429, None))
    assert outcome.details["retry_after_s"] is None
    assert "wait a little and try again. Nothing was changed." in outcome.text


async def test_access_tokens_switched_off_say_where_to_switch_them_on_and_what_to_use_instead() -> None:
    outcome = await failed(ApiResponse(404, None), "create_access_token", user_id=USER_ID)
    assert outcome.text == (
        "Access-token creation is not enabled for this PropelAuth project; enable it in the "
        "PropelAuth dashboard, or use create_magic_link."
    )


async def test_organizations_switched_off_say_to_call_again_without_include_orgs() -> None:
    outcome = await failed(ApiResponse(426, None), "query_users", include_orgs=True)
    assert outcome.text == (
        "Organizations are not enabled for this PropelAuth project; call again without include_orgs."
    )


async def test_busy_says_nothing_was_sent_and_to_retry_shortly() -> None:
    outcome = await failed(
        BackendBusy("busy", may_have_reached=False, attempts=0), "enable_user", user_id=USER_ID
    )
    assert outcome.text.endswith("nothing was sent. Retry shortly.")


async def test_a_403_names_the_operation_the_key_may_not_do() -> None:
    outcome = await failed(ApiResponse(403, None), "update_user", user_id=USER_ID, first_name="Ada")
    assert "permission for updateUser (HTTP 403)" in outcome.text


async def test_a_404_of_a_request_with_no_subject_says_propelauth_found_nothing() -> None:
    outcome = await failed(ApiResponse(404, None), "query_users", page_size=5)
    assert outcome.text.startswith("PropelAuth found nothing matching the request (HTTP 404).")


async def test_an_answer_of_the_wrong_shape_says_so_with_its_status() -> None:
    outcome = await failed(
        ApiResponse(200, "<html>maintenance</html>"), "create_user", email="ada@example.com"
    )
    assert outcome.text.startswith(
        "PropelAuth answered unexpectedly (HTTP 200 with a body of the wrong shape)."
    )
    assert outcome.text.endswith(
        "probably happened; check with fetch_user_by_email (ada@example.com) before retrying."
    )


# --- the backend's own words: quoted, whole, on one line --------------------------------------------------


async def test_the_backends_words_are_quoted_even_when_they_are_a_single_word() -> None:
    refused = await failed(ApiResponse(400, {"user_facing_error": "Duplicate"}))
    fields = await failed(
        ApiResponse(400, {"email": "required", "username": ["Too short.", "Too common."]}),
        "create_user",
        email="ada@example.com",
    )
    assert refused.text == 'PropelAuth refused: "Duplicate"'
    assert fields.details["field_errors"] == {
        "email": ["required"],
        "username": ["Too short.", "Too common."],
    }
    assert 'these fields: email: "required"; username: "Too short. Too common.". Fix them' in fields.text


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, ["email is invalid", "name is too long"]),
        (400, {"email": {"nested": ["is invalid"]}}),
        (409, {"message": "conflict", "code": 7}),
    ],
)
async def test_a_json_body_no_rule_reads_is_shown_as_its_json(status: int, body: object) -> None:
    outcome = await failed(ApiResponse(status, body))
    shown = outcome.text.split(f"(HTTP {status}): ", 1)[1]
    assert json.loads(shown) == body


async def test_a_text_body_is_shown_as_written_on_one_line() -> None:
    outcome = await failed(ApiResponse(409, "Conflict:\n  the user\tis locked"))
    assert outcome.text.endswith("(HTTP 409): Conflict: the user is locked")


@pytest.mark.parametrize(("length", "shown"), [(200, "x" * 200), (201, "x" * 197 + "...")])
async def test_a_body_is_shown_whole_up_to_200_characters_and_cut_to_200_beyond(
    length: int, shown: str
) -> None:
    outcome = await failed(ApiResponse(409, "x" * length))
    assert outcome.text.endswith(f"(HTTP 409): {shown}")


# --- secrets sent are never repeated; nothing else is hidden ---------------------------------------------


async def test_a_secret_containing_another_secret_is_removed_whole() -> None:
    mfa = "JBSWY3DPEHPK3PXP"
    hash_ = f"$2b$12${mfa}abcdefghij"  # sorts before the MFA secret, and contains it
    arguments = {
        "email": "ada@example.com",
        "existing_password_hash": hash_,
        "existing_mfa_base32_encoded_secret": mfa,
    }
    outcome = await failed(ApiResponse(400, {"detail": f"bad hash {hash_}"}), "migrate_user", **arguments)
    assert outcome.details["field_errors"] == {"detail": ["bad hash [redacted]"]}


async def test_an_argument_that_is_no_secret_stays_in_the_backends_words() -> None:
    body = {"email": ["ada@example.com is already taken"]}
    outcome = await failed(
        ApiResponse(400, body), "create_user", email="ada@example.com", password="hunter22"
    )
    assert outcome.details["field_errors"] == body


@pytest.mark.parametrize(("password", "kept"), [("abcd", "[redacted]"), ("abc", "abc")])
async def test_a_secret_of_four_characters_is_scrubbed_and_a_shorter_one_left_in_ordinary_words(
    password: str, kept: str
) -> None:
    body = {"password": [f"{password} is too short"]}
    outcome = await failed(ApiResponse(400, body), "update_user_password", user_id=USER_ID, password=password)
    assert outcome.details["field_errors"] == {"password": [f"{kept} is too short"]}
