"""Turn PropelAuth error statuses and transport failures into messages an agent can act on.

Each message says what happened and what to do next; `details` carries the facts for the audit
(reason code, attempts). No exception text or stack trace ever reaches a message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tools.backend import (
    ApiResponse,
    BackendAnswerTooLarge,
    BackendBusy,
    BackendError,
    BackendNotPropelAuth,
    BackendRefused,
    BackendTimeout,
    rate_limit_wait_s,
)
from tools.model import ToolDefinition, ToolOutcome
from tools.secrets import SECRET_ARGUMENTS, SecretScrubber
from tools.untrusted import escaped, shown

UNAUTHORIZED = (
    "PropelAuth rejected the API key (HTTP 401); "
    "check PROPELAUTH_API_KEY / --api-key and PROPELAUTH_AUTH_URL."
)
FORBIDDEN = (
    "PropelAuth refused this API key the permission for {operation} (HTTP 403): the key may not do "
    "this. Use a key with that permission in the PropelAuth dashboard; a key with fewer permissions "
    "pairs naturally with --read-only."
)
ORGS_NOT_ENABLED = (
    "Organizations are not enabled for this PropelAuth project (HTTP 426); turn them on in the "
    "PropelAuth dashboard first."
)
SHORTEST_SCRUBBED = 4  # shorter secret values (e.g. "1") would blank out ordinary words


def scrub_secrets(body: Any, arguments: Mapping[str, Any]) -> Any:
    """`body` with every secret argument's value (a password, a hash, an MFA secret) replaced.

    PropelAuth's error bodies may quote what was sent ("hunter2 is too common"): such a text must
    reach neither the agent nor the audit.
    """
    secrets = [
        value for name, value in arguments.items() if name in SECRET_ARGUMENTS and isinstance(value, str)
    ]
    return SecretScrubber(secrets, min_length=SHORTEST_SCRUBBED).scrub_data(body)


def check_hint(definition: ToolDefinition, arguments: Mapping[str, Any]) -> str:
    """How to find out whether a write that may have happened did happen: where the target is read."""
    target = definition.target
    if target is not None:
        try:
            return f"check with {_format(target.check, arguments)} before retrying"
        except (KeyError, ValueError):
            pass  # the target's argument was not given: no place to point at
    return "check before retrying"


def _attempts(response: ApiResponse | BackendError) -> dict[str, Any]:
    return {"attempts": response.attempts, "elapsed_s": round(response.elapsed_s, 3)}


def _times(count: int) -> str:
    return "1 attempt" if count == 1 else f"{count} attempts"


def _gave_up(attempt: ApiResponse | BackendError) -> str:
    """The "; gave up after 9 s" of a message when retries were made: the wait already spent."""
    if attempt.attempts <= 1:
        return ""
    seconds = attempt.elapsed_s
    return f"; gave up after {seconds:.0f} s" if seconds >= 1 else f"; gave up after {seconds:.1f} s"


def _snippet(body: Any) -> str:
    text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"), default=str)
    text = escaped(" ".join(text.split()))
    return text if len(text) <= 200 else text[:197] + "..."


def _format(template: str, arguments: Mapping[str, Any]) -> str:
    return template.format_map({key: shown(value) for key, value in arguments.items()})


def not_found_text(definition: ToolDefinition, arguments: Mapping[str, Any]) -> str:
    """What a 404 means for this tool: its entry's text, else its target's, else the general one."""
    special = definition.entry.status_texts.get(404)
    templates = [special.text] if special else []
    if definition.target is not None:
        templates.append(definition.target.not_found)
    for template in templates:
        try:
            return _format(template, arguments)
        except (KeyError, ValueError):
            continue
    return "PropelAuth found nothing matching the request (HTTP 404)."


def _special(definition: ToolDefinition, status: int, arguments: Mapping[str, Any]) -> tuple[str, str] | None:
    """(text, reason) where the entry says what this status means for its operation, else None."""
    special = definition.entry.status_texts.get(status)
    if special is None:
        return None
    try:
        return _format(special.text, arguments), special.reason
    except (KeyError, ValueError):
        return None


def field_errors(body: Any) -> dict[str, list[str]]:
    """PropelAuth's flat {"field": ["message", ...]} 400 body as a map; {} if the body is not one."""
    if not isinstance(body, dict):
        return {}
    fields: dict[str, list[str]] = {}
    for name, messages in body.items():
        if isinstance(messages, str):
            messages = [messages]
        if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
            return {}
        fields[str(name)] = messages
    return fields


def field_errors_text(fields: Mapping[str, list[str]]) -> str:
    return "; ".join(
        f"{shown(name)}: {shown(' '.join(messages), quote=True)}" for name, messages in fields.items()
    )


def http_failure(
    definition: ToolDefinition, arguments: Mapping[str, Any], response: ApiResponse
) -> ToolOutcome:
    """The outcome of any non-2xx status: every status gets one (an unlisted one says what came back)."""
    status = response.status
    details: dict[str, Any] = _attempts(response)
    body = scrub_secrets(response.body, arguments)

    def outcome(text: str, reason: str, **extra: Any) -> ToolOutcome:
        return ToolOutcome("error", text, http_status=status, details={"reason": reason, **details, **extra})

    special = _special(definition, status, arguments)
    if special is not None:
        return outcome(*special)

    if status == 400:
        if isinstance(body, dict) and isinstance(body.get("user_facing_error"), str):
            return outcome(
                f"PropelAuth refused: {shown(body['user_facing_error'], quote=True)}", "bad_request"
            )
        fields = field_errors(body)
        if fields:
            return outcome(
                f"PropelAuth rejected these fields: {field_errors_text(fields)}. Fix them and call again.",
                "bad_request",
                field_errors=fields,
            )
        return outcome(f"PropelAuth rejected the request (HTTP 400): {_snippet(body)}", "bad_request")
    if status == 401:
        return outcome(UNAUTHORIZED, "unauthorized")
    if status == 403:
        return outcome(FORBIDDEN.format(operation=definition.operation.operation_id), "forbidden")
    if status == 404:
        return outcome(not_found_text(definition, arguments), "not_found")
    if status == 426:
        return outcome(ORGS_NOT_ENABLED, "orgs_not_enabled")
    if status == 429:
        wait = response.retry_after_s if response.retry_after_s is not None else rate_limit_wait_s(body)
        wait_text = f"wait {wait:g} seconds" if wait is not None else "wait a little"
        return outcome(
            f"PropelAuth rate-limited the request after {_times(response.attempts)}{_gave_up(response)}; "
            f"{wait_text} and try again. Nothing was changed.",
            "rate_limited",
            retry_after_s=wait,
        )
    if status >= 500:
        text = f"PropelAuth failed (HTTP {status}) after {_times(response.attempts)}{_gave_up(response)}."
        if definition.operation.changes_state:
            text += f" The change may or may not have been applied; {check_hint(definition, arguments)}."
        else:
            text += " Nothing was changed; try again later."
        return outcome(text, "server_error")
    return outcome(f"PropelAuth refused the request (HTTP {status}): {_snippet(body)}", "http_error")


def transport_failure(
    definition: ToolDefinition, arguments: Mapping[str, Any], error: BackendError
) -> ToolOutcome:
    details: dict[str, Any] = _attempts(error)
    if isinstance(error, BackendBusy):
        return ToolOutcome(
            "error",
            "Too many requests are in flight from this server; nothing was sent. Retry shortly.",
            details={"reason": "busy", **details},
        )
    if isinstance(error, BackendRefused):
        # Our own server's refusal (audit log unwritable, blast-radius limit): nothing left this
        # server, so it is recorded as rejected, like invalid arguments; its message is ours to show.
        return ToolOutcome(
            "rejected",
            f"This server refused to send the request: {error}. Nothing was sent.",
            details={"reason": "refused", **details},
        )
    if isinstance(error, BackendNotPropelAuth):
        reason = "not_propelauth"
    elif isinstance(error, BackendAnswerTooLarge):
        reason = "answer_too_large"
    else:
        reason = "timeout" if isinstance(error, BackendTimeout) else "unreachable"
    # The error names the host and the cause (DNS, refused, TLS, timeout), never the key.
    what = str(error)
    text = f"{what[:1].upper()}{what[1:]} (after {_times(error.attempts)}{_gave_up(error)})."
    if definition.operation.changes_state and error.may_have_reached:
        text += f" The request may or may not have been applied; {check_hint(definition, arguments)}."
    else:
        text += " Nothing was changed; try again later."
    return ToolOutcome(
        "error", text, details={"reason": reason, "may_have_reached": error.may_have_reached, **details}
    )


def unexpected_answer(
    definition: ToolDefinition, arguments: Mapping[str, Any], response: ApiResponse
) -> ToolOutcome:
    text = f"PropelAuth answered unexpectedly (HTTP {response.status} with a body of the wrong shape)."
    if definition.operation.changes_state:
        text += f" The change probably happened; {check_hint(definition, arguments)}."
    return ToolOutcome(
        "error",
        text,
        http_status=response.status,
        details={"reason": "unexpected_response", **_attempts(response)},
    )
