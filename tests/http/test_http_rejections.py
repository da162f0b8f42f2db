"""Over HTTP too, a tools/call whose params the SDK refuses is answered INVALID_PARAMS and recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import httpx2
import pytest
from mcp.types import INVALID_PARAMS

from tests.http.conftest import ALICE_TOKEN
from tests.jsonrpc import INITIALIZE

HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "Authorization": f"Bearer {ALICE_TOKEN}",
}


@pytest.mark.anyio
async def test_invalid_call_params_over_http_are_answered_and_recorded_as_rejected(
    start_http: Callable[..., Any],
) -> None:
    bad_call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "query_users", "arguments": ["not", "an", "object"]},
    }
    with anyio.fail_after(30):
        async with start_http() as srv, httpx2.AsyncClient(headers=HEADERS) as http:
            await http.post(srv.url, json=INITIALIZE)
            answer = await http.post(srv.url, json=bad_call)
    assert answer.json()["error"]["code"] == INVALID_PARAMS
    records = [json.loads(line) for line in srv.settings.audit_path.read_text().splitlines()]
    assert [(r["outcome"], r["tool"], r["caller"], r["details"]["reason"]) for r in records] == [
        ("rejected", "query_users", "alice", "invalid_params")
    ]
    assert srv.sandbox.requests_received == 0
