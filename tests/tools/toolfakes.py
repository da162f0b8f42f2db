"""Test helpers for the tool layer: a recording fake Backend and realistic PropelAuth bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools import get_definition
from tools.backend import ApiRequest, ApiResponse, BackendError
from tools.model import ToolDefinition

USER_ID = "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
OTHER_ID = "0b6c2a7e-31f4-4d8a-9e55-2f7c1d3b4a60"

Reply = ApiResponse | BackendError | Callable[[ApiRequest], ApiResponse]


class RecordingBackend:
    """Records every request; answers each from a script (one reply per request, the last one repeats)."""

    def __init__(self, *replies: Reply) -> None:
        self.replies: list[Reply] = list(replies) or [ApiResponse(200, {})]
        self.requests: list[ApiRequest] = []

    async def send(self, request: ApiRequest) -> ApiResponse:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, BackendError):
            raise reply
        if isinstance(reply, ApiResponse):
            return reply
        return reply(request)

    @property
    def state_changing(self) -> list[ApiRequest]:
        return [request for request in self.requests if request.changes_state or request.method != "GET"]


def user_body(user_id: str = USER_ID, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "user_id": user_id,
        "email": "ada@example.com",
        "email_confirmed": True,
        "has_password": True,
        "username": "ada",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "picture_url": None,
        "properties": {},
        "metadata": None,
        "locked": False,
        "enabled": True,
        "mfa_enabled": True,
        "can_create_orgs": False,
        "created_at": 1_700_000_000,
        "last_active_at": 1_720_000_000,
        "legacy_user_id": None,
        "impersonator_user_id": None,
    }
    body.update(overrides)
    return body


def definition(name: str) -> ToolDefinition:
    found = get_definition(name)
    assert found is not None, name
    return found
