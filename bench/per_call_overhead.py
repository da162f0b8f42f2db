"""Issue #4's per-call overhead: a `fetch_user_by_id` tool call over stdio and over HTTP, minus the same
request made directly with httpx2, all against the standalone sandbox on loopback, side by side in one run.

The paths take turns, a block of calls each, so that the machine's moods fall on all of them alike
while each path runs warm within its block; they are measured in three phases (stdio with each client,
then HTTP), each phase with only its own servers running and its own direct baseline. Our server is driven by
two clients:

- a plain JSON-RPC client (a line over the pipes, a POST over HTTP, the reply parsed with `json`):
  the time it measures is the server's, which is what the target is about;
- the MCP Python SDK's `Client`, which adds its own dispatch and validates every result against the
  tool's output schema.

Two floors run beside it: a relay with no SDK at all (bench/relay_server.py: the pipes, the process
hops and the request), and the SDK's low-level Server whose one tool makes the same request with
httpx2 and does nothing else (bench/floor_server.py), through each client. What this server adds
above the second is its own work: validation, audit, output check, rendering.

Run: `uv run python bench/per_call_overhead.py [--calls N] [--compare-with COMMAND]`. Target: median
stdio overhead <= 1.5 ms. `--compare-with` runs another build of this server (e.g. another checkout's
`.venv/bin/propelauth-mcp`) as one more stdio path in the same turns: before and after a change, in
one run, against one floor.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
from _servers import API_KEY, BIN, INITIALIZE_PARAMS, TOKEN, http_server, server_env, standalone_sandbox
from anyio.streams.buffered import BufferedByteReceiveStream
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

BENCH = Path(__file__).resolve().parent
TARGET_MS = 1.5
DIRECT = "direct httpx2"
RELAY = "floor: relay, no SDK (JSON-RPC client)"
FLOOR_PLAIN = "floor: SDK + httpx2 (JSON-RPC client)"
STDIO_PLAIN = "stdio (JSON-RPC client)"
OTHER_BUILD = "stdio (JSON-RPC client), --compare-with"
STDIO_SDK = "stdio (SDK Client)"
FLOOR_SDK = "floor: SDK + httpx2 (SDK Client)"
HTTP_PLAIN = "HTTP (JSON-RPC client)"

Call = Callable[[], Awaitable[None]]


def tool_call(request_id: int, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": "fetch_user_by_id", "arguments": arguments},
    }


def check_answer(reply: dict[str, Any], user_id: str) -> None:
    result = reply["result"]
    assert not result.get("isError") and result["structuredContent"]["user_id"] == user_id, reply


@asynccontextmanager
async def plain_stdio(
    command: list[str], env: dict[str, str], errlog: Path, user_id: str
) -> AsyncIterator[Call]:
    """A client that writes JSON-RPC lines to the server's stdin and reads its answers from stdout."""
    with open(errlog, "w") as stderr:
        async with await anyio.open_process(command, env=env, stderr=stderr) as process:
            assert process.stdin is not None and process.stdout is not None
            stdin, stdout = process.stdin, BufferedByteReceiveStream(process.stdout)

            async def exchange(message: dict[str, Any]) -> dict[str, Any]:
                await stdin.send(json.dumps(message).encode() + b"\n")
                return dict(json.loads(await stdout.receive_until(b"\n", 1 << 24)))

            await exchange({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": INITIALIZE_PARAMS})
            await stdin.send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
            ids = iter(range(1, 1 << 62))

            async def call() -> None:
                check_answer(await exchange(tool_call(next(ids), {"user_id": user_id})), user_id)

            yield call
            await stdin.aclose()


def plain_http(http: httpx2.AsyncClient, url: str, user_id: str) -> Call:
    """A client that POSTs each JSON-RPC request to /mcp (the server is stateless and answers in JSON)."""
    headers = {
        "Accept": "application/json, text/event-stream",
        "Mcp-Protocol-Version": "2025-11-25",
    }

    async def call() -> None:
        response = await http.post(url, json=tool_call(1, {"user_id": user_id}), headers=headers)
        check_answer(response.json(), user_id)

    return call


def sdk_call(client: Client, user_id: str) -> Call:
    async def call() -> None:
        result = await client.call_tool("fetch_user_by_id", {"user_id": user_id})
        assert not result.is_error, result

    return call


async def direct_path(stack: AsyncExitStack, base: str) -> tuple[Call, str]:
    """The baseline (the same request made directly with httpx2) and the id of the user fetched."""
    direct = await stack.enter_async_context(
        httpx2.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {API_KEY}"})
    )
    user_id = (await direct.get("/api/backend/v1/user/query")).json()["users"][0]["user_id"]
    user_path = f"/api/backend/v1/user/{user_id}"

    async def direct_call() -> None:
        assert (await direct.get(user_path)).status_code == 200

    return direct_call, user_id


OURS = [str(BIN / "propelauth-mcp")]
FLOOR = [sys.executable, str(BENCH / "floor_server.py")]


async def plain_stdio_paths(
    stack: AsyncExitStack, tmp: Path, base: str, compare_with: str | None = None
) -> dict[str, Call]:
    direct_call, user_id = await direct_path(stack, base)

    async def plain(name: str, command: list[str]) -> Call:
        env = server_env(tmp / name, base)
        return await stack.enter_async_context(plain_stdio(command, env, tmp / f"{name}.err", user_id))

    paths = {
        DIRECT: direct_call,
        RELAY: await plain("relay", [sys.executable, str(BENCH / "relay_server.py")]),
        FLOOR_PLAIN: await plain("floor", FLOOR),
        STDIO_PLAIN: await plain("ours", OURS),
    }
    if compare_with is not None:
        paths[OTHER_BUILD] = await plain("other", [compare_with])
    return paths


async def sdk_stdio_paths(stack: AsyncExitStack, tmp: Path, base: str) -> dict[str, Call]:
    direct_call, user_id = await direct_path(stack, base)
    log = stack.enter_context((tmp / "sdk-clients.err").open("w"))

    async def sdk(name: str, command: list[str]) -> Call:
        params = StdioServerParameters(command=command[0], args=command[1:], env=server_env(tmp / name, base))
        client = Client(stdio_client(params, errlog=log), mode="legacy")
        return sdk_call(await stack.enter_async_context(client), user_id)

    return {
        DIRECT: direct_call,
        STDIO_SDK: await sdk("ours-sdk", OURS),
        FLOOR_SDK: await sdk("floor-sdk", FLOOR),
    }


async def http_paths(stack: AsyncExitStack, tmp: Path, base: str) -> dict[str, Call]:
    direct_call, user_id = await direct_path(stack, base)
    server = stack.enter_context(http_server(tmp / "http", base))
    http = await stack.enter_async_context(
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    )

    async def sdk(mode: str) -> Call:
        client = Client(streamable_http_client(server.url, http_client=http), mode=mode)
        return sdk_call(await stack.enter_async_context(client), user_id)

    return {
        DIRECT: direct_call,
        HTTP_PLAIN: plain_http(http, server.url, user_id),
        "HTTP (SDK Client, 2025-11-25 era)": await sdk("legacy"),
        "HTTP (SDK Client, 2026-07-28 era)": await sdk("auto"),
    }


async def measure_paths(
    paths: dict[str, Call], calls: int, warmup: int, block: int
) -> dict[str, list[float]]:
    for _ in range(warmup):
        for call in paths.values():
            await call()
    samples: dict[str, list[float]] = {label: [] for label in paths}
    for _ in range(max(1, calls // block)):
        for label, call in paths.items():
            for _ in range(block):
                started = time.perf_counter()
                await call()
                samples[label].append((time.perf_counter() - started) * 1000)
    return samples


async def measure(
    calls: int, warmup: int, block: int, compare_with: str | None
) -> list[dict[str, list[float]]]:
    """Three phases (stdio with the plain client, stdio with the SDK's, HTTP), each with only its own
    servers running and its own baseline."""
    phases = []
    with standalone_sandbox() as base, tempfile.TemporaryDirectory() as tmp_name:
        plain_paths = functools.partial(plain_stdio_paths, compare_with=compare_with)
        for open_paths in (plain_paths, sdk_stdio_paths, http_paths):
            async with AsyncExitStack() as stack:
                paths = await open_paths(stack, Path(tmp_name), base)
                phases.append(await measure_paths(paths, calls, warmup, block))
    return phases


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--block", type=int, default=50, help="calls per path per turn")
    parser.add_argument("--compare-with", metavar="COMMAND", help="another build's propelauth-mcp")
    args = parser.parse_args()
    phases = anyio.run(measure, args.calls, args.warmup, args.block, args.compare_with)
    print(
        f"fetch_user_by_id, {args.calls} calls per path in turns of {args.block} (after {args.warmup} "
        "warm-up calls each), standalone sandbox on loopback"
    )
    print(f"{'path':42} {'median ms':>10} {'p99 ms':>8} {'overhead median':>16} {'overhead p99':>13}")
    for phase in phases:
        base_median, base_p99 = statistics.median(phase[DIRECT]), p99(phase[DIRECT])
        for label, samples in phase.items():
            median, tail = statistics.median(samples), p99(samples)
            print(
                f"{label:42} {median:10.3f} {tail:8.3f} {median - base_median:16.3f} {tail - base_p99:13.3f}"
            )
    stdio = phases[0]
    overhead = {
        label: statistics.median(samples) - statistics.median(stdio[DIRECT])
        for label, samples in stdio.items()
    }
    ours, floor = overhead[STDIO_PLAIN], overhead[FLOOR_PLAIN]
    verdict = "meets" if ours <= TARGET_MS else "MISSES"
    print(f"stdio median overhead (JSON-RPC client): {ours:.3f} ms: {verdict} the {TARGET_MS} ms target")
    print(
        f"floors in this run: {overhead[RELAY]:.3f} ms with no SDK, {floor:.3f} ms for the SDK and httpx2 "
        f"alone; this server's own work: {ours - floor:.3f} ms"
    )
    if OTHER_BUILD in overhead:
        other = overhead[OTHER_BUILD] - floor
        print(f"the --compare-with build's own work: {other:.3f} ms ({args.compare_with})")
    return 0 if overhead[STDIO_PLAIN] <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
