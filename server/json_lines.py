"""JSON-RPC over newline-delimited JSON: the read and write streams the SDK's `Server.run` takes.

The SDK's reading task calls `JsonLineReader.receive`, which reads and parses the next line itself;
each answer is written by the task that produced it. No task of this module's own sits in between,
which saves two hand-offs per call. `UnansweredRequests` lets the end of input wait for answers.

A line that is no JSON-RPC message, or longer than the size limit, is answered here with its JSON-RPC
error (the SDK would drop it unanswered) and reported through `on_refused` for the audit. A long line
is read in chunks and discarded past the limit: it is never held whole, nor parsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import anyio
import mcp.types as types
from mcp.shared.message import SessionMessage

CHUNK_BYTES = 64 * 1024  # the stream buffer's limit: lines are assembled from chunks of about this size
_HEAD_BYTES = 4096  # of an oversized line, only this much is kept, to find its id
# A top-level "id" near the start of a line, as clients write it (`{"jsonrpc":"2.0","id":7,...`).
_LEADING_ID = re.compile(rb'^\s*\{[^{}\[\]]*?"id"\s*:\s*(-?\d{1,18}|"[^"\\]{0,128}")')

OnRefused = Callable[[str, dict[str, Any]], None]  # (reason, details) of a message refused here


@dataclass(frozen=True)
class OversizedLine:
    size: int  # its length in bytes, read to its end and discarded
    head: bytes  # its first bytes, to answer with its id when it is cheap to find


async def read_line(reader: asyncio.StreamReader, max_bytes: int) -> bytes | OversizedLine | None:
    """The next line without its newline (None at the end of input); past `max_bytes`, only its size."""
    parts: list[bytes] = []
    size = 0
    head: bytes | None = None  # set once the line is known to be too long; parts are then dropped
    while True:
        try:
            chunk, complete = await reader.readuntil(b"\n"), True
        except asyncio.IncompleteReadError as exc:  # the input ended, maybe in a line with no newline
            chunk, complete = exc.partial, True
            if not chunk and size == 0:
                return None
        except asyncio.LimitOverrunError as exc:  # no newline in this chunk: take it, read on
            chunk, complete = await reader.read(exc.consumed), False
        size += len(chunk)
        if head is None:
            parts.append(chunk)
            if size > max_bytes + 1:
                head = b"".join(parts)[:_HEAD_BYTES]
                parts.clear()
        if complete:
            line_size = size - 1 if chunk.endswith(b"\n") else size
            if head is None and line_size <= max_bytes:
                return b"".join(parts)[:line_size]
            return OversizedLine(line_size, head if head is not None else b"".join(parts)[:_HEAD_BYTES])


def _request_id(value: Any) -> types.RequestId | None:
    """The id of a message that is not valid JSON-RPC, when it has a usable one (JSON-RPC: else null)."""
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str | int) and not isinstance(found, bool) else None


def _leading_id(head: bytes) -> types.RequestId | None:
    match = _LEADING_ID.match(head)
    if match is None:
        return None
    try:
        return _request_id({"id": json.loads(match.group(1))})
    except ValueError:
        return None


def _tool_of(value: Any) -> str | None:
    if not isinstance(value, dict) or value.get("method") != "tools/call":
        return None
    params = value.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    return name if isinstance(name, str) else None


class _Closable:
    _closed = False

    async def aclose(self) -> None:
        self._closed = True

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class JsonLineReader(_Closable):
    """The server's read stream: each `receive` reads and parses the next line from the client.

    A refused line (not JSON, not JSON-RPC, too long) is answered through `reply`, reported through
    `on_refused`, and reading goes on with the next line.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        unanswered: UnansweredRequests,
        eof_grace_s: float,
        *,
        max_message_bytes: int,
        reply: Callable[[SessionMessage], Awaitable[None]],
        on_refused: OnRefused | None = None,
    ) -> None:
        self._reader = reader
        self._unanswered = unanswered
        self._eof_grace_s = eof_grace_s
        self._max_message_bytes = max_message_bytes
        self._reply = reply
        self._on_refused = on_refused

    async def receive(self) -> SessionMessage | Exception:
        while True:
            if self._closed:
                raise anyio.ClosedResourceError
            line = await read_line(self._reader, self._max_message_bytes)
            if line is None:  # EOF: the client is done sending; answer what it already asked
                with anyio.move_on_after(self._eof_grace_s):
                    await self._unanswered.none_left()
                raise anyio.EndOfStream
            if isinstance(line, OversizedLine):
                await self._refuse_oversized(line)
                continue
            try:
                message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
            except ValueError:  # pydantic's ValidationError: not JSON, or not a JSON-RPC message
                if line.strip():  # a blank line is no message; nothing to answer
                    await self._refuse_malformed(line)
                continue
            self._unanswered.read(message)
            return SessionMessage(message)

    async def _refuse_malformed(self, line: bytes) -> None:
        try:
            value = json.loads(line)
        except ValueError:  # UnicodeDecodeError included
            value, code, message = None, types.PARSE_ERROR, "Parse error: the line is not JSON"
        else:
            code, message = types.INVALID_REQUEST, "Invalid request: not a JSON-RPC 2.0 message"
        request_id = _request_id(value)
        details = {
            "jsonrpc_code": code,
            "bytes": len(line),
            "request_id": request_id,
            "tool": _tool_of(value),
        }
        await self._refuse(request_id, code, message, "malformed_message", details)

    async def _refuse_oversized(self, line: OversizedLine) -> None:
        request_id = _leading_id(line.head)
        limit = self._max_message_bytes
        message = f"Invalid request: a message of {line.size} bytes is over this server's limit of {limit}"
        details = {"jsonrpc_code": types.INVALID_REQUEST, "bytes": line.size, "request_id": request_id}
        await self._refuse(request_id, types.INVALID_REQUEST, message, "message_too_large", details)

    async def _refuse(
        self,
        request_id: types.RequestId | None,
        code: int,
        message: str,
        reason: str,
        details: dict[str, Any],
    ) -> None:
        if self._on_refused is not None:
            self._on_refused(reason, details)
        error = types.JSONRPCError(
            jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=message)
        )
        # If nobody reads our answers any more, the end of input follows.
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await self._reply(SessionMessage(error))

    def __aiter__(self) -> JsonLineReader:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None


class LineSink(Protocol):
    """Where answers go: an asyncio.StreamWriter on a pipe, or a blocking writer (a terminal, a file)."""

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...


class JsonLineWriter(_Closable):
    """The server's write stream: each `send` writes one line, from the task answering.

    When the client stops reading (its end of the pipe closed), `on_broken` is called once and every
    send after that raises BrokenResourceError, which the SDK takes as "drop this answer".
    """

    def __init__(
        self, writer: LineSink, unanswered: UnansweredRequests, on_broken: Callable[[], None]
    ) -> None:
        self._writer = writer
        self._unanswered = unanswered
        self._on_broken = on_broken
        self._broken = False

    async def send(self, item: SessionMessage, /) -> None:
        if self._closed:
            raise anyio.ClosedResourceError
        try:
            if self._broken:
                raise anyio.BrokenResourceError
            line = item.message.model_dump_json(by_alias=True, exclude_unset=True)
            self._writer.write(line.encode() + b"\n")  # one call per line: answers never interleave
            await self._writer.drain()
        except OSError as exc:  # ConnectionResetError, BrokenPipeError: nobody reads our answers now
            self._broken = True
            self._on_broken()
            raise anyio.BrokenResourceError from exc
        finally:
            self._unanswered.settled(item.message)


class UnansweredRequests:
    """The ids of requests read from the client and not yet answered on the wire."""

    def __init__(self) -> None:
        self._ids: set[types.RequestId] = set()
        self._all_answered: anyio.Event | None = None  # made only when someone waits

    def read(self, message: types.JSONRPCMessage) -> None:
        if isinstance(message, types.JSONRPCRequest):
            self._ids.add(message.id)
        elif isinstance(message, types.JSONRPCNotification) and message.method == "notifications/cancelled":
            # A cancelled request is never answered (the SDK follows the spec): stop waiting for it.
            self._answered((message.params or {}).get("requestId"))

    def settled(self, message: types.JSONRPCMessage) -> None:
        """An answer was written, or can never be."""
        if isinstance(message, types.JSONRPCResponse | types.JSONRPCError):
            self._answered(message.id)

    def _answered(self, request_id: object) -> None:
        self._ids.discard(request_id)  # type: ignore[arg-type]
        if not self._ids and self._all_answered is not None:
            self._all_answered.set()

    async def none_left(self) -> None:
        if self._ids:
            self._all_answered = anyio.Event()
            await self._all_answered.wait()
