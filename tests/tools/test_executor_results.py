"""Successful results: structured content that matches the output schema, and a short text."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.tools.test_executor_requests import CASES
from tests.tools.toolfakes import USER_ID, RecordingBackend, definition, user_body
from tools import execute
from tools.backend import ApiResponse


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(CASES))
async def test_every_structured_result_validates_against_the_tools_output_schema(name: str) -> None:
    arguments, _, body = CASES[name]
    outcome = await execute(definition(name), arguments, RecordingBackend(ApiResponse(200, body)))
    assert outcome.structured is not None
    Draft202012Validator(definition(name).output_schema).validate(outcome.structured)


@pytest.mark.anyio
async def test_a_no_body_write_reports_ok_the_user_and_the_fields_it_changed() -> None:
    backend = RecordingBackend(ApiResponse(200, ""))  # the body of these operations is ignored
    outcome = await execute(
        definition("update_user"),
        {"user_id": USER_ID.upper(), "last_name": "Byron", "username": "ada"},
        backend,
    )
    assert outcome.structured == {"ok": True, "user_id": USER_ID, "updated": ["last_name", "username"]}
    assert outcome.text == f"Updated user {USER_ID}."


@pytest.mark.anyio
async def test_a_user_is_rendered_as_its_key_facts_not_a_json_dump() -> None:
    body = user_body(
        mfa_enabled=False,
        org_id_to_org_info={
            "o1": {
                "org_id": "o1",
                "org_name": "Acme",
                "org_metadata": {},
                "user_role": "Admin",
                "url_safe_org_name": "acme",
                "inherited_user_roles_plus_current_role": ["Admin"],
                "user_permissions": [],
            }
        },
    )
    outcome = await execute(
        definition("fetch_user_by_id"),
        {"user_id": USER_ID, "include_orgs": True},
        RecordingBackend(ApiResponse(200, body)),
    )
    assert outcome.structured == body
    for fact in (
        USER_ID,
        "ada@example.com",
        "Ada Lovelace",
        "enabled",
        "2FA off",
        '"Acme" (Admin)',  # free text is quoted (tools/untrusted.py)
        "last active 2024",
    ):
        assert fact in outcome.text
    assert "{" not in outcome.text


@pytest.mark.anyio
async def test_a_page_is_one_line_per_user_and_says_how_to_get_the_next_page() -> None:
    page: dict[str, Any] = {
        "users": [
            user_body(),
            user_body("0b6c2a7e-31f4-4d8a-9e55-2f7c1d3b4a60", email="bob@example.com", enabled=False),
        ],
        "total_users": 12,
        "current_page": 0,
        "page_size": 2,
        "has_more_results": True,
    }
    outcome = await execute(
        definition("query_users"), {"page_size": 2}, RecordingBackend(ApiResponse(200, page))
    )
    lines = outcome.text.splitlines()
    assert len(lines) == 3
    assert "page_number=1" in lines[0]
    assert "ada@example.com" in lines[1]
    assert "bob@example.com" in lines[2]
    assert "DISABLED" in lines[2]


@pytest.mark.anyio
async def test_the_access_token_is_returned_to_the_caller_with_the_applied_default_duration() -> None:
    backend = RecordingBackend(ApiResponse(200, {"access_token": "tok"}))
    outcome = await execute(definition("create_access_token"), {"user_id": USER_ID}, backend)
    assert backend.requests[0].json == {"user_id": USER_ID, "duration_in_minutes": 60}
    assert outcome.structured == {"access_token": "tok"}
    assert "tok" in outcome.text
    assert "60 minutes" in outcome.text


@pytest.mark.anyio
async def test_the_target_is_recorded_with_its_id_lower_cased() -> None:
    outcome = await execute(
        definition("enable_user"), {"user_id": USER_ID.upper()}, RecordingBackend(ApiResponse(200, {}))
    )
    assert outcome.target == {"user_id": USER_ID}
    assert outcome.details["attempts"] == 1


@pytest.mark.anyio
async def test_a_result_records_how_many_attempts_it_took() -> None:
    # The audit shows the retries behind a result, for reads with a rendered answer too.
    backend = RecordingBackend(ApiResponse(200, user_body(), attempts=3))
    outcome = await execute(definition("fetch_user_by_id"), {"user_id": USER_ID}, backend)
    assert outcome.outcome == "ok"
    assert outcome.details["attempts"] == 3
