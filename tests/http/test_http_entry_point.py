"""The real entry point, `propelauth-mcp --transport http`, as a subprocess on a loopback port."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import httpx2
import pytest

from tests.http.conftest import (
    ALICE_TOKEN,
    BOT_TOKEN,
    ENTRY_POINT,
    TOKENS,
    entry_point_over_http,
    http_client,
)


def env_for(tmp_path: Path) -> dict[str, str]:
    return {
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PROPELAUTH_MCP_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
        "PROPELAUTH_MCP_TOKENS": TOKENS,
        "PYTHONWARNINGS": "always",
    }


@pytest.mark.anyio
async def test_the_console_script_serves_http_and_tokens_never_reach_logs_audit_or_answers(
    tmp_path: Path,
) -> None:
    command = [ENTRY_POINT, "--transport", "http", "--port", "0", "--sandbox", "--sandbox-db", ":memory:"]
    with anyio.fail_after(90):
        async with entry_point_over_http(command, env_for(tmp_path)) as server:
            async with http_client(server.url, token=ALICE_TOKEN, mode="auto") as client:
                created = await client.call_tool(
                    "create_user", {"email": "grace@example.com", "password": "correct-horse-battery"}
                )
            async with http_client(server.url, token=BOT_TOKEN) as client:
                fetched = await client.call_tool("fetch_user_by_email", {"email": "grace@example.com"})
            async with httpx2.AsyncClient() as http:
                refused = await http.post(
                    server.url, json={}, headers={"Authorization": f"Bearer {ALICE_TOKEN}-wrong"}
                )
                health = await http.get(f"{server.base}/healthz")
        stdout = b""
        assert server.process.stdout is not None
        async for chunk in server.process.stdout:
            stdout += chunk
    assert not created.is_error and not fetched.is_error
    assert (refused.status_code, health.status_code) == (401, 200)
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(r["tool"], r["kind"], r["caller"]) for r in records] == [
        ("create_user", "intent", "alice"),
        ("create_user", "outcome", "alice"),
        ("fetch_user_by_email", "outcome", "ci-bot"),
    ]
    logs = "\n".join(server.stderr)
    everything = logs + (tmp_path / "audit.jsonl").read_text() + refused.text
    for secret in (ALICE_TOKEN, BOT_TOKEN, "correct-horse-battery"):
        assert secret not in everything
    assert '"caller":"alice"' in logs.replace(" ", "")  # the audit echo on stderr names the caller too
    assert "http_unauthorized" in logs
    assert stdout == b""  # HTTP mode writes nothing to stdout
