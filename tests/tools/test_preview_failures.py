"""A preview is a confirmation prompt only for a user that was read: a failed read is an error, never a
"call again with confirm: true" about a user nobody could see, and nothing but the read is sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from server.app import create_server
from server.audit import AuditTrail
from tests.conftest import make_settings
from tests.tools.toolfakes import USER_ID, RecordingBackend, definition, user_body
from tests.trust.conftest import read_records
from tools import execute
from tools.backend import ApiRequest, ApiResponse, BackendError, BackendTimeout, BackendUnreachable
from tools.confirmation import preview

pytestmark = pytest.mark.anyio

GATED = ["delete_user", "disable_user", "logout_all_user_sessions", "clear_user_password", "disable_user_2fa"]
PREVIEW_READ = ApiRequest("GET", f"/api/backend/v1/user/{USER_ID}")
# 405: any error status but 404 is a failed read, never "no such user" (a misrouted Auth URL).
FAILED_READS = [
    (401, "unauthorized"),
    (403, "forbidden"),
    (405, "http_error"),
    (500, "server_error"),
    (503, "server_error"),
]


def assert_not_a_confirmation_prompt(text: str, details: dict[str, Any]) -> None:
    assert details["reason"] != "confirmation_required"
    assert "preview" not in details
    assert "confirm: true" not in text and "Not done yet" not in text


@pytest.mark.parametrize("name", GATED)
@pytest.mark.parametrize(("status", "reason"), FAILED_READS)
async def test_a_preview_whose_read_fails_is_an_error_not_a_confirmation_prompt(
    name: str, status: int, reason: str
) -> None:
    backend = RecordingBackend(ApiResponse(status, {"error": "nope"}))

    outcome = await execute(definition(name), {"user_id": USER_ID}, backend)

    assert outcome.is_error and outcome.http_status == status
    assert outcome.details["reason"] == reason
    assert_not_a_confirmation_prompt(outcome.text, outcome.details)
    assert backend.requests == [PREVIEW_READ]


@pytest.mark.parametrize(
    "failure",
    [
        ApiResponse(502, "Bad Gateway"),
        BackendTimeout("PropelAuth did not answer in time", may_have_reached=True),
        BackendUnreachable("the connection to PropelAuth failed mid-request", may_have_reached=True),
    ],
    ids=["502", "timeout-after-sending", "dropped-after-sending"],
)
async def test_a_failed_preview_read_says_nothing_was_changed_not_that_the_change_may_have_happened(
    failure: ApiResponse | BackendError,
) -> None:
    # Only the read was sent: an agent told "the delete may have happened" would go and check, or
    # worse, confirm a delete of a user nobody has seen.
    backend = RecordingBackend(failure)

    outcome = await execute(definition("delete_user"), {"user_id": USER_ID}, backend)

    assert outcome.is_error and backend.state_changing == []
    assert "Nothing was changed" in outcome.text
    assert "may or may not" not in outcome.text


async def test_a_failed_preview_is_recorded_as_the_preview_of_the_tool_and_how_often_it_was_read() -> None:
    # The audit tells a failed preview (nothing sent but the read) from a failed change.
    backend = RecordingBackend(ApiResponse(500, {"error": "nope"}, attempts=3))

    outcome = await execute(definition("disable_user"), {"user_id": USER_ID}, backend)

    assert outcome.details["preview_of"] == "disable_user"
    assert outcome.details["attempts"] == 3
    confirmed = await execute(
        definition("disable_user"),
        {"user_id": USER_ID, "confirm": True},
        RecordingBackend(ApiResponse(500, {})),
    )
    assert "preview_of" not in confirmed.details


async def test_a_preview_read_goes_to_the_users_own_path_whatever_the_id_holds() -> None:
    # The id is a UUID by the time it gets here (validation); the read still cannot be steered
    # to another endpoint by a "/" or "?" in it.
    backend = RecordingBackend(ApiResponse(404, None))

    await preview(definition("delete_user"), {"user_id": "../../v1/users/x?y"}, backend)

    assert [request.path for request in backend.requests] == [
        "/api/backend/v1/user/..%2F..%2Fv1%2Fusers%2Fx%3Fy"
    ]


@pytest.mark.parametrize(
    "body",
    [None, "<html>Welcome</html>", [], {}, user_body("0b6c2a7e-31f4-4d8a-9e55-2f7c1d3b4a60")],
    ids=["empty", "html", "list", "no-user-id", "another-user"],
)
async def test_a_preview_whose_answer_is_not_the_user_is_an_error_not_a_confirmation_prompt(
    body: Any,
) -> None:
    backend = RecordingBackend(ApiResponse(200, body))

    outcome = await execute(definition("delete_user"), {"user_id": USER_ID}, backend)

    assert outcome.is_error and outcome.http_status == 200
    assert outcome.details["reason"] == "unexpected_response"
    assert "Nothing was changed" in outcome.text
    assert_not_a_confirmation_prompt(outcome.text, outcome.details)
    assert backend.requests == [PREVIEW_READ]


@pytest.mark.parametrize(("status", "reason"), FAILED_READS)
async def test_through_the_server_a_failed_preview_read_sends_only_reads_and_audits_the_reason(
    audit_path: Path, status: int, reason: str
) -> None:
    seen: list[tuple[str, str]] = []

    def failing(request: httpx2.Request) -> httpx2.Response:
        seen.append((request.method, request.url.path))
        return httpx2.Response(status, json={"error": "nope"})

    trail = AuditTrail(audit_path)
    try:
        server = create_server(
            make_settings(audit_path, max_retries=0), trail, transport=httpx2.MockTransport(failing)
        )
        with anyio.fail_after(10):
            async with Client(server, mode="legacy") as client:
                result = await client.call_tool("delete_user", {"user_id": USER_ID})
    finally:
        trail.close()

    assert result.is_error and result.content[0].type == "text"
    assert "confirm: true" not in result.content[0].text
    assert seen == [("GET", f"/api/backend/v1/user/{USER_ID}")]  # the read, and nothing else
    outcome = [record for record in read_records(audit_path) if record["kind"] == "outcome"][-1]
    assert outcome["details"]["reason"] == reason and outcome["http_status"] == status
