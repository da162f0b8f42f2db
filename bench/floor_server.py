"""The floor for a server on this stack: the SDK's low-level Server with one tool that makes the
`fetch_user_by_id` request with httpx2 and returns the answer, on this project's stdio transport.

No validation, no audit, no output check, no rendering: the time of a call through it is what the
SDK's dispatch, httpx2 and the process hops cost. For the benchmark only.
"""

import os

import anyio
import httpx2
import mcp.types as types
from mcp.server import Server

from server.stdio import serve_stdio

TOOL = types.Tool(name="fetch_user_by_id", description="Fetch a user.", input_schema={"type": "object"})


async def main() -> None:
    headers = {"Authorization": f"Bearer {os.environ['PROPELAUTH_API_KEY']}"}
    async with httpx2.AsyncClient(base_url=os.environ["PROPELAUTH_AUTH_URL"], headers=headers) as http:

        async def list_tools(ctx, params):
            return types.ListToolsResult(tools=[TOOL])

        async def call_tool(ctx, params):
            user = (await http.get(f"/api/backend/v1/user/{params.arguments['user_id']}")).json()
            text = types.TextContent(type="text", text=user["email"])
            return types.CallToolResult(content=[text], structured_content=user)

        await serve_stdio(Server("floor", on_list_tools=list_tools, on_call_tool=call_tool))


anyio.run(main)
