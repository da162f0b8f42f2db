"""Issue #4's per-call overhead: a `fetch_user_by_id` tool call over stdio and over HTTP, minus the same
request made directly with httpx2, all against the standalone sandbox on loopback, side by side in one run.

Run: `uv run python bench/per_call_overhead.py [--calls N]`. Target: median stdio overhead <= 1.5 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import API_KEY, BIN, TOKEN, http_server, server_env, standalone_sandbox


async def timed(call: Callable[[], Awaitable[object]], calls: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


async def measure(calls: int, warmup: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    with standalone_sandbox() as base, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with httpx2.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {API_KEY}"}
        ) as direct:
            users = (await direct.get("/api/backend/v1/user/query")).json()["users"]
            user_id = users[0]["user_id"]
            path = f"/api/backend/v1/user/{user_id}"

            async def direct_call() -> None:
                response = await direct.get(path)
                assert response.status_code == 200

            results["direct httpx2"] = await timed(direct_call, calls, warmup)

        arguments = {"user_id": user_id}

        def tool_call(client: Client) -> Callable[[], Awaitable[None]]:
            async def call() -> None:
                result = await client.call_tool("fetch_user_by_id", arguments)
                assert not result.is_error, result

            return call

        params = StdioServerParameters(
            command=str(BIN / "propelauth-mcp"), env=server_env(tmp / "stdio", base)
        )
        with open(tmp / "stdio.err", "w") as errlog:
            async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
                results["stdio"] = await timed(tool_call(client), calls, warmup)

        # The SDK's own floor: its minimal low-level server answering a trivial tool over stdio,
        # through the same client. No server built on this SDK can be faster than this.
        minimal = StdioServerParameters(
            command=sys.executable, args=[str(Path(__file__).parent / "minimal_server.py")]
        )
        async with Client(stdio_client(minimal), mode="legacy") as client:

            async def echo() -> None:
                await client.call_tool("echo", {"text": "hi"})

            results["SDK floor: minimal server, stdio"] = await timed(echo, calls, warmup)

        with http_server(tmp / "http", base) as server:
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as http:
                for mode in ("legacy", "auto"):
                    async with Client(
                        streamable_http_client(server.url, http_client=http), mode=mode
                    ) as client:
                        label = (
                            "HTTP (2025-11-25 handshake era)" if mode == "legacy" else "HTTP (2026-07-28 era)"
                        )
                        results[label] = await timed(tool_call(client), calls, warmup)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    args = parser.parse_args()
    results = anyio.run(measure, args.calls, args.warmup)
    base_median = statistics.median(results["direct httpx2"])
    base_p99 = p99(results["direct httpx2"])
    print(
        f"fetch_user_by_id, {args.calls} sequential calls each (after {args.warmup} warm-up), "
        "standalone sandbox on loopback"
    )
    print(f"{'path':34} {'median ms':>10} {'p99 ms':>8} {'overhead median':>16} {'overhead p99':>13}")
    for label, samples in results.items():
        median, tail = statistics.median(samples), p99(samples)
        print(f"{label:34} {median:10.3f} {tail:8.3f} {median - base_median:16.3f} {tail - base_p99:13.3f}")
    stdio_overhead = statistics.median(results["stdio"]) - base_median
    floor = statistics.median(results["SDK floor: minimal server, stdio"])
    verdict = "meets" if stdio_overhead <= 1.5 else "MISSES"
    print(f"stdio median overhead {stdio_overhead:.3f} ms: {verdict} the 1.5 ms target")
    print(
        f"of which the SDK's own stdio round trip (minimal server, trivial tool) is {floor:.3f} ms; "
        f"above that floor: {stdio_overhead - floor:.3f} ms"
    )
    return 0 if stdio_overhead <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
