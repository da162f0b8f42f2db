"""The stdio transport: stdout carries protocol messages only; everything else goes to stderr.

The SDK's stdio transport reads and writes through worker threads: three thread hand-offs per call,
about 0.6 ms of each round trip on a small machine. This transport reads and writes pipes (how MCP
clients start a server) with the event loop's own pipe support instead, through the JSON-line streams
of server/json_lines.py. A terminal or a file, which the loop must not make non-blocking (a terminal
shares that flag with the shell), is read by a daemon thread and written directly: a thread blocked
on a terminal never holds up the exit. It keeps the SDK's guard: the wire is served from private
descriptors above 2, and while serving fd 1 points at stderr and fd 0 at the null device, so a stray
print or a child process cannot write to the wire or steal its input; a second claim is refused.
"""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
from mcp.server import Server
from mcp.server.stdio import stdio_server

from server.audit import AuditTrail
from server.audit_records import audit_rejection
from server.console import say, tty_notice
from server.json_lines import CHUNK_BYTES, JsonLineReader, JsonLineWriter, OnRefused, UnansweredRequests

if sys.platform != "win32":
    import fcntl

# As over HTTP (the SDK's default request body limit): a longer line is refused, read in chunks and
# discarded, never held whole (one 62 MB call took 2.35 GB of memory before this limit).
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# When the client closes stdin with calls still running, they may finish and be answered (and audited)
# for this long: a state-changing call is not cut off between its request to PropelAuth and its record.
EOF_GRACE_S = 30.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def serve_stdio(server: Server[Any], audit: AuditTrail | None = None) -> None:
    in_a_terminal = sys.stdin is not None and sys.stdin.isatty()
    if sys.platform == "win32":  # pragma: no cover - no fcntl, no loop pipes: the SDK's transport
        transport = stdio_server()
    else:
        on_refused = partial(audit_rejection, audit) if audit is not None else None
        transport = loop_stdio(stop_on_signals=True, on_refused=on_refused)
    async with transport as (read_stream, write_stream):
        if in_a_terminal:  # said once Ctrl-C is ours to handle
            print(tty_notice(), file=sys.stderr, flush=True)
        await server.run(read_stream, write_stream, server.create_initialization_options())


def is_pipe(fd: int) -> bool:
    """A pipe or a socket, which the event loop reads and writes directly: not a terminal (its
    non-blocking flag is the shell's too), nor a file."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


@asynccontextmanager
async def loop_stdio(
    stdin_fd: int = 0,
    stdout_fd: int = 1,
    *,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
    eof_grace_s: float = EOF_GRACE_S,
    stop_on_signals: bool = False,
    on_refused: OnRefused | None = None,
) -> AsyncIterator[tuple[JsonLineReader, JsonLineWriter]]:
    """Serve JSON-RPC lines on private duplicates of stdin/stdout, diverting the originals meanwhile.

    With `stop_on_signals`, a SIGINT (Ctrl-C) or SIGTERM (`docker stop`, a client giving up on us) is
    taken like the end of stdin: no new requests, the calls in flight finish and are answered. A
    second one stops at once: the calls still running are cancelled (and audited as such).
    A client that stops reading our answers (closes its end of stdout) ends the input the same way.
    """
    wire_in, wire_out = _take_wire(stdin_fd, stdout_fd)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=CHUNK_BYTES)
    close_input = await _connect_input(loop, reader, wire_in)
    writer, close_output = await _connect_output(loop, wire_out)
    unanswered = UnansweredRequests()

    def end_input() -> None:
        """Read no more requests (what is still in the pipe stays there); calls in flight finish."""
        close_input(False)
        reader.feed_eof()

    def client_stopped_reading() -> None:
        say("the client stopped reading answers; finishing the calls in flight, then stopping")
        end_input()

    try:
        async with anyio.create_task_group() as tasks:
            if stop_on_signals:
                await tasks.start(_stop_on_signals, end_input, tasks.cancel_scope.cancel)
            json_writer = JsonLineWriter(writer, unanswered, on_broken=client_stopped_reading)
            json_reader = JsonLineReader(
                reader,
                unanswered,
                eof_grace_s,
                max_message_bytes=max_message_bytes,
                reply=json_writer.send,
                on_refused=on_refused,
            )
            yield json_reader, json_writer
            tasks.cancel_scope.cancel()
    finally:
        close_input(True)
        close_output()
        _give_back_wire(stdin_fd, stdout_fd)


async def _stop_on_signals(
    end_input: Callable[[], None],
    stop_now: Callable[[], None],
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
        task_status.started()
        async for _ in signals:
            say("stopping: the calls in flight finish first; press Ctrl-C again to stop at once")
            end_input()
            break
        async for _ in signals:
            say("stopping now")
            stop_now()
            return


async def _connect_input(
    loop: asyncio.AbstractEventLoop, reader: asyncio.StreamReader, wire_in: int
) -> Callable[[bool], None]:
    """Feed `reader` from the wire; returns close(final) to stop reading (and, when final, release)."""
    if is_pipe(wire_in):
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0)
        )

        def close_pipe(final: bool) -> None:
            if final:
                transport.close()
            else:
                transport.pause_reading()

        return close_pipe
    feed = _ThreadFeed(loop, reader, wire_in)
    reader.set_transport(feed)  # type: ignore[arg-type]  # the reader only pauses and resumes it
    threading.Thread(target=feed.run, name="propelauth-mcp-stdin", daemon=True).start()
    return lambda final: feed.close()


class _ThreadFeed:
    """Reads a terminal or a file in a daemon thread, into the loop's StreamReader, with its back-pressure.

    Its descriptor is never closed: the thread may still be blocked reading it (a terminal waits for
    Enter), and a closed descriptor could be reused under it.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, reader: asyncio.StreamReader, fd: int) -> None:
        self._loop = loop
        self._reader = reader
        self._fd = fd
        self._may_read = threading.Event()
        self._may_read.set()
        self._closed = False

    def pause_reading(self) -> None:
        self._may_read.clear()

    def resume_reading(self) -> None:
        self._may_read.set()

    def close(self) -> None:
        self._closed = True
        self._may_read.set()

    def run(self) -> None:
        while True:
            self._may_read.wait()
            if self._closed:
                return
            try:
                chunk = os.read(self._fd, CHUNK_BYTES)
            except OSError:
                chunk = b""
            try:
                self._loop.call_soon_threadsafe(self._deliver, chunk)
            except RuntimeError:  # the loop is closed: the server is done
                return
            if not chunk:
                return

    def _deliver(self, chunk: bytes) -> None:
        if self._closed:
            return
        if chunk:
            self._reader.feed_data(chunk)
        else:
            self._reader.feed_eof()


class _BlockingWriter:
    """Answers to a terminal or a file: written at once (they do not fill up like a pipe)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    async def drain(self) -> None:
        return None


async def _connect_output(
    loop: asyncio.AbstractEventLoop, wire_out: int
) -> tuple[asyncio.StreamWriter | _BlockingWriter, Callable[[], None]]:
    if not is_pipe(wire_out):
        return _BlockingWriter(wire_out), lambda: os.close(wire_out)
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0)
    )
    return asyncio.StreamWriter(transport, protocol, None, loop), transport.close


_claims_lock = threading.Lock()
_diverted: dict[int, int] = {}  # standard fd -> the private duplicate kept to restore it


def _dup_above_std(fd: int) -> int:
    """A duplicate that cannot land on 0, 1 or 2 (were fd 2 closed, a plain dup of stdout would)."""
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)


def _take_wire(stdin_fd: int, stdout_fd: int) -> tuple[int, int]:
    """Duplicate the wire onto private descriptors; point stdout at stderr and stdin at the null device.

    Raises RuntimeError when another transport in this process already serves these descriptors.
    """
    with _claims_lock:
        taken = sorted({stdin_fd, stdout_fd} & _diverted.keys())
        if taken:
            raise RuntimeError(f"another stdio transport in this process already serves fd {taken[0]}")
        wire_in, wire_out = _dup_above_std(stdin_fd), _dup_above_std(stdout_fd)
        _diverted.update({stdin_fd: _dup_above_std(stdin_fd), stdout_fd: _dup_above_std(stdout_fd)})
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
    with _claims_lock:
        for fd in (stdin_fd, stdout_fd):
            kept = _diverted.pop(fd, None)
            if kept is not None:
                os.dup2(kept, fd)
                os.close(kept)
