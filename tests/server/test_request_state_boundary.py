"""One RequestStateBoundary for every transport: a requestState that is not ours is refused before
any tool runs, nothing is sent, and the audit records the refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp.types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from sandbox import Sandbox
from server.app import create_server
from server.audit import AuditTrail
from server.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", ["legacy", "auto"], ids=["handshake-era", "2026-era"])
async def test_a_request_state_that_is_not_ours_is_refused_and_audited_in_memory(
    settings: Settings, audit: AuditTrail, sandbox_app: Any, sandbox: Sandbox, audit_path: Path, mode: str
) -> None:
    server = create_server(settings, audit, transport=httpx2.ASGITransport(app=sandbox_app))
    with anyio.fail_after(10):
        async with Client(server, mode=mode) as client:
            with pytest.raises(MCPError) as refused:
                await client.session.call_tool(
                    "query_users", {"email_or_username": "ada@"}, request_state="v1.forged-state"
                )
    assert refused.value.error.code == types.INVALID_PARAMS
    assert refused.value.error.data == {"reason": "invalid_request_state"}
    assert sandbox.requests_received == 0
    records = [json.loads(line) for line in audit_path.read_text().splitlines()]
    assert [(r["tool"], r["outcome"], r["details"]["reason"]) for r in records] == [
        ("query_users", "rejected", "invalid_request_state")
    ]
