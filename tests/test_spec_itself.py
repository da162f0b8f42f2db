"""The corrected spec as a document: every reference resolves, every tool argument name is unambiguous,
and everything beyond the reference spec says where its wire facts come from.

(Strict OpenAPI 3.1 validity is checked in tests/sandbox/test_sandbox_spec_conformance.py.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from schemas import load_spec
from tools.derive import snake_case

_METHODS = ("get", "put", "post", "delete", "patch")

# The operations of the reference spec we were handed; their corrections carry `x-correction` notes.
REFERENCE_OPERATIONS = frozenset(
    {
        "createUser",
        "fetchUserById",
        "updateUser",
        "deleteUser",
        "fetchUserByEmail",
        "fetchUserByUsername",
        "queryUsers",
        "updateUserEmail",
        "updateUserPassword",
        "clearUserPassword",
        "disableUser",
        "enableUser",
        "disableUser2fa",
        "logoutAllUserSessions",
        "resendEmailConfirmation",
        "createMagicLink",
        "createAccessToken",
        "migrateUser",
        "migrateUserPassword",
        "fetchEmployeeById",
    }
)
# Components of the reference spec, or added while correcting it (those carry `x-correction` or are plain).
REFERENCE_COMPONENTS = frozenset(
    {
        "parameters/UserId",
        "parameters/IncludeOrgs",
        "responses/BadRequest",
        "responses/Unauthorized",
        "responses/NotFound",
        "responses/RateLimited",
        "schemas/UserIdValue",
        "schemas/Empty",
        "schemas/CreatedUser",
        "schemas/User",
        "schemas/OrgMembership",
        "schemas/CreateUserRequest",
        "schemas/UpdateUserRequest",
        "schemas/UserPage",
        "schemas/MagicLinkRequest",
        "schemas/MagicLink",
        "schemas/AccessToken",
        "schemas/MigrateUserRequest",
        "schemas/Employee",
        "schemas/FieldErrors",
        "schemas/UserFacingError",
    }
)


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in _METHODS:
            if method in item:
                yield method, path, item[method]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _argument_names(spec: dict[str, Any], op: dict[str, Any]) -> list[str]:
    """The tool arguments derived from an operation: its parameters and its body's properties, snake_cased."""
    names = [snake_case(_resolve(spec, param)["name"]) for param in op.get("parameters", [])]
    if "requestBody" in op:
        body = _resolve(spec, op["requestBody"])
        schema = _resolve(spec, body["content"]["application/json"]["schema"])
        names += [snake_case(name) for name in schema.get("properties", {})]
    return names


SPEC = load_spec()
OPERATIONS = {op["operationId"]: op for _, _, op in _operations(SPEC)}


def test_every_reference_in_the_spec_points_at_a_node_that_exists() -> None:
    for ref in set(_refs(SPEC)):
        assert ref.startswith("#/"), ref
        _resolve(SPEC, {"$ref": ref})  # a KeyError names the dangling reference


def test_operation_ids_are_unique() -> None:
    ids = [op["operationId"] for _, _, op in _operations(SPEC)]
    assert [name for name, count in Counter(ids).items() if count > 1] == []


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_every_derived_argument_name_of_an_operation_is_unique(operation_id: str) -> None:
    names = _argument_names(SPEC, OPERATIONS[operation_id])
    assert [name for name, count in Counter(names).items() if count > 1] == []


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS.keys() - REFERENCE_OPERATIONS))
def test_an_operation_beyond_the_reference_spec_says_where_its_facts_come_from(operation_id: str) -> None:
    note = OPERATIONS[operation_id].get("x-source", "")
    assert "propelauth-py 4.4" in note and "WIRE-FACTS.md" in note


def test_a_component_beyond_the_reference_spec_says_where_its_wire_facts_come_from() -> None:
    added = {
        f"{kind}/{name}": node
        for kind in ("parameters", "responses", "schemas")
        for name, node in SPEC["components"][kind].items()
        if f"{kind}/{name}" not in REFERENCE_COMPONENTS
    }
    assert added, "the spec has components beyond the reference spec"
    assert [key for key, node in added.items() if not node.get("x-source")] == []


def test_operations_beyond_the_reference_spec_document_a_bad_api_key_and_the_rate_limit() -> None:
    for operation_id in OPERATIONS.keys() - REFERENCE_OPERATIONS:
        statuses = OPERATIONS[operation_id]["responses"].keys()
        assert {"200", "401", "429"} <= statuses, operation_id
