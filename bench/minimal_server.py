"""The yardstick: a minimal low-level SDK server whose one tool echoes its arguments back, over stdio.

By default it serves on the SDK's own stdio transport; with `--transport loop`, on this project's
(server/stdio.py). Either way the time of a call is the SDK's dispatch and the pipes alone.
"""

import sys

import anyio
import mcp.types as types
from mcp.server import Server
from mcp.server.stdio import stdio_server

TOOL = types.Tool(name="echo", description="Echo the arguments back.", input_schema={"type": "object"})


async def list_tools(ctx, params):
    return types.ListToolsResult(tools=[TOOL])


async def call_tool(ctx, params):
    arguments = dict(params.arguments or {})
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=str(arguments))], structured_content=arguments
    )


async def main(transport: str) -> None:
    server = Server("minimal", on_list_tools=list_tools, on_call_tool=call_tool)
    if transport == "loop":
        from server.stdio import serve_stdio  # imported only here: the start-up benchmark times this file

        await serve_stdio(server)
        return
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


anyio.run(main, "loop" if sys.argv[1:] == ["--transport", "loop"] else "sdk")
