"""The floor under any stdio server: no MCP SDK, just JSON lines in, one httpx2 request, JSON lines out.

It answers `initialize` with a bare result and turns each `tools/call` of `fetch_user_by_id` into
the GET that tool sends, so the time of a call through it is the pipes, the process hops and the
request itself. For the benchmark only: it checks nothing.
"""

import asyncio
import json
import os
import sys

import httpx2


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    headers = {"Authorization": f"Bearer {os.environ['PROPELAUTH_API_KEY']}"}
    async with httpx2.AsyncClient(base_url=os.environ["PROPELAUTH_AUTH_URL"], headers=headers) as http:
        while line := await reader.readline():
            message = json.loads(line)
            if "id" not in message:
                continue
            result: dict[str, object] = {}
            if message["method"] == "tools/call":
                user_id = message["params"]["arguments"]["user_id"]
                user = (await http.get(f"/api/backend/v1/user/{user_id}")).json()
                result = {"content": [{"type": "text", "text": user["email"]}], "structuredContent": user}
            answer = {"jsonrpc": "2.0", "id": message["id"], "result": result}
            writer.write(json.dumps(answer).encode() + b"\n")
            await writer.drain()


asyncio.run(main())
