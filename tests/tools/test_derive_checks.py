"""Derivation refuses a catalog that contradicts the spec: these are start-up errors, not surprises later."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from schemas import load_spec
from tests.tools.toolfakes import RecordingBackend
from tools.backend import ApiResponse
from tools.catalog import CATALOG, CatalogEntry
from tools.derive import SpecError, derive_definitions
from tools.executor import execute
from tools.previews import say_user
from tools.targets import USER, Preview, PreviewRead


def _catalog_with(tool: str, **changes: object) -> tuple[CatalogEntry, ...]:
    return tuple(dataclasses.replace(entry, **changes) if entry.name == tool else entry for entry in CATALOG)


def test_a_get_said_to_write_is_a_startup_error() -> None:
    with pytest.raises(SpecError, match="fetch_user_by_id: a GET is read-only"):
        derive_definitions(load_spec(), _catalog_with("fetch_user_by_id", read_only=False))


def test_a_write_said_to_be_read_only_while_destructive_is_a_startup_error() -> None:
    with pytest.raises(SpecError, match="delete_user: said to be read-only"):
        derive_definitions(load_spec(), _catalog_with("delete_user", read_only=True))


def test_a_write_marked_as_a_write_again_is_refused_as_redundant() -> None:
    with pytest.raises(SpecError, match="enable_user: a POST is a write already"):
        derive_definitions(load_spec(), _catalog_with("enable_user", read_only=False))


def test_a_post_that_only_reads_may_say_so_and_is_then_neither_audited_nor_a_write() -> None:
    derived = derive_definitions(load_spec(), _catalog_with("enable_user", read_only=True))
    enable = next(definition for definition in derived if definition.name == "enable_user")
    assert enable.read_only is True and enable.operation.changes_state is False


def test_a_target_naming_an_argument_the_tool_lacks_is_a_startup_error() -> None:
    with pytest.raises(SpecError, match="query_users: its target names arguments"):
        derive_definitions(load_spec(), _catalog_with("query_users", target=USER))


def test_a_gated_tool_without_a_previewable_target_is_a_startup_error() -> None:
    with pytest.raises(SpecError, match="enable_user: a gated tool needs a target with a preview"):
        derive_definitions(load_spec(), _catalog_with("enable_user", requires_confirmation=True))


def test_a_consequence_that_would_show_a_secret_to_the_person_is_a_startup_error() -> None:
    leaky = _catalog_with("update_user_password", consequence="set the password of {target} to {password}")
    with pytest.raises(SpecError, match="update_user_password: its consequence would show a secret"):
        derive_definitions(load_spec(), leaky)


def test_a_sensitive_tool_without_a_consequence_is_a_startup_error() -> None:
    with pytest.raises(SpecError, match="create_magic_link: a sensitive tool needs a consequence"):
        derive_definitions(load_spec(), _catalog_with("create_magic_link", consequence=None))


def test_a_preview_reading_a_tool_that_does_not_exist_is_a_startup_error() -> None:
    no_such_read = Preview((PreviewRead("fetch_nothing", ("user_id",)),), say_user)
    gate = _catalog_with("delete_user", target=dataclasses.replace(USER, preview=no_such_read))
    with pytest.raises(SpecError, match="delete_user: its preview reads 'fetch_nothing'"):
        derive_definitions(load_spec(), gate)


def test_two_entries_with_one_name_are_a_startup_error() -> None:
    with pytest.raises(SpecError, match="same name"):
        derive_definitions(load_spec(), _catalog_with("enable_user", name="disable_user"))


def _employee_answering_an_array() -> dict[str, object]:
    spec = copy.deepcopy(load_spec())
    answer = spec["paths"]["/api/backend/v1/employee/{employeeId}"]["get"]["responses"]["200"]
    answer["content"]["application/json"]["schema"] = {"type": "array", "items": {"type": "string"}}
    return spec


def test_an_operation_answering_an_array_without_a_result_key_is_a_startup_error() -> None:
    with pytest.raises(SpecError, match="fetch_employee_by_id: the 2xx schema is not an object"):
        derive_definitions(_employee_answering_an_array())


def test_an_array_answer_is_returned_under_the_entrys_result_key() -> None:
    derived = derive_definitions(
        _employee_answering_an_array(), _catalog_with("fetch_employee_by_id", result_key="emails")
    )
    employee = next(definition for definition in derived if definition.name == "fetch_employee_by_id")
    assert employee.output_schema == {
        "type": "object",
        "required": ["emails"],
        "properties": {"emails": {"type": "array", "items": {"type": "string"}}},
    }


@pytest.mark.anyio
async def test_the_executor_wraps_an_array_answer_under_the_result_key() -> None:
    derived = derive_definitions(
        _employee_answering_an_array(), _catalog_with("fetch_employee_by_id", result_key="emails")
    )
    employee = next(definition for definition in derived if definition.name == "fetch_employee_by_id")
    employee_id = "3f8a2c1e-6b4d-4e7a-9c2b-5d1e8f0a7b31"
    outcome = await execute(employee, {"employee_id": employee_id}, RecordingBackend(ApiResponse(200, ["a"])))
    assert outcome.outcome == "ok" and outcome.structured == {"emails": ["a"]}
