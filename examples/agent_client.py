"""An agent-framework-style client of propelauth-mcp, with the official MCP Python client (`mcp`).

What an agent framework does with an MCP server, in ~60 lines: connect (stdio subprocess or Streamable
HTTP with a bearer token), turn the server's tools into function-calling definitions for a model,
then execute the model's tool calls. Here the "model" is a fixed plan, so the example runs offline:

    # stdio: the server as a subprocess, against the built-in sandbox
    uv run python examples/agent_client.py stdio
    # HTTP: a running `propelauth-mcp --transport http` (see the README), with your token
    PROPELAUTH_MCP_TOKEN=... uv run python examples/agent_client.py http http://127.0.0.1:8000/mcp
    # --ask: the server asks YOU (on this terminal) before the destructive step, through elicitation
    uv run python examples/agent_client.py stdio --ask

The destructive step shows both ways a confirm-gated tool is confirmed. Without a way to ask the
person, its first call answers a preview (not an error) with a `confirmation_token`, and the second
call passes `confirm: true` and that token. With `--ask` the client declares elicitation, and the
server puts the question to the person instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import mcp.types as types
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client


async def ask_on_terminal(_ctx: Any, params: Any) -> types.ElicitResult:
    """The person's side of an elicitation: the server's question, answered y/N on this terminal."""
    print(f"\n{params.message} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = await anyio.to_thread.run_sync(sys.stdin.readline)
    if answer.strip().lower() in ("y", "yes"):
        return types.ElicitResult(action="accept", content={"confirm": True})
    return types.ElicitResult(action="decline")


@asynccontextmanager
async def connect(argv: list[str], ask: bool = False):  # type: ignore[no-untyped-def]
    callback = {"elicitation_callback": ask_on_terminal} if ask else {}
    if argv[:1] == ["http"]:
        url = argv[1] if len(argv) > 1 else "http://127.0.0.1:8000/mcp"
        token = os.environ.get("PROPELAUTH_MCP_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http), **callback) as client,
        ):
            yield client
    else:
        command = shutil.which("propelauth-mcp") or os.path.join(
            os.path.dirname(sys.executable), "propelauth-mcp"
        )
        params = StdioServerParameters(
            command=command,
            args=["--sandbox", "--sandbox-db", ":memory:"],
            env={**os.environ, "PROPELAUTH_MCP_AUDIT_STDERR": "false"},
        )
        async with Client(stdio_client(params, errlog=sys.stderr), **callback) as client:
            yield client


def as_function_definitions(tools: Any) -> list[dict[str, Any]]:
    """MCP tools -> the function-calling shape most model APIs take (OpenAI / Anthropic style)."""
    return [
        {
            "name": t.name,
            "description": t.description,
            "parameters": t.input_schema,
            "destructive": bool(t.annotations and t.annotations.destructive_hint),
        }
        for t in tools
    ]


# What a model would decide, given the user's request "who is ada, and is her account locked?"
PLAN = [
    ("query_users", {"email_or_username": "ada"}),
    ("fetch_user_by_email", {"email": "ada@example.com"}),
]


async def run(argv: list[str]) -> dict[str, Any]:
    ask = "--ask" in argv
    async with connect([arg for arg in argv if arg != "--ask"], ask) as client:
        functions = as_function_definitions((await client.list_tools()).tools)
        transcript = []

        async def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
            result = await client.call_tool(name, arguments)
            transcript.append(
                {"tool": name, "is_error": result.is_error, "result": result.structured_content}
            )
            return result.structured_content or {}

        for name, arguments in PLAN:
            user = await call(name, arguments)
        # "...and sign Grace out everywhere": a confirm-gated tool. The first call only previews.
        grace = await call("fetch_user_by_email", {"email": "grace.hopper@example.com"})
        target = {"user_id": grace["user_id"]}
        preview = await call("logout_all_user_sessions", target)
        token = preview.get("confirmation_token")  # absent when the person will be asked instead
        confirmed = await call(
            "logout_all_user_sessions",
            {**target, "confirm": True, **({"confirmation_token": token} if token else {})},
        )
    return {
        "tools_offered": len(functions),
        "destructive_tools": sorted(f["name"] for f in functions if f["destructive"]),
        "answer": f"{user.get('email')} is {'locked' if user.get('locked') else 'not locked'}",
        "preview": preview.get("preview"),
        "sessions_ended": confirmed.get("ok") is True,
        "transcript": transcript,
    }


def main(argv: list[str] | None = None) -> int:
    summary = asyncio.run(run(list(sys.argv[1:] if argv is None else argv)))
    print(json.dumps({k: v for k, v in summary.items() if k != "transcript"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
