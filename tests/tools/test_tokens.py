"""Confirmation tokens and question states: bound to caller, tool, arguments and target; in time; once."""

from __future__ import annotations

import json

import pytest

from tests.tools.toolfakes import FakeSealer
from tools import redact_arguments
from tools.asking import SpentTokens
from tools.tokens import (
    CONFIRMATION_TTL_S,
    Binding,
    TokenRefused,
    arguments_digest,
    check_state,
    check_target,
    digest,
    mint,
    open_token,
    question_state,
    spend,
)

NOW = 1_800_000_000.0
BOUND = Binding("ops-bot", "delete_user", arguments_digest({"user_id": "u1"}), digest({"email": "a@x"}))


def reason(call: object) -> str:
    with pytest.raises(TokenRefused) as refused:
        call()  # type: ignore[operator]
    return refused.value.reason


def test_a_token_opens_for_the_same_caller_tool_and_arguments_and_matches_the_target_as_read() -> None:
    sealer = FakeSealer()
    claims = open_token(sealer, mint(sealer, BOUND, NOW), BOUND, NOW + 1)
    check_target(claims, BOUND.target)
    assert claims["exp"] == int(NOW) + CONFIRMATION_TTL_S
    assert {"v", "iat", "exp", "jti", "caller", "tool", "args", "target"} == claims.keys()


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        (Binding("someone-else", BOUND.tool, BOUND.arguments, BOUND.target), "confirmation_token_mismatch"),
        (Binding(None, BOUND.tool, BOUND.arguments, BOUND.target), "confirmation_token_mismatch"),
        (Binding(BOUND.caller, "disable_user", BOUND.arguments, BOUND.target), "confirmation_token_mismatch"),
        (
            Binding(BOUND.caller, BOUND.tool, arguments_digest({"user_id": "u2"}), BOUND.target),
            "confirmation_token_mismatch",
        ),
    ],
    ids=["another-caller", "no-caller", "another-tool", "other-arguments"],
)
def test_a_token_for_another_caller_tool_or_arguments_does_not_open(other: Binding, expected: str) -> None:
    sealer = FakeSealer()
    token = mint(sealer, BOUND, NOW)
    assert reason(lambda: open_token(sealer, token, other, NOW + 1)) == expected


def test_a_token_for_a_target_that_changed_since_the_preview_is_refused() -> None:
    sealer = FakeSealer()
    claims = open_token(sealer, mint(sealer, BOUND, NOW), BOUND, NOW)
    assert (
        reason(lambda: check_target(claims, digest({"email": "a@x", "enabled": False}))) == "target_changed"
    )


def test_an_expired_token_is_refused() -> None:
    sealer = FakeSealer()
    token = mint(sealer, BOUND, NOW)
    expired = NOW + CONFIRMATION_TTL_S
    assert reason(lambda: open_token(sealer, token, BOUND, expired)) == "confirmation_token_expired"


@pytest.mark.parametrize("token", [None, "", 42, "not-a-token"])
def test_a_missing_or_malformed_token_is_refused(token: object) -> None:
    expected = "confirmation_token_invalid" if token == "not-a-token" else "confirmation_token_missing"
    assert reason(lambda: open_token(FakeSealer(), token, BOUND, NOW)) == expected


def test_an_edited_token_or_one_sealed_under_other_keys_is_refused() -> None:
    sealer = FakeSealer()
    token = mint(sealer, BOUND, NOW)
    edited = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    assert reason(lambda: open_token(sealer, edited, BOUND, NOW)) == "confirmation_token_invalid"
    foreign = mint(FakeSealer(), BOUND, NOW)
    assert reason(lambda: open_token(sealer, foreign, BOUND, NOW)) == "confirmation_token_invalid"


def test_claims_of_another_version_are_refused_even_when_sealed_by_our_keys() -> None:
    sealer = FakeSealer()
    token = sealer.seal(json.dumps({"v": 2, "exp": NOW + 60}).encode())
    assert reason(lambda: open_token(sealer, token, BOUND, NOW)) == "confirmation_token_invalid"


def test_a_token_is_spent_once() -> None:
    sealer, spent = FakeSealer(), SpentTokens(clock=lambda: NOW)
    claims = open_token(sealer, mint(sealer, BOUND, NOW), BOUND, NOW)
    spend(spent, claims)
    assert reason(lambda: spend(spent, claims)) == "confirmation_token_reused"


def test_the_arguments_digest_leaves_out_the_confirming_arguments_and_ignores_key_order() -> None:
    base = arguments_digest({"user_id": "u1", "org_id": "o1"})
    assert (
        arguments_digest({"org_id": "o1", "user_id": "u1", "confirm": True, "confirmation_token": "t"})
        == base
    )
    assert arguments_digest({"user_id": "u1", "org_id": "o2"}) != base


def test_the_confirmation_token_is_redacted_in_the_audit_like_a_password() -> None:
    assert redact_arguments({"user_id": "u1", "confirmation_token": "v1.sealed"})["confirmation_token"] != (
        "v1.sealed"
    )


def test_a_question_state_is_bound_to_tool_question_target_expiry_and_is_answered_once() -> None:
    spent = SpentTokens(clock=lambda: NOW)
    state = question_state("delete_user", "Delete ada?", "t1", NOW)
    assert {"v", "tool", "nonce", "question", "target", "exp"} == state.keys()
    check_state(state, "delete_user", "Delete ada?", "t1", NOW + 1, spent)
    assert reason(lambda: check_state(state, "delete_user", "Delete ada?", "t1", NOW + 1, spent)) == (
        "state_reused"
    )


@pytest.mark.parametrize(
    ("tool", "message", "target", "at", "expected"),
    [
        ("disable_user", "Delete ada?", "t1", NOW, "state_invalid"),
        ("delete_user", "Delete grace?", "t1", NOW, "target_changed"),
        ("delete_user", "Delete ada?", "t2", NOW, "target_changed"),
        ("delete_user", "Delete ada?", "t1", NOW + CONFIRMATION_TTL_S, "state_expired"),
    ],
    ids=["another-tool", "another-question", "target-changed", "expired"],
)
def test_a_question_state_for_another_tool_question_or_target_or_expired_is_refused(
    tool: str, message: str, target: str, at: float, expected: str
) -> None:
    state = question_state("delete_user", "Delete ada?", "t1", NOW)
    assert reason(lambda: check_state(state, tool, message, target, at, SpentTokens())) == expected
