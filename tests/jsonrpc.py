"""Raw JSON-RPC messages for tests that talk to a server below the SDK client (stdout purity, HTTP)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

INITIALIZE: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}
INITIALIZED: dict[str, Any] = {"jsonrpc": "2.0", "method": "notifications/initialized"}
HANDSHAKE = [INITIALIZE, INITIALIZED]
# What a Streamable HTTP POST of a raw message carries.
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def tools_call(name: str, arguments: dict[str, Any], request_id: int = 7) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }


def as_lines(messages: Iterable[dict[str, Any]]) -> str:
    """Messages as the stdio wire carries them: one JSON object per line."""
    return "".join(json.dumps(message) + "\n" for message in messages)


def read_replies(fd: int, count: int) -> list[dict[str, Any]]:
    """Read from a raw descriptor until `count` JSON lines have arrived; the messages they hold."""
    data = b""
    while data.count(b"\n") < count:
        chunk = os.read(fd, 65536)
        assert chunk, "the wire closed early"
        data += chunk
    return [json.loads(line) for line in data.splitlines()]
