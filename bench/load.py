"""Issue #4's load check: 200 concurrent `fetch_user_by_id` calls from 20 clients over HTTP.

Pass when: no call fails, the audit file has exactly 200 new records, and the server's memory (RSS)
comes back to within 10% of its idle size. Run: `uv run python bench/load.py [--clients 20 --calls 10]`.

`--auth propelauth` (bench/load_oauth.py): the same load from 20 callers signed in at the sandbox's
OAuth 2.1 authorization server, then per-call latency with OAuth against static tokens, alternating.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import API_KEY, TOKEN, http_server, rss_kib, standalone_sandbox


def audit_lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


async def settled_rss(pid: int, idle: int) -> int:
    """RSS once the allocator has had a bounded moment to hand memory back."""
    after = rss_kib(pid)
    with anyio.move_on_after(10):
        while after > idle * 1.10:
            await anyio.sleep(0.5)
            after = rss_kib(pid)
    return after


async def burst(
    server: Any, user_id: str, clients: int, calls: int
) -> tuple[float, list[str], list[float], int]:
    """`clients` clients making `calls` concurrent calls each: (wall s, errors, latencies ms, peak RSS)."""
    return await burst_of(server, [(TOKEN, user_id)] * clients, calls)


async def burst_of(
    server: Any, callers: list[tuple[str, str]], calls: int
) -> tuple[float, list[str], list[float], int]:
    """Each (bearer token, user id to fetch) a client making `calls` concurrent calls."""
    errors: list[str] = []
    latencies: list[float] = []
    peak = 0

    async def one_client(token: str, user_id: str) -> None:
        limits = httpx2.Limits(max_connections=calls)
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60, limits=limits) as http,
            Client(streamable_http_client(server.url, http_client=http)) as client,
        ):

            async def one_call() -> None:
                started = time.perf_counter()
                try:
                    result = await client.call_tool("fetch_user_by_id", {"user_id": user_id})
                    if result.is_error:
                        errors.append(str(result.content))
                except Exception as exc:
                    errors.append(repr(exc))
                latencies.append((time.perf_counter() - started) * 1000)

            async with anyio.create_task_group() as calls_group:
                for _ in range(calls):
                    calls_group.start_soon(one_call)

    async def sample_peak() -> None:
        nonlocal peak
        while True:
            peak = max(peak, rss_kib(server.pid))
            await anyio.sleep(0.01)

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(sample_peak)
        async with anyio.create_task_group() as load:
            for token, user_id in callers:
                load.start_soon(one_client, token, user_id)
        tg.cancel_scope.cancel()
    return time.perf_counter() - started, errors, latencies, peak


async def run(clients: int, calls: int, bursts: int) -> int:
    with standalone_sandbox() as base, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with httpx2.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {API_KEY}"}
        ) as direct:
            user_id = (await direct.get("/api/backend/v1/user/query")).json()["users"][0]["user_id"]
        with http_server(tmp / "http", base) as server:
            audit = tmp / "http" / "audit.jsonl"
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with (  # warm-up: imports, caches
                httpx2.AsyncClient(headers=headers, timeout=60) as http,
                Client(streamable_http_client(server.url, http_client=http)) as client,
            ):
                for _ in range(20):
                    await client.call_tool("fetch_user_by_id", {"user_id": user_id})
            idle = rss_kib(server.pid)
            before = audit_lines(audit)
            first = await burst(server, user_id, clients, calls)
            new_records = audit_lines(audit) - before
            after = await settled_rss(server.pid, idle)
            # Further bursts tell a leak (memory keeps growing) from the allocator keeping its
            # arenas after the first burst (memory plateaus).
            later = []
            for _ in range(bursts - 1):
                await burst(server, user_id, clients, calls)
                later.append(await settled_rss(server.pid, idle))
    wall, errors, latencies, peak = first
    peak = max(peak, idle)
    total = clients * calls
    ratio = after / idle
    print(f"{total} concurrent fetch_user_by_id calls from {clients} clients over HTTP in {wall:.2f} s")
    print(f"  errors: {len(errors)}   audit records added: {new_records} (expected {total})")
    print(
        f"  latency ms: median {statistics.median(latencies):.1f}, "
        f"p99 {statistics.quantiles(latencies, n=100)[98]:.1f}, "
        f"max {max(latencies):.1f}"
    )
    print(
        f"  server RSS: idle {idle / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, after {after / 1024:.1f} MiB "
        f"({(ratio - 1) * 100:+.1f}% of idle)"
    )
    if later:
        shown = ", ".join(f"{rss / 1024:.1f}" for rss in later)
        print(f"  RSS after each further burst (MiB): {shown}")
    for error in errors[:5]:
        print(f"  error: {error}")
    ok = not errors and new_records == total and ratio <= 1.10
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--calls", type=int, default=10, help="concurrent calls per client")
    parser.add_argument("--bursts", type=int, default=3, help="the first is judged; the rest show any leak")
    parser.add_argument(
        "--auth",
        choices=("tokens", "propelauth"),
        default="tokens",
        help="tokens: static bearer tokens (the check above); propelauth: signed-in OAuth callers, "
        "then per-call latency against the static-token mode, alternating",
    )
    parser.add_argument(
        "--sequential",
        type=int,
        default=200,
        help="--auth propelauth: sequential calls per mode for the per-call comparison",
    )
    args = parser.parse_args()
    if args.auth == "propelauth":
        from load_oauth import run_oauth

        return anyio.run(run_oauth, args.clients, args.calls, args.sequential)
    return anyio.run(run, args.clients, args.calls, args.bursts)


if __name__ == "__main__":
    sys.exit(main())
