"""The stdio transport: stdout carries protocol messages only; everything else goes to stderr.

The SDK's stdio transport reads and writes through worker threads: three thread hand-offs per call,
about 0.6 ms of each round trip on a small machine. Where stdin and stdout are pipes (how MCP
clients start a server), this transport reads and writes them with the event loop's own pipe support
instead, through the JSON-line streams of server/json_lines.py. It keeps the SDK's guard: while
serving, fd 1 points at stderr and fd 0 at the null device, so a stray print or a child process cannot
write to the wire or steal its input. Anything else (stdin redirected from a file, Windows) is served
by the SDK's transport.
"""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp.server import Server
from mcp.server.stdio import stdio_server

from server.console import say
from server.json_lines import JsonLineReader, JsonLineWriter, UnansweredRequests

TTY_NOTICE = """\
propelauth-mcp is an MCP server speaking JSON-RPC on stdin/stdout; it is waiting for an MCP client.
Connect one instead of typing here, e.g. in Claude Desktop's claude_desktop_config.json:
  {"mcpServers": {"propelauth": {"command": "propelauth-mcp", "args": ["--sandbox"]}}}
See mcp.json and the README for Cursor, VS Code and agent frameworks. Press Ctrl-C to stop."""

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a line longer than this is refused, not buffered without end
# When the client closes stdin with calls still running, they may finish and be answered (and audited)
# for this long: a state-changing call is not cut off between its request to PropelAuth and its record.
EOF_GRACE_S = 30.0


async def serve_stdio(server: Server[Any]) -> None:
    if sys.stdin.isatty():
        print(TTY_NOTICE, file=sys.stderr, flush=True)
    transport = loop_stdio(sigterm_ends_input=True) if loop_pipes_usable(0, 1) else stdio_server()
    async with transport as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def loop_pipes_usable(stdin_fd: int, stdout_fd: int) -> bool:
    """Both descriptors are pipes or sockets, which the event loop reads and writes directly.

    Not terminals: the loop makes its descriptors non-blocking, and a terminal shares that flag
    with the shell that started us.
    """
    if sys.platform == "win32":  # pragma: no cover - the Windows event loop pipes differently
        return False
    try:
        modes = [os.fstat(fd).st_mode for fd in (stdin_fd, stdout_fd)]
    except OSError:
        return False
    return all(stat.S_ISFIFO(m) or stat.S_ISSOCK(m) for m in modes)


@asynccontextmanager
async def loop_stdio(
    stdin_fd: int = 0,
    stdout_fd: int = 1,
    *,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
    eof_grace_s: float = EOF_GRACE_S,
    sigterm_ends_input: bool = False,
) -> AsyncIterator[tuple[JsonLineReader, JsonLineWriter]]:
    """Serve JSON-RPC lines on private duplicates of stdin/stdout, diverting the originals meanwhile.

    With `sigterm_ends_input`, a SIGTERM (`docker stop`, a client giving up on us) is taken like the
    end of stdin: no new requests, the calls in flight finish and are answered. A second one kills.
    A client that stops reading our answers (closes its end of stdout) ends the input the same way.
    """
    wire_in, wire_out = _take_wire(stdin_fd, stdout_fd)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=max_message_bytes)
    read_transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0)
    )
    write_transport, write_protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0)
    )
    writer = asyncio.StreamWriter(write_transport, write_protocol, None, loop)
    unanswered = UnansweredRequests()

    def end_input() -> None:
        """Read no more requests (what is still in the pipe stays there); calls in flight finish."""
        read_transport.pause_reading()
        reader.feed_eof()

    def client_stopped_reading() -> None:
        say("the client stopped reading answers; finishing the calls in flight, then stopping")
        end_input()

    async def end_input_on_sigterm() -> None:
        with anyio.open_signal_receiver(signal.SIGTERM) as signals:
            async for _ in signals:
                end_input()
                return

    try:
        async with anyio.create_task_group() as tasks:
            if sigterm_ends_input:
                tasks.start_soon(end_input_on_sigterm)
            yield (
                JsonLineReader(reader, unanswered, eof_grace_s),
                JsonLineWriter(writer, unanswered, on_broken=client_stopped_reading),
            )
            tasks.cancel_scope.cancel()
    finally:
        read_transport.close()
        write_transport.close()
        _give_back_wire(stdin_fd, stdout_fd)


_diverted: dict[int, int] = {}  # standard fd -> the private duplicate that holds the wire


def _take_wire(stdin_fd: int, stdout_fd: int) -> tuple[int, int]:
    """Duplicate the wire onto private descriptors; point stdout at stderr and stdin at the null device."""
    wire_in, wire_out = os.dup(stdin_fd), os.dup(stdout_fd)
    keep_in, keep_out = os.dup(stdin_fd), os.dup(stdout_fd)  # restored on exit
    _diverted.update({stdin_fd: keep_in, stdout_fd: keep_out})
    sys.stdout.flush()
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, stdin_fd)
    finally:
        os.close(null)
    try:
        os.dup2(sys.stderr.fileno(), stdout_fd)
    except (AttributeError, ValueError, OSError):  # no usable stderr: stray output goes nowhere
        sink = os.open(os.devnull, os.O_WRONLY)
        os.dup2(sink, stdout_fd)
        os.close(sink)
    return wire_in, wire_out


def _give_back_wire(stdin_fd: int, stdout_fd: int) -> None:
    for fd in (stdin_fd, stdout_fd):
        kept = _diverted.pop(fd, None)
        if kept is not None:
            os.dup2(kept, fd)
            os.close(kept)
