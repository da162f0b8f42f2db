"""The preview of a confirm-gated call: read the target, say what the call would do to it, change nothing.

How the target is read and said is the catalog's (its target kind's preview, resolved at derivation);
nothing here knows users or organizations.
"""

from __future__ import annotations

from typing import Any

from tools.backend import Backend, BackendError
from tools.failures import http_failure, not_found_text, transport_failure
from tools.model import ToolDefinition, ToolOutcome
from tools.previews import Seen
from tools.requests import build_request
from tools.untrusted import shown


async def preview(definition: ToolDefinition, args: dict[str, Any], backend: Backend) -> ToolOutcome:
    """Say what a confirm-gated call would do, to what, reading the target first; change nothing."""
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
    assert target is not None and target.preview is not None, "derivation checks every gated tool has one"
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
    text = (
        f"Not done yet: this would {_consequence(definition, args, seen)}. If that is the right "
        f"{target.noun}, call {definition.name} again with the same arguments and confirm: true."
    )
    return _rejected(definition, text, status, {"reason": "confirmation_required", "preview": seen.facts})


def _consequence(definition: ToolDefinition, args: dict[str, Any], seen: Seen) -> str:
    template = definition.entry.consequence or "run this tool on {target}"
    return template.format_map({**{name: shown(value) for name, value in args.items()}, **seen.parts})


def _rejected(
    definition: ToolDefinition, text: str, status: int | None, details: dict[str, Any]
) -> ToolOutcome:
    # Every caller names its reason; preview_of tells the audit that only the preview reads were made.
    return ToolOutcome(
        "rejected", text, http_status=status, details={**details, "preview_of": definition.name}
    )
