"""The real entry point: `propelauth-mcp --sandbox` as a stdio subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR

from tests.jsonrpc import HANDSHAKE, as_lines
from tests.processes import read_until
from tools import tool_definitions
from tools.catalog import DEFAULT_TOOLSETS

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
    # Without --toolsets: the default surface (tools/catalog DEFAULT_TOOLSETS), the rest one flag away.
    assert {t.name for t in tools} == {d.name for d in tool_definitions() if d.toolset in DEFAULT_TOOLSETS}
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


def start_server(tmp_path: Path, *, stdin: Any = subprocess.PIPE, wrap: list[str] | None = None) -> Any:
    return subprocess.Popen(
        [*(wrap or []), ENTRY_POINT, "--sandbox", "--sandbox-db", ":memory:"],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **server_env(tmp_path)},
    )


def tool_call(request_id: int, arguments: Any, name: str = "query_users") -> dict[str, Any]:
    params = {"name": name, "arguments": arguments}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def audit_records(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]


def read_answers(stream: Any, count: int, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """Read `count` answer lines from a pipe, failing (never hanging) if they do not come in time."""
    deadline = time.monotonic() + timeout_s
    seen = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while seen.count(b"\n") < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{count} answers did not come in time; got: {seen[:2000]!r}"
            if selector.select(timeout=remaining):
                chunk = os.read(stream.fileno(), 65536)
                assert chunk, f"the server ended after: {seen[:2000]!r}"
                seen += chunk
    return [json.loads(line) for line in seen.splitlines()]


def exchange(proc: Any, lines: list[bytes], replies: int) -> tuple[list[dict[str, Any]], bytes]:
    """Send the lines, read `replies` answers, close stdin; (the answers, stderr) once the server exits."""
    try:
        writer = threading.Thread(target=_send, args=(proc.stdin, lines), daemon=True)
        writer.start()  # a long line fills the pipe: written while the answers are read
        answers = read_answers(proc.stdout, replies)
        writer.join(timeout=60)
        assert proc.wait(timeout=60) == 0
        rest, stderr = proc.stdout.read(), proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
    assert rest == b""
    return answers, stderr


def _send(stdin: Any, lines: list[bytes]) -> None:
    with contextlib.suppress(BrokenPipeError):
        stdin.write(b"".join(line + b"\n" for line in lines))
        stdin.flush()
        stdin.close()


def test_malformed_lines_and_invalid_call_params_get_their_errors_and_rejected_records(
    tmp_path: Path,
) -> None:
    lines = [
        *(json.dumps(m).encode() for m in HANDSHAKE),
        b"this is not JSON",
        json.dumps({"id": 4, "hello": "world"}).encode(),  # JSON, but no JSON-RPC message
        json.dumps({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"arguments": {}}}).encode(),
        json.dumps(tool_call(6, ["not", "an", "object"])).encode(),
        json.dumps(tool_call(7, {"email_or_username": "ada@"})).encode(),
    ]
    answers, _ = exchange(start_server(tmp_path), lines, 6)
    codes = [(a.get("id"), a["error"]["code"] if "error" in a else None) for a in answers]
    assert codes == [
        (1, None),
        (None, PARSE_ERROR),
        (4, INVALID_REQUEST),
        (5, INVALID_PARAMS),
        (6, INVALID_PARAMS),
        (7, None),
    ]
    records = [(r["outcome"], r["tool"], r["details"].get("reason")) for r in audit_records(tmp_path)]
    assert records == [
        ("rejected", None, "malformed_message"),
        ("rejected", None, "malformed_message"),
        ("rejected", None, "invalid_params"),
        ("rejected", "query_users", "invalid_params"),
        ("ok", "query_users", None),
    ]


def test_a_5_mib_line_is_refused_without_growing_the_audit_and_the_next_call_is_served(
    tmp_path: Path,
) -> None:
    huge = json.dumps(tool_call(2, {"email_or_username": "x" * (5 * 1024 * 1024)})).encode()
    lines = [*(json.dumps(m).encode() for m in HANDSHAKE), huge, json.dumps(tool_call(3, {})).encode()]
    proc = start_server(tmp_path)
    answers, _ = exchange(proc, lines, 3)
    assert [a["id"] for a in answers] == [1, 2, 3]
    assert answers[1]["error"]["code"] == INVALID_REQUEST and "result" in answers[2]
    [refused, served] = audit_records(tmp_path)
    assert refused["outcome"] == "rejected" and refused["details"]["reason"] == "message_too_large"
    assert refused["details"]["bytes"] == len(huge) and served["outcome"] == "ok"
    assert (tmp_path / "audit.jsonl").stat().st_size < 4096


def test_with_fd_2_closed_stdout_still_carries_only_protocol_messages(tmp_path: Path) -> None:
    proc = start_server(tmp_path, wrap=["sh", "-c", 'exec "$@" 2>&-', "sh"])
    lines = [json.dumps(m).encode() for m in [*HANDSHAKE, tool_call(2, {"email_or_username": "ada@"})]]
    answers, _ = exchange(proc, lines, 2)
    assert [a["id"] for a in answers] == [1, 2] and all(a["jsonrpc"] == "2.0" for a in answers)


def test_ctrl_c_stops_a_server_waiting_in_a_terminal_without_a_traceback(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    proc = start_server(tmp_path, stdin=terminal)
    try:
        read_until(proc.stderr, b"Ctrl-C to stop")
        proc.send_signal(signal.SIGINT)  # what the terminal sends on Ctrl-C
        assert proc.wait(timeout=10) == 0  # not waiting for Enter
        assert b"Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(controller)
        os.close(terminal)
        proc.stdout.close()
        proc.stderr.close()
