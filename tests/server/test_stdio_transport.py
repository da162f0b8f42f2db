"""The event-loop stdio transport: the wire carries protocol messages only, and is given back afterwards."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from mcp.server import Server

from server.stdio import is_pipe, loop_stdio
from tests.jsonrpc import HANDSHAKE, as_lines, read_replies
from tests.processes import read_until

ENTRY_POINT = str(Path(sys.executable).parent / "propelauth-mcp")


def call(request_id: int, name: str) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": {}},
    }


def noisy_server() -> Server[Any]:
    """A server whose tool writes to stdout both ways a library might: print() and the raw descriptor."""

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[types.Tool(name="noisy", input_schema={"type": "object"})])

    async def call_tool(ctx: Any, params: Any) -> types.CallToolResult:
        print("stray print from a library")
        sys.stdout.flush()
        os.write(1, b"stray write to fd 1\n")
        return types.CallToolResult(content=[types.TextContent(type="text", text="done")])

    return Server("noisy", on_list_tools=list_tools, on_call_tool=call_tool)


def slow_server(seconds: float) -> Server[Any]:
    """A server whose one tool takes `seconds` to answer (math.inf: never)."""

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[types.Tool(name="slow", input_schema={"type": "object"})])

    async def call_tool(ctx: Any, params: Any) -> types.CallToolResult:
        print("slow call started", file=sys.stderr, flush=True)
        await anyio.sleep(seconds)
        return types.CallToolResult(content=[types.TextContent(type="text", text="finished")])

    return Server("slow", on_list_tools=list_tools, on_call_tool=call_tool)


def hang_up(wire: dict[str, int]) -> None:
    """The client closes its end of stdin (the fixture then closes a stand-in)."""
    os.close(wire["to_server"])
    wire["to_server"] = os.open(os.devnull, os.O_WRONLY)


def serve_in_a_process(
    tmp_path: Path, server: str, messages: list[dict[str, Any]]
) -> subprocess.Popen[bytes]:
    """Start `serve_stdio(<server>)` (a factory call from this module) in a child and send it `messages`."""
    script = tmp_path / "serve.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import math
            import anyio
            from server.stdio import serve_stdio
            from tests.server.test_stdio_transport import noisy_server, slow_server
            anyio.run(serve_stdio, {server})
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    assert proc.stdin
    proc.stdin.write(as_lines(messages).encode())
    proc.stdin.flush()
    return proc


@pytest.fixture
def wire() -> Iterator[dict[str, int]]:
    """Two pipes standing in for a client: it writes requests to `to_server` and reads `from_server`."""
    server_in, to_server = os.pipe()
    from_server, server_out = os.pipe()
    yield {
        "server_in": server_in,
        "to_server": to_server,
        "from_server": from_server,
        "server_out": server_out,
    }
    for fd in (server_in, to_server, from_server, server_out):
        os.close(fd)


@pytest.mark.anyio
async def test_stray_output_goes_to_stderr_and_the_wire_is_given_back(wire: dict[str, int]) -> None:
    server = noisy_server()
    before = [os.fstat(wire[name]).st_ino for name in ("server_in", "server_out")]
    requests = [*HANDSHAKE, call(2, "noisy")]
    os.write(wire["to_server"], as_lines(requests).encode())
    with anyio.fail_after(10):
        async with (
            loop_stdio(wire["server_in"], wire["server_out"]) as (read_stream, write_stream),
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(server.run, read_stream, write_stream, server.create_initialization_options())
            replies = await anyio.to_thread.run_sync(read_replies, wire["from_server"], 2)
            tg.cancel_scope.cancel()
    assert [reply["id"] for reply in replies] == [1, 2]
    assert replies[1]["result"]["content"][0]["text"] == "done"
    assert [os.fstat(wire[name]).st_ino for name in ("server_in", "server_out")] == before


@pytest.mark.anyio
async def test_a_line_over_the_size_limit_is_refused_and_the_next_one_served(wire: dict[str, int]) -> None:
    server = noisy_server()
    oversized = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "ping", "params": {"pad": "x" * 300_000}})
    lines = [json.dumps(HANDSHAKE[0]), json.dumps(HANDSHAKE[1]), oversized, json.dumps(call(2, "noisy"))]
    refused: list[tuple[str, dict[str, Any]]] = []
    os.write(wire["to_server"], ("\n".join(lines[:2]) + "\n").encode())
    with anyio.fail_after(10):
        async with (
            loop_stdio(
                wire["server_in"],
                wire["server_out"],
                max_message_bytes=1024,
                on_refused=lambda reason, details: refused.append((reason, details)),
            ) as streams,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(server.run, *streams, server.create_initialization_options())
            writing = "\n".join(lines[2:]) + "\n"  # more than a pipe holds: written as the server reads
            tg.start_soon(anyio.to_thread.run_sync, os.write, wire["to_server"], writing.encode())
            replies = await anyio.to_thread.run_sync(read_replies, wire["from_server"], 3)
            tg.cancel_scope.cancel()
    # The rest of the long line is discarded, not read as more (malformed) messages.
    assert [reply.get("id") for reply in replies] == [1, 9, 2]
    assert replies[1]["error"]["code"] == types.INVALID_REQUEST
    assert refused == [
        (
            "message_too_large",
            {"jsonrpc_code": types.INVALID_REQUEST, "bytes": len(oversized), "request_id": 9},
        )
    ]


@pytest.mark.anyio
async def test_the_wire_cannot_be_claimed_twice(wire: dict[str, int]) -> None:
    with anyio.fail_after(10):
        async with loop_stdio(wire["server_in"], wire["server_out"]):
            with pytest.raises(RuntimeError, match="already serves"):
                async with loop_stdio(wire["server_in"], wire["server_out"]):
                    pass
        async with loop_stdio(wire["server_in"], wire["server_out"]):  # given back: free again
            pass


@pytest.mark.anyio
async def test_a_call_in_flight_when_stdin_closes_is_still_answered(wire: dict[str, int]) -> None:
    server = slow_server(0.2)
    os.write(wire["to_server"], as_lines([*HANDSHAKE, call(2, "slow")]).encode())
    hang_up(wire)
    with anyio.fail_after(10):
        async with loop_stdio(wire["server_in"], wire["server_out"]) as streams:
            await server.run(*streams, server.create_initialization_options())
    replies = read_replies(wire["from_server"], 2)
    assert [reply["id"] for reply in replies] == [1, 2]
    assert replies[1]["result"]["content"][0]["text"] == "finished"


@pytest.mark.anyio
async def test_a_call_that_never_finishes_does_not_keep_the_server_past_the_grace(
    wire: dict[str, int],
) -> None:
    server = slow_server(math.inf)
    os.write(wire["to_server"], as_lines([*HANDSHAKE, call(2, "slow")]).encode())
    hang_up(wire)
    started = time.monotonic()
    with anyio.fail_after(10):
        async with loop_stdio(wire["server_in"], wire["server_out"], eof_grace_s=0.3) as streams:
            await server.run(*streams, server.create_initialization_options())
    assert 0.3 <= time.monotonic() - started < 10


@pytest.mark.anyio
async def test_a_call_the_client_cancelled_is_not_waited_for(wire: dict[str, int]) -> None:
    server = slow_server(math.inf)
    cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2}}
    messages = [*HANDSHAKE, call(2, "slow"), cancel]
    os.write(wire["to_server"], as_lines(messages).encode())
    hang_up(wire)
    with anyio.fail_after(5):  # far below the 30 s grace
        async with loop_stdio(wire["server_in"], wire["server_out"]) as streams:
            await server.run(*streams, server.create_initialization_options())


@pytest.mark.anyio
async def test_a_client_that_stops_reading_ends_the_session_quietly(
    wire: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    server = slow_server(0)
    os.write(wire["to_server"], as_lines(HANDSHAKE).encode())
    with anyio.fail_after(10):
        async with (
            loop_stdio(wire["server_in"], wire["server_out"]) as streams,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(server.run, *streams, server.create_initialization_options())
            await anyio.to_thread.run_sync(read_replies, wire["from_server"], 1)
            os.close(wire["from_server"])  # the client stops reading; stdin stays open
            wire["from_server"] = os.open(os.devnull, os.O_RDONLY)
            os.write(wire["to_server"], (json.dumps(call(2, "slow")) + "\n").encode())
    # The server returned by itself (no cancel above), without raising.
    assert "the client stopped reading answers" in capsys.readouterr().err


def test_only_pipes_and_sockets_are_read_by_the_event_loop(tmp_path: Path, wire: dict[str, int]) -> None:
    regular = tmp_path / "requests.jsonl"
    regular.write_text("")
    with open(regular) as file:
        assert not is_pipe(file.fileno())
    assert is_pipe(wire["server_in"]) and is_pipe(wire["server_out"])


def test_a_real_server_process_keeps_stray_output_off_the_wire(tmp_path: Path) -> None:
    proc = serve_in_a_process(tmp_path, "noisy_server()", [*HANDSHAKE, call(2, "noisy")])
    assert proc.stdin and proc.stdout and proc.stderr
    replies = [json.loads(proc.stdout.readline()) for _ in range(2)]
    proc.stdin.close()
    proc.wait(timeout=30)
    rest, stderr = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    assert [reply["id"] for reply in replies] == [1, 2] and rest == b""
    assert b"stray print from a library" in stderr and b"stray write to fd 1" in stderr


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_stop_signal_lets_the_call_in_flight_finish_and_answer_before_the_server_exits(
    tmp_path: Path, stop: signal.Signals
) -> None:
    proc = serve_in_a_process(tmp_path, "slow_server(1.0)", [*HANDSHAKE, call(2, "slow")])
    assert proc.stdin and proc.stdout and proc.stderr
    assert json.loads(proc.stdout.readline())["id"] == 1
    read_until(proc.stderr, b"slow call started")  # the call is in flight
    proc.send_signal(stop)
    reply = json.loads(proc.stdout.readline())
    assert proc.wait(timeout=10) == 0
    stderr = proc.stderr.read()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        stream.close()
    assert reply["id"] == 2 and reply["result"]["content"][0]["text"] == "finished"
    assert b"Traceback" not in stderr


def test_a_second_ctrl_c_stops_at_once_without_a_traceback(tmp_path: Path) -> None:
    proc = serve_in_a_process(tmp_path, "slow_server(math.inf)", [*HANDSHAKE, call(2, "slow")])
    assert proc.stdin and proc.stdout and proc.stderr
    assert json.loads(proc.stdout.readline())["id"] == 1
    read_until(proc.stderr, b"slow call started")
    proc.send_signal(signal.SIGINT)
    read_until(proc.stderr, b"Ctrl-C again")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0  # far below the 30 s the first one would wait for the call
    stderr = proc.stderr.read()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        stream.close()
    assert b"Traceback" not in stderr


def test_stdin_redirected_from_a_file_is_served_too(tmp_path: Path) -> None:
    """Not a pipe, so the SDK's transport serves it; the server stops at the end of the file."""
    requests = tmp_path / "requests.jsonl"
    requests.write_text(as_lines(HANDSHAKE))
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path)}
    with open(requests) as stdin:
        proc = subprocess.run(
            [ENTRY_POINT, "--sandbox", "--sandbox-db", ":memory:"],
            stdin=stdin,
            capture_output=True,
            timeout=60,
            env=env,
        )
    [reply] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0 and reply["result"]["serverInfo"]["name"] == "propelauth-mcp"
