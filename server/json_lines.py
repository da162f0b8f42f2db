"""JSON-RPC over newline-delimited JSON: the read and write streams the SDK's `Server.run` takes.

The SDK's reading task calls `JsonLineReader.receive`, which reads and parses the next line itself;
each answer is written by the task that produced it. No task of this module's own sits in between,
which saves two hand-offs per call. `UnansweredRequests` lets the end of input wait for answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any

import anyio
import mcp.types as types
from mcp.shared.message import SessionMessage


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
    """The server's read stream: each `receive` reads and parses the next line from the client."""

    def __init__(
        self, reader: asyncio.StreamReader, unanswered: UnansweredRequests, eof_grace_s: float
    ) -> None:
        self._reader = reader
        self._unanswered = unanswered
        self._eof_grace_s = eof_grace_s

    async def receive(self) -> SessionMessage | Exception:
        if self._closed:
            raise anyio.ClosedResourceError
        try:
            line = await self._reader.readline()
        except ValueError as exc:  # longer than max_message_bytes: that line is dropped
            return exc
        if not line:  # EOF: the client is done sending; answer what it already asked
            with anyio.move_on_after(self._eof_grace_s):
                await self._unanswered.none_left()
            raise anyio.EndOfStream
        try:
            message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
        except Exception as exc:  # the server answers a malformed message with an error
            return exc
        self._unanswered.read(message)
        return SessionMessage(message)

    def __aiter__(self) -> JsonLineReader:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None


class JsonLineWriter(_Closable):
    """The server's write stream: each `send` writes one line, from the task answering.

    When the client stops reading (its end of the pipe closed), `on_broken` is called once and every
    send after that raises BrokenResourceError, which the SDK takes as "drop this answer".
    """

    def __init__(
        self, writer: asyncio.StreamWriter, unanswered: UnansweredRequests, on_broken: Callable[[], None]
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
