"""The real entry point: `propelauth-mcp --sandbox` as a stdio subprocess."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.jsonrpc import HANDSHAKE, as_lines
from tests.processes import read_until

ENTRY_POINT = str(Path(sys.executable).parent / "propelauth-mcp")


def server_env(tmp_path: Path) -> dict[str, str]:
    return {
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PROPELAUTH_MCP_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
        "PYTHONWARNINGS": "always",  # warnings must still never reach stdout
    }


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"], ids=["handshake-era", "2026-era"])
async def test_an_agent_can_list_and_call_tools_over_stdio(tmp_path: Path, mode: str) -> None:
    params = StdioServerParameters(
        command=ENTRY_POINT, args=["--sandbox", "--sandbox-db", ":memory:"], env=server_env(tmp_path)
    )
    with open(tmp_path / "stderr.txt", "w") as errlog:
        with anyio.fail_after(60):
            async with Client(stdio_client(params, errlog=errlog), mode=mode) as client:
                tools = (await client.list_tools()).tools
                result = await client.call_tool("query_users", {"email_or_username": "ada@"})
    assert len(tools) == 20
    assert not result.is_error and result.structured_content is not None
    assert [u["email"] for u in result.structured_content["users"]] == ["ada@example.com"]
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(r["tool"], r["outcome"]) for r in records] == [("query_users", "ok")]
    assert "audit log:" in (tmp_path / "stderr.txt").read_text()


def test_stdout_carries_only_protocol_messages(tmp_path: Path) -> None:
    messages = [
        *HANDSHAKE,
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "fetch_user_by_id", "arguments": {"user_id": "nope"}},
        },
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {
                "name": "create_user",
                "arguments": {"email": "x@example.com", "password": "pw-123456789"},
            },
        },
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "nope", "arguments": {}}},
    ]
    proc = subprocess.Popen(
        [ENTRY_POINT, "--sandbox", "--sandbox-db", ":memory:"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **server_env(tmp_path)},
    )
    assert proc.stdin and proc.stdout
    proc.stdin.write(as_lines(messages))
    proc.stdin.flush()
    stdout_lines = [proc.stdout.readline() for _ in range(4)]  # one reply per request; stdin stays open
    proc.stdin.close()
    proc.wait(timeout=60)
    rest, stderr = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    proc.stdout.close()
    proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == 0, stderr
    replies = {reply["id"]: reply for reply in map(json.loads, [*stdout_lines, *rest.splitlines()])}
    assert sorted(replies) == [1, 2, 3, 4] and all(reply["jsonrpc"] == "2.0" for reply in replies.values())
    assert replies[2]["result"]["isError"] is True and "error" in replies[4]
    everything = "".join(stdout_lines) + rest + stderr + (tmp_path / "audit.jsonl").read_text()
    assert "pw-123456789" not in everything


def test_started_by_hand_without_credentials_it_says_what_is_missing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROPELAUTH")}
    proc = subprocess.run(
        [ENTRY_POINT], capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert "PROPELAUTH_API_KEY" in proc.stderr and "Traceback" not in proc.stderr


def test_started_by_hand_in_a_terminal_it_says_what_it_waits_for(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [ENTRY_POINT, "--sandbox", "--sandbox-db", ":memory:"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **server_env(tmp_path)},
    )
    try:
        assert proc.stderr is not None and proc.stdout is not None
        notice = read_until(proc.stderr, b"Ctrl-C to stop").decode()
        assert "waiting for an MCP client" in notice and "claude_desktop_config.json" in notice
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        os.close(controller)
        os.close(terminal)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
