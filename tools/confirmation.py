"""Who confirms a confirm-gated (or, under --confirmation human, a sensitive) call, and how.

A call without `confirm: true` is a PREVIEW: the target is read and said, nothing is changed, and the
answer carries a confirmation token bound to exactly this call. With `confirm: true` the call goes
ahead only when the operator's mode is satisfied: by the argument alone ("argument"), by the person
at the client saying yes (asked now, or asked later in the 2026-07-28 multi-round-trip form), or by
the preview's token (the target read again and found as it was). Whatever is refused sends nothing.

How the target is read and said is the catalog's (its target kind's preview, resolved at
derivation); nothing here knows users, organizations, MCP or a transport.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tools.asking import Answer, Asking
from tools.backend import Backend, BackendError
from tools.failures import http_failure, not_found_text, transport_failure
from tools.model import Confirmation, ToolDefinition, ToolOutcome
from tools.policy import is_confirmed
from tools.previews import Seen
from tools.requests import build_request
from tools.secrets import SECRET_ARGUMENTS
from tools.tokens import (
    CONFIRMATION_TTL_S,
    TOKEN_ARGUMENT,
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
from tools.untrusted import shown

Send = Callable[[], Awaitable[ToolOutcome]]

# Which clients can be asked (the README says the same, at length).
WHO_CAN_BE_ASKED = (
    "clients with form elicitation can (e.g. Claude Code, VS Code, Cursor; over HTTP only "
    "MCP 2026-07-28 clients)"
)


def confirmation(method: str, answer: Answer | None = None, message: str | None = None) -> Confirmation:
    """What the audit records: how the call was (or is to be) confirmed, the answer, the question."""
    return {"method": method, "answer": answer, "message": message}


async def confirm_gated(
    definition: ToolDefinition, args: dict[str, Any], backend: Backend, asking: Asking, send: Send
) -> ToolOutcome:
    """A confirm-gated call: a preview, or the change once confirmed as the operator's mode requires."""
    if not is_confirmed(args):
        outcome = await preview(definition, args, backend, asking)
    elif asking.mode == "argument":
        outcome = await send()
        outcome.confirmation = confirmation("argument")
    else:
        outcome = await _by_the_person_or_token(definition, args, backend, asking, send)
    if outcome.confirmation is None:  # a read that failed: said as what the call would have needed
        outcome.confirmation = confirmation(_method(asking))
    return outcome


async def confirm_sensitive(
    definition: ToolDefinition, args: dict[str, Any], backend: Backend, asking: Asking, send: Send
) -> ToolOutcome:
    """A sensitive call under --confirmation human: it runs only on the person's accept."""
    human = await _ask_the_person(definition, args, backend, asking, send)
    outcome = _nobody_to_ask(definition, human.asked) if isinstance(human, _Unreachable) else human
    if outcome.confirmation is None:  # the target could not be read: the person was not asked
        outcome.confirmation = confirmation("human")
    return outcome


def _method(asking: Asking) -> str:
    if asking.mode == "argument":
        return "argument"
    return "human" if asking.mode == "human" or asking.can_ask else "preview"


@dataclass(frozen=True)
class _Unreachable:
    """The person cannot be asked here, or the question could not reach them (`asked` says what)."""

    asked: Confirmation | None = None


async def _by_the_person_or_token(
    definition: ToolDefinition, args: dict[str, Any], backend: Backend, asking: Asking, send: Send
) -> ToolOutcome:
    human = await _ask_the_person(definition, args, backend, asking, send)
    if not isinstance(human, _Unreachable):
        return human
    if asking.mode == "human":
        return _nobody_to_ask(definition, human.asked)
    # auto: the person could not be asked (or this client cannot be): the preview's token confirms.
    return await _by_token(definition, args, backend, asking, send, human.asked)


async def _ask_the_person(
    definition: ToolDefinition, args: dict[str, Any], backend: Backend, asking: Asking, send: Send
) -> ToolOutcome | _Unreachable:
    """The person's decision on this call (or the question to put to them later), as an outcome."""
    answered = asking.mode in ("auto", "human") and asking.state is not None and asking.answer is not None
    if not (answered or asking.can_ask):
        return _Unreachable()
    read = await read_target(definition, args, backend)
    if isinstance(read, ToolOutcome):
        return read
    seen = read.seen
    message = question(definition, args, seen)
    target = digest(seen.facts)
    if answered and asking.answer in ("accept", "decline", "cancel"):
        assert asking.state is not None and asking.answer is not None
        asked = confirmation("human", asking.answer, message)
        try:
            check_state(asking.state, definition.name, message, target, asking.clock(), asking.spent)
        except TokenRefused as refused:
            return _refused(definition, refused, asked, "Call it again to be asked anew.")
        return await _decided(definition, args, asking.answer, asked, seen, send)
    if asking.ask_now is not None and asking.can_ask:
        answer = await asking.ask_now(message)
        asked = confirmation("human", answer, message)
        if answer == "unavailable":
            return _Unreachable(asked)
        return await _decided(definition, args, answer, asked, seen, send)
    if asking.can_ask_later and asking.can_ask:
        state = question_state(definition.name, message, target, asking.clock())
        return ToolOutcome(
            "input_required",
            f"Nothing was done yet: the person at the client is asked: {message}",
            details={"reason": "input_required", "ask": {"message": message, "state": state}},
            confirmation=confirmation("human", None, message),
        )
    return _Unreachable()


async def _decided(
    definition: ToolDefinition,
    args: dict[str, Any],
    answer: Answer,
    asked: Confirmation,
    seen: Seen,
    send: Send,
) -> ToolOutcome:
    if answer == "accept":
        outcome = await send()
    else:
        done = "cancelled the question whether" if answer == "cancel" else "declined"
        outcome = ToolOutcome(
            "declined",
            f"Nothing was done: the person at the client {done} to {_consequence(definition, args, seen)}. "
            "Do not retry unless they ask you to.",
            structured={"declined": True, "answer": answer},
            details={"reason": "declined"},
        )
    outcome.confirmation = asked
    return outcome


async def _by_token(
    definition: ToolDefinition,
    args: dict[str, Any],
    backend: Backend,
    asking: Asking,
    send: Send,
    asked: Confirmation | None,
) -> ToolOutcome:
    """The preview's token confirms: for this caller, tool and arguments, opened before any read;
    then the target read again must be as the preview read it; then the token is used up."""
    said = confirmation("preview", asked["answer"], asked["message"]) if asked else confirmation("preview")
    again = (
        f"Call {definition.name} without confirm for a new preview, then confirm with its confirmation_token."
    )
    if asking.sealer is None:  # the server always hands one; without it no token can confirm
        refused = TokenRefused("confirmation_unavailable", "this server cannot check confirmation tokens")
        return _refused(definition, refused, said, "")
    now = asking.clock()
    # The target is not known before the read; open_token checks the rest, check_target it.
    binding = Binding(asking.caller, definition.name, arguments_digest(args), target="")
    try:
        claims = open_token(asking.sealer, args.get(TOKEN_ARGUMENT), binding, now)
    except TokenRefused as refused:
        return _refused(definition, refused, said, again)
    read = await read_target(definition, args, backend)
    if isinstance(read, ToolOutcome):
        read.confirmation = said
        return read
    try:
        check_target(claims, digest(read.seen.facts))
        spend(asking.spent, claims)
    except TokenRefused as refused:
        return _refused(definition, refused, said, again)
    outcome = await send()
    outcome.confirmation = said
    return outcome


def _refused(
    definition: ToolDefinition, refused: TokenRefused, said: Confirmation, what_to_do: str
) -> ToolOutcome:
    text = f"Nothing was sent: {refused.text}. {what_to_do}".strip()
    return ToolOutcome(
        "rejected", text, details={"reason": refused.reason, "preview_of": definition.name}, confirmation=said
    )


def _nobody_to_ask(definition: ToolDefinition, asked: Confirmation | None) -> ToolOutcome:
    said = asked if asked is not None else confirmation("human", "unavailable")
    return ToolOutcome(
        "rejected",
        f"Nothing was sent: this server requires the person at the client to confirm {definition.name} "
        f"(--confirmation human), and they could not be asked; {WHO_CAN_BE_ASKED}.",
        details={"reason": "confirmation_unavailable"},
        confirmation=said,
    )


async def preview(
    definition: ToolDefinition, args: dict[str, Any], backend: Backend, asking: Asking | None = None
) -> ToolOutcome:
    """Say what a confirm-gated call would do, to what, reading the target first; change nothing."""
    asking = Asking() if asking is None else asking
    read = await read_target(definition, args, backend)
    if isinstance(read, ToolOutcome):
        return read
    seen = read.seen
    assert definition.target is not None, "derivation checks every gated tool has one"
    token: str | None = None
    method = _method(asking)
    again = f"call {definition.name} again with the same arguments and confirm: true"
    if asking.mode in ("auto", "preview") and asking.sealer is not None:
        # Under auto too: the person may turn out not to be reachable, and then the token confirms.
        binding = Binding(asking.caller, definition.name, arguments_digest(args), digest(seen.facts))
        token = mint(asking.sealer, binding, asking.clock())
        again += f" and confirmation_token {token} (valid {CONFIRMATION_TTL_S // 60} minutes)"
    if method == "human" and asking.can_ask:
        then = f"{again}; the person at the client will be asked to confirm."
    elif method == "human":
        then = (
            f"the person at the client must confirm it (--confirmation human), and they cannot be asked "
            f"here; {WHO_CAN_BE_ASKED}."
        )
    else:
        then = f"{again}."
    text = (
        f"Nothing was done: this would {_consequence(definition, args, seen)}. If that is the right "
        f"{definition.target.noun}, {then}"
    )
    return ToolOutcome(
        "preview",
        text,
        structured={
            "confirmation_required": True,
            "preview": seen.facts,
            "confirmation_token": token,
            "expires_in_s": CONFIRMATION_TTL_S if token is not None else None,
        },
        http_status=read.status,
        details={"reason": "confirmation_required", "preview": seen.facts, "preview_of": definition.name},
        confirmation=confirmation(method),
    )


def question(definition: ToolDefinition, args: dict[str, Any], seen: Seen) -> str:
    """What the person is asked, e.g. "Permanently delete user <id> (ada@example.com, ...)?"."""
    said = _consequence(definition, args, seen)
    return f"{said[:1].upper()}{said[1:]}?"


def _consequence(definition: ToolDefinition, args: dict[str, Any], seen: Seen) -> str:
    # Only non-secret arguments can be named (derivation also refuses a template naming a secret).
    named = {name: shown(value) for name, value in args.items() if name not in SECRET_ARGUMENTS}
    template = definition.entry.consequence or "run this tool on {target}"
    return template.format_map({**named, **seen.parts})


# The target as read, for a preview and for a check before a confirmed call.


@dataclass(frozen=True)
class TargetRead:
    seen: Seen
    status: int | None  # the last read's status (the audit records what the preview was answered with)


async def read_target(
    definition: ToolDefinition, args: dict[str, Any], backend: Backend
) -> TargetRead | ToolOutcome:
    """The target as the preview reads it, or the outcome saying why it cannot be shown (nothing sent
    but the reads). A target kind without a preview is said by the arguments alone."""
    answers: list[Any] = []
    status: int | None = None
    for step in definition.preview:
        read_args = {**{name: args[name] for name in step.read.passed}, **step.read.fixed}
        # A failed read is reported as what it is, a read: nothing was changed, whatever the gated tool does.
        try:
            response = await backend.send(build_request(step.definition, read_args))
        except BackendError as error:
            failed = transport_failure(step.definition, read_args, error)
            return _rejected(definition, f"Could not fetch a preview: {failed.text}", None, failed.details)
        status = response.status
        if status == 404:
            text = f"{not_found_text(step.definition, read_args)} Nothing to do."
            return _rejected(definition, text, 404, {"reason": "not_found"})
        if not response.ok:
            failed = http_failure(step.definition, read_args, response)
            return _rejected(definition, f"Could not fetch a preview: {failed.text}", status, failed.details)
        answers.append(response.body)

    target = definition.target
    if target is None or target.preview is None:
        return TargetRead(Seen({}, {}), None)
    seen = target.preview.say(args, answers)
    if seen is None:
        # Never a confirmation prompt for a target nobody could read.
        return _rejected(
            definition,
            f"Could not fetch a preview: PropelAuth answered HTTP {status} with something that is not "
            f"this {target.noun}. Nothing was changed.",
            status,
            {"reason": "unexpected_response"},
        )
    if seen.absent is not None:
        return _rejected(definition, f"{seen.absent} Nothing to do.", status, {"reason": "not_found"})
    return TargetRead(seen, status)


def _rejected(
    definition: ToolDefinition, text: str, status: int | None, details: dict[str, Any]
) -> ToolOutcome:
    # Every caller names its reason; preview_of tells the audit that only the preview reads were made.
    return ToolOutcome(
        "rejected", text, http_status=status, details={**details, "preview_of": definition.name}
    )
