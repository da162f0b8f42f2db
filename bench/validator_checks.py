"""What the argument and output checks cost: per check (warm) and per schema (compiled on first call).

Real instances, from the seeded in-process sandbox: the valid arguments of four tools, and the answers
of fetch_user_by_id and of query_users (a page of 100 users, built from the seeded user). Beside each
jsonschema-rs check (what a call pays, tools/validation.py), jsonschema's `is_valid` on the same
instance, the explaining path that only invalid arguments take.

Run: `uv run python bench/validator_checks.py`.
"""

from __future__ import annotations

import copy
import statistics
import sys
import time
import timeit
import uuid
from collections.abc import Callable
from contextlib import closing
from typing import Any

import anyio
import httpx2

from sandbox import create_app
from tools import tool_definitions
from tools.arguments import without_unset
from tools.validation import conformance_check, format_checker

KEY = "bench-" + "k" * 30
DEFINITIONS = {definition.name: definition for definition in tool_definitions()}


async def sandbox_answers() -> tuple[dict[str, Any], dict[str, Any]]:
    app = create_app(api_key=KEY, db_path=":memory:", seed=True)
    with closing(app.state.sandbox):
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app),
            base_url="http://sandbox",
            headers={"Authorization": f"Bearer {KEY}"},
        ) as http:
            page = (await http.get("/api/backend/v1/user/query", params={"page_size": 100})).json()
            user_id = page["users"][0]["user_id"]
            user = (await http.get(f"/api/backend/v1/user/{user_id}")).json()
    users = [dict(user, user_id=str(uuid.uuid4()), email=f"user{i}@example.com") for i in range(100)]
    return user, {**page, "users": users, "total_users": 100, "page_size": 100}


def per_check_us(check: Callable[[Any], bool], instance: Any, number: int) -> float:
    assert check(instance)
    return min(timeit.repeat(lambda: check(instance), repeat=7, number=number)) / number * 1e6


def compile_us(build: Callable[[dict[str, Any]], object], schema: dict[str, Any]) -> float:
    times = []
    for _ in range(20):
        fresh = copy.deepcopy(schema)  # a new schema each time, as at start-up
        started = time.perf_counter()
        build(fresh)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def main() -> int:
    user, page = anyio.run(sandbox_answers)
    user_id = user["user_id"]
    arguments = {
        "fetch_user_by_id": {"user_id": user_id},
        "query_users": {"email_or_username": "ada", "page_size": 100, "order_by": "CREATED_AT_ASC"},
        "update_user": {"user_id": user_id, "first_name": "Ada", "metadata": {"plan": "pro", "seats": 5}},
        "create_user": {"email": "new.person@example.com", "first_name": "New", "password": "s3cret-Pw0rd!"},
    }
    schemas = {name: DEFINITIONS[name].input_schema for name in arguments}
    cases = [
        (f"arguments of {name}", schemas[name], without_unset(schemas[name], args))
        for name, args in arguments.items()
    ]
    cases += [
        ("answer of fetch_user_by_id", DEFINITIONS["fetch_user_by_id"].output_schema, user),
        ("answer of query_users (100 users)", DEFINITIONS["query_users"].output_schema, page),
    ]
    from jsonschema import Draft202012Validator

    def reference(schema: dict[str, Any]) -> Callable[[Any], bool]:
        return Draft202012Validator(schema, format_checker=format_checker()).is_valid

    print(f"CPython {sys.version.split()[0]}; µs, best of 7 (per check), median of 20 (compile)")
    print(f"{'instance':36} {'jsonschema-rs':>14} {'jsonschema':>11} {'compile (rs)':>13}")
    for label, schema, instance in cases:
        number = 200 if "100 users" in label else 5000
        fast = per_check_us(conformance_check(schema), instance, number)
        slow = per_check_us(reference(schema), instance, max(1, number // 20))
        print(f"{label:36} {fast:14.2f} {slow:11.1f} {compile_us(conformance_check, schema):13.1f}")
    every = sum(compile_us(conformance_check, d.input_schema) for d in DEFINITIONS.values())
    print(f"compiling every tool's input schema ({len(DEFINITIONS)}): {every:.0f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
