"""Who confirms a destructive call: the preview's token, the person asked now or later, or the argument.

Whatever is refused, declined or cancelled sends nothing: the backend sees only the preview's reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.tools.toolfakes import OTHER_ID, USER_ID, FakeSealer, RecordingBackend, definition, user_body
from tools import execute
from tools.asking import Answer, Asking, SpentTokens
from tools.backend import ApiRequest, ApiResponse
from tools.model import ToolOutcome

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0
READ = ApiRequest("GET", f"/api/backend/v1/user/{USER_ID}")
DELETE = ApiRequest("DELETE", f"/api/backend/v1/user/{USER_ID}", changes_state=True)
PASSWORD = "correct horse battery staple"


class Person:
    """A fake ask_now: answers as scripted and remembers every question."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.asked: list[str] = []

    async def __call__(self, message: str) -> Answer:
        self.asked.append(message)
        return self.answer


def asking(mode: str = "auto", **overrides: Any) -> Asking:
    clock = overrides.pop("clock", lambda: NOW)
    base: dict[str, Any] = {
        "mode": mode,
        "caller": "ops-bot",
        "sealer": FakeSealer(b"k" * 32),
        "spent": SpentTokens(clock=clock),
        "clock": clock,
    }
    return Asking(**{**base, **overrides})


def backend(*bodies: Mapping[str, Any]) -> RecordingBackend:
    """Answers each read with the next user body (the last repeats), and a write with {}."""
    replies = [dict(body) for body in bodies] or [user_body()]

    def answer(request: ApiRequest) -> ApiResponse:
        if request.method != "GET":
            return ApiResponse(200, {})
        return ApiResponse(200, replies.pop(0) if len(replies) > 1 else replies[0])

    return RecordingBackend(answer)


def conforms(name: str, outcome: ToolOutcome) -> bool:
    return Draft202012Validator(definition(name).output_schema).is_valid(outcome.structured)


async def preview_token(how: Asking, name: str = "delete_user", user_id: str = USER_ID) -> str:
    outcome = await execute(definition(name), {"user_id": user_id}, backend(user_body(user_id)), how)
    token = (outcome.structured or {})["confirmation_token"]
    assert isinstance(token, str)
    return token


# The preview: an answer, with a token bound to it.


@pytest.mark.parametrize("mode", ["auto", "preview"])
async def test_a_preview_is_an_answer_with_a_token_and_text_saying_nothing_was_done(mode: str) -> None:
    seen = backend()
    outcome = await execute(definition("delete_user"), {"user_id": USER_ID}, seen, asking(mode))

    assert outcome.outcome == "preview" and not outcome.is_error
    assert outcome.text.startswith("Nothing was done: this would permanently delete user")
    structured = outcome.structured or {}
    assert structured["confirmation_required"] is True
    assert structured["preview"]["email"] == "ada@example.com"
    assert structured["expires_in_s"] == 300
    assert structured["confirmation_token"] in outcome.text  # clients that read only text can confirm
    assert conforms("delete_user", outcome)
    assert outcome.confirmation == {"method": "preview", "answer": None, "message": None}
    assert seen.requests == [READ]


async def test_the_token_never_reaches_the_audit_details() -> None:
    outcome = await execute(definition("delete_user"), {"user_id": USER_ID}, backend(), asking())
    assert (outcome.structured or {})["confirmation_token"] not in repr(outcome.details)


async def test_under_argument_mode_the_preview_has_no_token_and_confirm_alone_sends() -> None:
    outcome = await execute(definition("delete_user"), {"user_id": USER_ID}, backend())
    assert (outcome.structured or {})["confirmation_token"] is None and conforms("delete_user", outcome)

    seen = backend()
    done = await execute(definition("delete_user"), {"user_id": USER_ID, "confirm": True}, seen)
    assert done.outcome == "ok" and seen.requests == [DELETE]
    assert done.confirmation == {"method": "argument", "answer": None, "message": None}


async def test_when_the_person_can_be_asked_the_preview_says_so() -> None:
    outcome = await execute(
        definition("delete_user"), {"user_id": USER_ID}, backend(), asking(ask_now=Person("accept"))
    )
    assert "the person at the client will be asked to confirm" in outcome.text
    assert outcome.confirmation == {"method": "human", "answer": None, "message": None}


async def test_under_human_mode_with_nobody_to_ask_the_preview_has_no_token_and_says_who_can() -> None:
    outcome = await execute(definition("delete_user"), {"user_id": USER_ID}, backend(), asking("human"))
    assert outcome.outcome == "preview" and (outcome.structured or {})["confirmation_token"] is None
    assert "cannot be asked" in outcome.text and "Claude Code" in outcome.text


# The token route (auto with nobody to ask, and preview mode).


@pytest.mark.parametrize("mode", ["auto", "preview"])
async def test_the_preview_token_confirms_exactly_that_call_once(mode: str) -> None:
    how = asking(mode)
    token = await preview_token(how)
    arguments = {"user_id": USER_ID, "confirm": True, "confirmation_token": token}

    seen = backend()
    done = await execute(definition("delete_user"), arguments, seen, how)
    assert done.outcome == "ok" and seen.requests == [READ, DELETE]
    assert done.confirmation == {"method": "preview", "answer": None, "message": None}

    again = backend()
    replay = await execute(definition("delete_user"), arguments, again, how)
    assert replay.outcome == "rejected" and replay.details["reason"] == "confirmation_token_reused"
    assert again.state_changing == []


async def test_a_token_for_a_target_that_changed_since_the_preview_sends_nothing() -> None:
    how = asking()
    token = await preview_token(how)
    changed = backend(user_body(mfa_enabled=False))  # someone turned 2FA off in between

    outcome = await execute(
        definition("delete_user"),
        {"user_id": USER_ID, "confirm": True, "confirmation_token": token},
        changed,
        how,
    )

    assert outcome.is_error and outcome.details["reason"] == "target_changed"
    assert changed.requests == [READ]
    assert "new preview" in outcome.text


async def test_a_refused_token_stays_usable_for_its_own_call() -> None:
    how = asking()
    token = await preview_token(how)
    await execute(
        definition("delete_user"),
        {"user_id": USER_ID, "confirm": True, "confirmation_token": token},
        backend(user_body(enabled=False)),
        how,
    )
    seen = backend()
    done = await execute(
        definition("delete_user"),
        {"user_id": USER_ID, "confirm": True, "confirmation_token": token},
        seen,
        how,
    )
    assert done.outcome == "ok" and seen.requests == [READ, DELETE]


async def test_a_token_for_other_arguments_another_caller_or_another_tool_sends_nothing_not_even_a_read() -> (
    None
):
    how = asking()
    cases = [
        ("delete_user", OTHER_ID, how, await preview_token(how)),  # the preview of another user
        ("delete_user", USER_ID, replace(how, caller="intruder"), await preview_token(how)),
        ("delete_user", USER_ID, how, await preview_token(how, "disable_user")),
    ]
    for name, user_id, calling, token in cases:
        seen = backend(user_body(user_id))
        arguments = {"user_id": user_id, "confirm": True, "confirmation_token": token}
        outcome = await execute(definition(name), arguments, seen, calling)
        assert outcome.is_error and outcome.details["reason"] == "confirmation_token_mismatch"
        assert seen.requests == []


async def test_an_expired_token_sends_nothing() -> None:
    now = [NOW]
    how = asking(clock=lambda: now[0])
    token = await preview_token(how)
    now[0] += 301

    seen = backend()
    outcome = await execute(
        definition("delete_user"),
        {"user_id": USER_ID, "confirm": True, "confirmation_token": token},
        seen,
        how,
    )

    assert outcome.details["reason"] == "confirmation_token_expired" and seen.requests == []


@pytest.mark.parametrize("mode", ["auto", "preview"])
async def test_confirm_true_without_a_token_when_nobody_can_be_asked_sends_nothing(mode: str) -> None:
    seen = backend()
    outcome = await execute(
        definition("delete_user"), {"user_id": USER_ID, "confirm": True}, seen, asking(mode)
    )
    assert outcome.is_error and outcome.details["reason"] == "confirmation_token_missing"
    assert seen.requests == []


# The person asked now (2025-11-25 era).


async def test_the_person_is_asked_about_the_target_as_read_and_an_accept_sends_the_change() -> None:
    person = Person("accept")
    seen = backend()
    outcome = await execute(
        definition("delete_user"), {"user_id": USER_ID, "confirm": True}, seen, asking(ask_now=person)
    )

    [message] = person.asked
    assert message.startswith(f"Permanently delete user {USER_ID} (ada@example.com") and message.endswith("?")
    assert outcome.outcome == "ok" and seen.requests == [READ, DELETE]
    assert outcome.confirmation == {"method": "human", "answer": "accept", "message": message}


@pytest.mark.parametrize("answer", ["decline", "cancel"])
@pytest.mark.parametrize("mode", ["auto", "human"])
async def test_a_decline_or_cancel_sends_nothing_and_is_an_answer_not_an_error(
    answer: Answer, mode: str
) -> None:
    seen = backend()
    outcome = await execute(
        definition("delete_user"),
        {"user_id": USER_ID, "confirm": True},
        seen,
        asking(mode, ask_now=Person(answer)),
    )

    assert outcome.outcome == "declined" and not outcome.is_error
    assert outcome.structured == {"declined": True, "answer": answer} and conforms("delete_user", outcome)
    assert outcome.text.startswith("Nothing was done")
    assert (outcome.confirmation or {})["answer"] == answer
    assert seen.requests == [READ]


async def test_when_the_question_cannot_reach_the_person_auto_falls_back_to_the_token() -> None:
    how = asking(ask_now=Person("unavailable"))
    token = await preview_token(how)

    without = backend()
    refused = await execute(definition("delete_user"), {"user_id": USER_ID, "confirm": True}, without, how)
    assert refused.details["reason"] == "confirmation_token_missing" and without.state_changing == []

    seen = backend()
    done = await execute(
        definition("delete_user"),
        {"user_id": USER_ID, "confirm": True, "confirmation_token": token},
        seen,
        how,
    )
    assert done.outcome == "ok" and seen.state_changing == [DELETE]
    assert done.confirmation is not None
    assert (done.confirmation["method"], done.confirmation["answer"]) == ("preview", "unavailable")


async def test_under_human_mode_a_question_that_cannot_reach_the_person_sends_nothing() -> None:
    seen = backend()
    outcome = await execute(
        definition("delete_user"),
        {"user_id": USER_ID, "confirm": True},
        seen,
        asking("human", ask_now=Person("unavailable")),
    )
    assert outcome.is_error and outcome.details["reason"] == "confirmation_unavailable"
    assert seen.state_changing == []


async def test_under_human_mode_with_nobody_to_ask_nothing_is_sent_even_with_a_valid_token() -> None:
    token = await preview_token(asking())
    seen = backend()
    outcome = await execute(
        definition("delete_user"),
        {"user_id": USER_ID, "confirm": True, "confirmation_token": token},
        seen,
        asking("human"),
    )
    assert outcome.is_error and outcome.details["reason"] == "confirmation_unavailable"
    assert "Claude Code" in outcome.text
    assert outcome.confirmation == {"method": "human", "answer": "unavailable", "message": None}
    assert seen.requests == []


@pytest.mark.parametrize("mode", ["preview", "argument"])
async def test_the_modes_that_never_ask_do_not_ask(mode: str) -> None:
    person = Person("accept")
    await execute(
        definition("delete_user"),
        {"user_id": USER_ID, "confirm": True},
        backend(),
        asking(mode, ask_now=person),
    )
    assert person.asked == []


# The person asked later (2026-07-28 era: input_required, then a retry with the sealed state).


async def ask_later(how: Asking, seen: RecordingBackend | None = None) -> ToolOutcome:
    return await execute(
        definition("delete_user"), {"user_id": USER_ID, "confirm": True}, seen or backend(), how
    )


async def test_a_client_that_can_answer_later_is_given_the_question_and_its_state_and_nothing_is_sent() -> (
    None
):
    seen = backend()
    outcome = await ask_later(asking(can_ask_later=True), seen)

    assert outcome.outcome == "input_required" and not outcome.is_error
    ask = outcome.details["ask"]
    assert ask["message"].startswith("Permanently delete user") and "ada@example.com" in ask["message"]
    assert {"v", "tool", "nonce", "question", "target", "exp"} == ask["state"].keys()
    assert ask["state"]["tool"] == "delete_user" and ask["state"]["exp"] == int(NOW) + 300
    assert outcome.confirmation == {"method": "human", "answer": None, "message": ask["message"]}
    assert seen.requests == [READ]


async def test_the_answer_to_the_state_decides_and_the_same_state_cannot_be_answered_twice() -> None:
    how = asking(can_ask_later=True)
    state = (await ask_later(how)).details["ask"]["state"]
    answered = replace(how, state=state, answer="accept")

    seen = backend()
    done = await ask_later(answered, seen)
    assert done.outcome == "ok" and seen.requests == [READ, DELETE]
    assert (done.confirmation or {})["answer"] == "accept"

    again = backend()
    replay = await ask_later(answered, again)
    assert replay.is_error and replay.details["reason"] == "state_reused" and again.state_changing == []


@pytest.mark.parametrize("answer", ["decline", "cancel"])
async def test_a_later_decline_or_cancel_sends_nothing(answer: Answer) -> None:
    how = asking(can_ask_later=True)
    state = (await ask_later(how)).details["ask"]["state"]
    seen = backend()
    outcome = await ask_later(replace(how, state=state, answer=answer), seen)
    assert outcome.outcome == "declined" and seen.requests == [READ]


async def test_an_answer_about_a_target_that_changed_meanwhile_sends_nothing() -> None:
    how = asking(can_ask_later=True)
    state = (await ask_later(how)).details["ask"]["state"]
    seen = backend(user_body(enabled=False))
    outcome = await ask_later(replace(how, state=state, answer="accept"), seen)
    assert outcome.details["reason"] == "target_changed" and seen.requests == [READ]


@pytest.mark.parametrize(
    ("edit", "reason"),
    [({"exp": int(NOW) - 1}, "state_expired"), ({"tool": "disable_user"}, "state_invalid")],
    ids=["expired", "another-tool"],
)
async def test_an_expired_state_or_one_of_another_tool_sends_nothing(
    edit: dict[str, Any], reason: str
) -> None:
    how = asking(can_ask_later=True)
    state = {**(await ask_later(how)).details["ask"]["state"], **edit}
    seen = backend()
    outcome = await ask_later(replace(how, state=state, answer="accept"), seen)
    assert outcome.details["reason"] == reason and seen.state_changing == []


@pytest.mark.parametrize(
    "how",
    [
        asking("auto"),
        asking("human"),
        asking("auto", ask_now=Person("unavailable")),
        asking("preview", can_ask_later=True),
        asking("argument", can_ask_later=True),
        asking("auto", answer="accept"),  # an answer without a state of ours is no answer
    ],
    ids=["auto", "human", "auto-unreachable", "preview", "argument", "answer-without-state"],
)
async def test_input_required_is_never_answered_unless_the_client_can_answer_later(how: Asking) -> None:
    for arguments in ({"user_id": USER_ID}, {"user_id": USER_ID, "confirm": True}):
        outcome = await execute(definition("delete_user"), arguments, backend(), how)
        assert outcome.outcome != "input_required"


# Sensitive tools: the person's accept under human, as today otherwise; never a secret in a question.


async def test_under_human_mode_a_password_change_asks_without_showing_the_password() -> None:
    person = Person("decline")
    seen = backend()
    outcome = await execute(
        definition("update_user_password"),
        {"user_id": USER_ID, "password": PASSWORD},
        seen,
        asking("human", ask_now=person),
    )

    [message] = person.asked
    assert message.startswith(f"Set a new password for user {USER_ID} (ada@example.com")
    for said in (message, outcome.text, repr(outcome.details), repr(outcome.confirmation)):
        assert PASSWORD not in said
    assert outcome.outcome == "declined" and conforms("update_user_password", outcome)
    assert seen.requests == [READ]


async def test_a_question_asked_later_never_holds_a_secret_either() -> None:
    outcome = await execute(
        definition("update_user_password"),
        {"user_id": USER_ID, "password": PASSWORD},
        backend(),
        asking("human", can_ask_later=True),
    )
    assert outcome.outcome == "input_required" and PASSWORD not in repr(outcome.details)


async def test_under_human_mode_a_magic_link_needs_the_persons_accept_and_names_the_email() -> None:
    person = Person("accept")
    seen = RecordingBackend(ApiResponse(200, {"url": "https://auth.example.com/x"}))
    outcome = await execute(
        definition("create_magic_link"), {"email": "ada@example.com"}, seen, asking("human", ask_now=person)
    )
    assert person.asked == ["Create a sign-in link for ada@example.com?"]
    assert outcome.outcome == "ok" and [r.method for r in seen.requests] == ["POST"]


async def test_under_human_mode_a_sensitive_call_with_nobody_to_ask_sends_nothing() -> None:
    seen = RecordingBackend(ApiResponse(200, {"url": "https://auth.example.com/x"}))
    outcome = await execute(
        definition("create_magic_link"), {"email": "ada@example.com"}, seen, asking("human")
    )
    assert outcome.is_error and outcome.details["reason"] == "confirmation_unavailable"
    assert seen.requests == []


@pytest.mark.parametrize("mode", ["auto", "preview", "argument"])
async def test_outside_human_mode_a_sensitive_call_runs_as_before_without_asking(mode: str) -> None:
    person = Person("decline")
    seen = RecordingBackend(ApiResponse(200, {"url": "https://auth.example.com/x"}))
    outcome = await execute(
        definition("create_magic_link"), {"email": "ada@example.com"}, seen, asking(mode, ask_now=person)
    )
    assert outcome.outcome == "ok" and person.asked == [] and outcome.confirmation is None
