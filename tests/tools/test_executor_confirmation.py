"""Confirm-gated tools: without confirm: true they only read a preview; nothing changes."""

from __future__ import annotations

import re

import pytest

from tests.tools.toolfakes import USER_ID, RecordingBackend, definition, user_body
from tools import execute
from tools.backend import ApiRequest, ApiResponse, BackendTimeout

GATED = ["delete_user", "disable_user", "logout_all_user_sessions", "clear_user_password", "disable_user_2fa"]
PREVIEW_READ = ApiRequest("GET", f"/api/backend/v1/user/{USER_ID}")


@pytest.mark.anyio
@pytest.mark.parametrize("name", GATED)
@pytest.mark.parametrize("confirm", [None, False])
async def test_an_unconfirmed_gated_call_reads_a_preview_and_changes_nothing(
    name: str, confirm: bool | None
) -> None:
    backend = RecordingBackend(ApiResponse(200, user_body()))
    arguments: dict[str, object] = {"user_id": USER_ID.upper()}
    if confirm is not None:
        arguments["confirm"] = confirm

    outcome = await execute(definition(name), arguments, backend)

    assert backend.requests == [PREVIEW_READ]
    assert outcome.outcome == "preview" and not outcome.is_error  # an answer, not a failure
    assert outcome.confirmed is False
    assert outcome.target == {"user_id": USER_ID}
    assert outcome.details["reason"] == "confirmation_required"
    assert "confirm: true" in outcome.text


@pytest.mark.anyio
async def test_the_preview_names_who_would_be_affected_and_their_state() -> None:
    backend = RecordingBackend(ApiResponse(200, user_body(enabled=True, mfa_enabled=True)))

    outcome = await execute(definition("delete_user"), {"user_id": USER_ID}, backend)

    for fact in (
        "permanently delete",
        USER_ID,
        "ada@example.com",
        "Ada Lovelace",
        "enabled",
        "2FA on",
        "2024-07-03",
    ):
        assert fact in outcome.text
    assert outcome.details["preview"] == {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "enabled": True,
        "mfa_enabled": True,
        "last_active": "2024-07-03 09:46 UTC",
    }


@pytest.mark.anyio
@pytest.mark.parametrize(("enabled", "mfa_enabled"), [(True, True), (False, False), (True, False)])
async def test_the_preview_states_whether_the_user_is_enabled_and_has_2fa_as_read(
    enabled: bool, mfa_enabled: bool
) -> None:
    # The admin decides on the state shown: a disabled user never reads as enabled, nor 2FA off as on.
    backend = RecordingBackend(ApiResponse(200, user_body(enabled=enabled, mfa_enabled=mfa_enabled)))

    outcome = await execute(definition("disable_user_2fa"), {"user_id": USER_ID}, backend)

    words = re.findall(r"\w+", outcome.text)
    assert ("enabled" in words, "disabled" in words) == (enabled, not enabled)
    assert (re.search(r"\b2FA on\b", outcome.text) is not None) == mfa_enabled
    assert (re.search(r"\b2FA off\b", outcome.text) is not None) == (not mfa_enabled)
    assert outcome.details["preview"]["enabled"] is enabled
    assert outcome.http_status == 200  # the audit records what the read was answered with


@pytest.mark.anyio
async def test_the_preview_of_a_missing_user_says_it_does_not_exist() -> None:
    backend = RecordingBackend(ApiResponse(404, None))

    outcome = await execute(definition("disable_user"), {"user_id": USER_ID}, backend)

    assert outcome.outcome == "rejected"
    assert outcome.http_status == 404
    assert outcome.details["reason"] == "not_found"
    assert f"No user with id {USER_ID}" in outcome.text
    assert backend.requests == [PREVIEW_READ]


@pytest.mark.anyio
async def test_a_preview_that_cannot_be_read_still_changes_nothing() -> None:
    backend = RecordingBackend(BackendTimeout("timed out", may_have_reached=False, attempts=3))

    outcome = await execute(definition("delete_user"), {"user_id": USER_ID}, backend)

    assert outcome.outcome == "rejected"
    assert outcome.details["reason"] == "timeout"
    assert backend.requests == [PREVIEW_READ]


@pytest.mark.anyio
@pytest.mark.parametrize("confirm", ["true", 1, "yes"])
async def test_anything_but_a_literal_true_is_not_a_confirmation(confirm: object) -> None:
    backend = RecordingBackend(ApiResponse(200, user_body()))

    outcome = await execute(definition("delete_user"), {"user_id": USER_ID, "confirm": confirm}, backend)

    assert outcome.outcome in ("preview", "rejected")
    assert "confirm" in outcome.text
    assert backend.state_changing == []


@pytest.mark.anyio
async def test_a_confirmed_call_sends_the_change_without_the_confirm_argument() -> None:
    backend = RecordingBackend(ApiResponse(200, {}))

    outcome = await execute(definition("disable_user"), {"user_id": USER_ID, "confirm": True}, backend)

    assert backend.requests == [
        ApiRequest("POST", f"/api/backend/v1/user/{USER_ID}/disable", changes_state=True)
    ]
    assert outcome.outcome == "ok"
    assert outcome.confirmed is True
    assert outcome.structured == {"ok": True, "user_id": USER_ID}


@pytest.mark.anyio
async def test_tools_without_a_gate_report_confirmed_as_not_applicable() -> None:
    backend = RecordingBackend(ApiResponse(200, {}))
    outcome = await execute(definition("enable_user"), {"user_id": USER_ID}, backend)
    assert outcome.confirmed is None
