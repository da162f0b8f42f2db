"""The exposure rules' edge cases: how filters combine, and what a refused name list tells the operator."""

from __future__ import annotations

import re

import pytest

from tools import ExposurePolicy, tool_definitions
from tools.catalog import TOOLSETS

ALL = tool_definitions()
ALL_NAMES = {d.name for d in ALL}

# Both problems in one message: each lists its unknown names, then the valid ones, comma-separated.
REFUSAL = re.compile(r"unknown toolset\(s\) (.+); valid: (.+); unknown tool\(s\) (.+); valid: (.+)")


def listed(text: str) -> set[str]:
    return set(text.split(", "))


def test_a_refusal_lists_every_unknown_name_and_every_valid_one_one_by_one() -> None:
    policy = ExposurePolicy(toolsets={"nope", "nada"}, tools={"zap"}, exclude_tools={"zip"})
    with pytest.raises(ValueError) as raised:
        policy.exposed(ALL)
    match = REFUSAL.fullmatch(str(raised.value))
    assert match is not None, str(raised.value)
    bad_sets, valid_sets, bad_tools, valid_tools = match.groups()
    assert listed(bad_sets) == {"nope", "nada"}
    assert listed(valid_sets) == set(TOOLSETS)
    assert listed(bad_tools) == {"zap", "zip"}
    assert listed(valid_tools) == ALL_NAMES


def test_known_names_are_never_reported_as_unknown() -> None:
    policy = ExposurePolicy(toolsets={"users", "bogus"}, tools={"create_user"}, exclude_tools={"delete_user"})
    with pytest.raises(ValueError) as raised:
        policy.check_names(ALL)
    message = str(raised.value)
    assert "unknown toolset(s) bogus;" in message
    assert "unknown tool(s)" not in message


def test_excluded_tools_are_removed_from_an_explicit_tool_list_too() -> None:
    policy = ExposurePolicy(tools={"create_user", "delete_user"}, exclude_tools={"delete_user"})
    assert [d.name for d in policy.exposed(ALL)] == ["create_user"]


def test_an_empty_toolset_selection_exposes_nothing() -> None:
    assert ExposurePolicy(toolsets=set()).exposed(ALL) == []


def test_read_only_keeps_the_reads_of_the_chosen_toolsets_only() -> None:
    exposed = ExposurePolicy(read_only=True, toolsets={"employees"}).exposed(ALL)
    assert [d.name for d in exposed] == ["fetch_employee_by_id"]


def test_the_exposed_tools_keep_the_catalog_order() -> None:
    chosen = ExposurePolicy(exclude_tools={"query_users"}).exposed(ALL)
    assert [d.name for d in chosen] == [d.name for d in ALL if d.name != "query_users"]
