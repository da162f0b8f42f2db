"""What an audit record keeps of a hostile caller's arguments is bounded: long strings and names, large
objects and arrays, deep nesting are cut with a marker saying what was dropped, and the record stays JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from sandbox.demo import demo_user_id
from server.audit import (
    MAX_AUDITED_DEPTH,
    MAX_AUDITED_ITEMS,
    MAX_AUDITED_KEY_CHARS,
    MAX_AUDITED_NODES,
    clip_long_values,
)

ADA = demo_user_id("ada@example.com")


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"deeper": value}
    return value


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(item) for item in value), default=0)
    return 0


def count_values(value: Any) -> int:
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return len(items) + sum(count_values(item) for item in items)


def test_a_string_of_exactly_the_limit_is_kept_whole_one_more_is_clipped() -> None:
    assert clip_long_values("s" * 256) == "s" * 256
    assert clip_long_values("s" * 257) == "s" * 256 + "...[257 chars]"


def test_a_long_key_is_clipped_with_its_length() -> None:
    key = "k" * 10_000
    assert clip_long_values({key: 1}) == {"k" * MAX_AUDITED_KEY_CHARS + "...[10000 chars]": 1}


def test_a_large_array_keeps_its_first_items_and_says_how_many_were_dropped() -> None:
    clipped = clip_long_values(list(range(10_000)))
    assert clipped == [*range(MAX_AUDITED_ITEMS), f"...[{10_000 - MAX_AUDITED_ITEMS} more items]"]


def test_a_large_object_keeps_its_first_entries_and_says_how_many_were_dropped() -> None:
    clipped = clip_long_values({f"key-{n}": n for n in range(10_000)})
    assert list(clipped)[:MAX_AUDITED_ITEMS] == [f"key-{n}" for n in range(MAX_AUDITED_ITEMS)]
    assert clipped["..."] == f"[{10_000 - MAX_AUDITED_ITEMS} more entries]"
    assert len(clipped) == MAX_AUDITED_ITEMS + 1


def test_deep_nesting_is_cut_at_a_depth() -> None:
    clipped = clip_long_values(nested(1_000))
    assert depth_of(clipped) == MAX_AUDITED_DEPTH
    assert "nested deeper than" in json.dumps(clipped)


def test_deep_nesting_of_arrays_is_cut_at_the_same_depth() -> None:
    value: Any = "bottom"
    for _ in range(1_000):
        value = [value]
    clipped = clip_long_values(value)
    assert depth_of(clipped) == MAX_AUDITED_DEPTH
    assert "nested deeper than" in json.dumps(clipped)


def test_non_finite_numbers_become_strings_so_the_record_stays_strict_json() -> None:
    clipped = clip_long_values({"n": float("nan"), "values": [float("inf"), -float("inf"), 1.5]})
    assert clipped == {"n": "nan", "values": ["inf", "-inf", 1.5]}
    json.dumps(clipped, allow_nan=False)


def test_small_values_are_kept_exactly() -> None:
    value = {"user_id": ADA, "metadata": {"tags": ["a", "b"], "level": 3, "ok": True, "none": None}}
    assert clip_long_values(value) == value


def test_a_wide_and_deep_value_is_bounded_as_a_whole() -> None:
    """50 entries at each of 8 levels would be 50**8 values: a budget bounds the whole record."""
    wide: Any = "leaf"
    for _ in range(12):
        wide = {f"k{n}": wide for n in range(60)}
    clipped = clip_long_values(wide)
    assert count_values(clipped) <= MAX_AUDITED_NODES + MAX_AUDITED_ITEMS * MAX_AUDITED_DEPTH
    assert len(json.dumps(clipped)) < 100_000


@pytest.mark.anyio
async def test_a_huge_metadata_argument_leaves_a_small_valid_record(client: Client, audit_path: Path) -> None:
    metadata = {
        "x" * 50_000: "long key",
        "many": list(range(100_000)),
        "deep": nested(40),
        **{f"extra-{n}": n for n in range(5_000)},
    }
    await client.call_tool("update_user", {"user_id": ADA, "metadata": metadata})
    lines = audit_path.read_text().splitlines()
    assert lines and max(len(line) for line in lines) < 100_000
    records = [json.loads(line) for line in lines]
    audited = records[-1]["arguments"]["metadata"]
    assert audited["many"][-1] == f"...[{100_000 - MAX_AUDITED_ITEMS} more items]"
    assert audited["..."] == f"[{5_003 - MAX_AUDITED_ITEMS} more entries]"


def test_a_value_with_keys_that_are_not_strings_is_kept() -> None:
    """Python callers may audit such a value (JSON arguments only have string keys): no crash, no change."""
    assert clip_long_values({1: "one", None: [2]}) == {1: "one", None: [2]}
