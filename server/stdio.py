"""The stdio transport: stdout carries protocol messages only; everything else goes to stderr."""

from __future__ import annotations

import sys
from typing import Any

from mcp.server import Server
from mcp.server.stdio import stdio_server

TTY_NOTICE = """\
propelauth-mcp is an MCP server speaking JSON-RPC on stdin/stdout; it is waiting for an MCP client.
Connect one instead of typing here, e.g. in Claude Desktop's claude_desktop_config.json:
  {"mcpServers": {"propelauth": {"command": "propelauth-mcp", "args": ["--sandbox"]}}}
See mcp.json and the README for Cursor, VS Code and agent frameworks. Press Ctrl-C to stop."""


async def serve_stdio(server: Server[Any]) -> None:
    if sys.stdin.isatty():
        print(TTY_NOTICE, file=sys.stderr, flush=True)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
