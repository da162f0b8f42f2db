"""`bench/load.py --auth propelauth`: the load check with callers signed in through OAuth 2.1.

20 sandbox users each sign in (dynamic registration, PKCE S256, the sign-in page, the code exchanged
for this server's resource URL) and make 10 concurrent `fetch_user_by_id` calls of themselves.
Pass when: no call fails; exactly 200 new outcome records, each naming its caller (caller == the user's
id, caller_identity.email == the user's email); the sandbox counted at most one introspection per token
per cache period; and, one caller calling in turns alternating with a static-token server on the same
sandbox, the median per-call latency with OAuth is within 1.2x of the static token's.
"""

from __future__ import annotations

import json
import math
import secrets
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx2
from _servers import (
    API_KEY,
    OAUTH_SANDBOX_ARGS,
    TOKEN,
    free_port,
    http_server,
    oauth_env,
    standalone_sandbox,
)
from _sign_in import SignedIn, create_user, sign_in, token_key
from load import burst_of
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

CACHE_S = 60.0  # the server's default PROPELAUTH_MCP_INTROSPECTION_CACHE
MAX_RATIO = 1.2
SCOPE = "read:users"  # enough for fetch_user_by_id (read-only under read:users=read-only)
LOADED_BURSTS = 2  # per mode, after the sequential calls; which goes first alternates


def new_audit_records(path: Path, skip: int) -> list[dict[str, Any]]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines[skip:]]


def audit_lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def misnamed(records: list[dict[str, Any]], callers: list[SignedIn], calls: int) -> list[str]:
    """What is wrong with the burst's outcome records: each caller `calls` records naming it."""
    emails = {caller.user_id: caller.email for caller in callers}
    problems = []
    for record in records:
        caller, identity = record.get("caller"), record.get("caller_identity") or {}
        if caller not in emails or identity.get("email") != emails[caller]:
            problems.append(f"record {record.get('call_id')} names {caller!r} / {identity.get('email')!r}")
        elif (record.get("arguments") or {}).get("user_id") != caller:
            problems.append(f"record {record.get('call_id')}: {caller} fetched someone else")
    per_caller = Counter(record.get("caller") for record in records)
    problems += [
        f"{uid}: {per_caller[uid]} records, not {calls}" for uid in emails if per_caller[uid] != calls
    ]
    return problems


async def sign_in_callers(base: str, resource: str, count: int) -> tuple[str, list[SignedIn]]:
    """An operators' org and `count` new sandbox users in it, each signed in for `resource` by its own
    client: (the org's id, the callers)."""
    run = time.time_ns()
    async with (
        httpx2.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60
        ) as backend,
        httpx2.AsyncClient(base_url=base, timeout=60) as public,
    ):
        created = await backend.post("/api/backend/v1/org/", json={"name": f"Bench operators {run}"})
        created.raise_for_status()
        org_id: str = created.json()["org_id"]
        callers = []
        for n in range(count):
            email = f"bench-caller-{n}-{run}@example.com"
            user_id = await create_user(backend, email)
            membership = {"user_id": user_id, "org_id": org_id, "role": "Member"}
            (await backend.post("/api/backend/v1/org/add_user", json=membership)).raise_for_status()
            callers.append(await sign_in(public, resource, user_id, email, SCOPE))
        return org_id, callers


async def introspections(base: str) -> dict[str, int]:
    async with httpx2.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {API_KEY}"}) as backend:
        answer = await backend.get("/_sandbox/oauth/introspections")
        answer.raise_for_status()
        return dict(answer.json()["by_token"])


async def alternating(
    static_url: str, oauth_url: str, oauth_token: str, user_id: str, pairs: int
) -> tuple[list[float], list[float], list[str]]:
    """`pairs` pairs of sequential calls, one to each server (which goes first alternates), so both see
    the same machine load: (static-token latencies ms, OAuth latencies ms, errors)."""
    latencies: dict[str, list[float]] = {"static": [], "oauth": []}
    errors: list[str] = []
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as static_http,
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {oauth_token}"}, timeout=60) as oauth_http,
        Client(streamable_http_client(static_url, http_client=static_http)) as static_client,
        Client(streamable_http_client(oauth_url, http_client=oauth_http)) as oauth_client,
    ):
        modes = [("static", static_client), ("oauth", oauth_client)]
        for pair in range(pairs):
            for mode, client in modes if pair % 2 == 0 else modes[::-1]:
                started = time.perf_counter()
                result = await client.call_tool("fetch_user_by_id", {"user_id": user_id})
                latencies[mode].append((time.perf_counter() - started) * 1000)
                if result.is_error:
                    errors.append(f"{mode}: {result.content}")
    return latencies["static"], latencies["oauth"], errors


async def warm_up(url: str, token: str, user_id: str) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        for _ in range(20):
            await client.call_tool("fetch_user_by_id", {"user_id": user_id})


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


async def run_oauth(clients: int, calls: int, sequential: int) -> int:
    port = free_port()
    with standalone_sandbox(OAUTH_SANDBOX_ARGS) as base, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        oauth_extra = oauth_env(port)
        operators_org, (*callers, warmer) = await sign_in_callers(
            base, oauth_extra["PROPELAUTH_MCP_RESOURCE_URL"], clients + 1
        )
        # Only members of the operators' org may sign in (one Backend API read per token per cache period).
        oauth_extra["PROPELAUTH_MCP_OPERATORS_ORG"] = operators_org
        # One static token per caller, as each OAuth caller has its own: the server shares its request
        # slots out per caller, so 20 clients on one token would wait on each other.
        static_tokens = {"bench": TOKEN} | {
            f"bench-{n}": f"bench-{n}-{secrets.token_urlsafe(24)}" for n in range(1, clients)
        }
        static_env = {"PROPELAUTH_MCP_TOKENS": ",".join(f"{k}={v}" for k, v in static_tokens.items())}
        with (
            http_server(tmp / "static", base, extra_env=static_env) as static,
            http_server(tmp / "oauth", base, port=port, extra_env=oauth_extra) as oauth,
        ):
            audit = tmp / "oauth" / "audit.jsonl"
            # Warm-up: imports and caches, with a token of its own so the callers' first use is the burst.
            await warm_up(static.url, TOKEN, warmer.user_id)
            await warm_up(oauth.url, warmer.access_token, warmer.user_id)
            before = audit_lines(audit)
            started = time.monotonic()
            wall, errors, latencies, _ = await burst_of(
                oauth, [(caller.access_token, caller.user_id) for caller in callers], calls
            )
            records = [
                record
                for record in new_audit_records(audit, before)
                if record.get("kind") == "outcome" and record.get("tool") == "fetch_user_by_id"
            ]
            burst_wall = time.monotonic() - started
            after_burst = await introspections(base)
            first = callers[0]
            static_ms, oauth_ms, compare_errors = await alternating(
                static.url, oauth.url, first.access_token, first.user_id, sequential
            )
            # Under load too (shown, not judged: 2 shared cores make bursts noisy): alternating bursts.
            loaded: dict[str, list[float]] = {"static": [], "oauth": []}
            both = [
                ("static", static, list(static_tokens.values())),
                ("oauth", oauth, [caller.access_token for caller in callers]),
            ]
            for n in range(LOADED_BURSTS):
                for mode, server, tokens in both if n % 2 == 0 else both[::-1]:
                    pairs = [(token, caller.user_id) for token, caller in zip(tokens, callers, strict=True)]
                    _, more_errors, more_latencies, _ = await burst_of(server, pairs, calls)
                    compare_errors += [f"{mode} burst: {error}" for error in more_errors]
                    loaded[mode] += more_latencies
            elapsed = time.monotonic() - started
            at_end = await introspections(base)
    total = clients * calls
    problems = misnamed(records, callers, calls)
    burst_counts = [after_burst.get(token_key(caller.access_token), 0) for caller in callers]
    end_counts = [at_end.get(token_key(caller.access_token), 0) for caller in callers]
    periods = math.ceil(elapsed / CACHE_S)  # cache periods the callers' tokens were used in
    calls_ok = not errors
    audit_ok = len(records) == total and not problems
    introspection_ok = burst_wall < CACHE_S and max(burst_counts) <= 1 and max(end_counts) <= periods
    ratio = statistics.median(oauth_ms) / statistics.median(static_ms)
    overhead_ok = ratio <= MAX_RATIO and not compare_errors
    print(
        f"{total} concurrent fetch_user_by_id calls from {clients} signed-in OAuth callers over HTTP "
        f"(--auth propelauth) in {wall:.2f} s"
    )
    print(f"  errors: {len(errors)}   {verdict(calls_ok)}")
    print(
        f"  audit outcome records added: {len(records)} (expected {total}), "
        f"naming the wrong caller: {len(problems)}   {verdict(audit_ok)}"
    )
    print(
        f"  latency ms: median {statistics.median(latencies):.1f}, "
        f"p99 {statistics.quantiles(latencies, n=100)[98]:.1f}, max {max(latencies):.1f}"
    )
    print(
        f"  introspections: {sum(burst_counts)} for {clients} tokens after the burst, at most "
        f"{max(burst_counts)} per token; {sum(end_counts)} after {elapsed:.1f} s of use, at most "
        f"{max(end_counts)} per token (allowed 1 per token per {CACHE_S:.0f} s cache period)   "
        f"{verdict(introspection_ok)}"
    )
    print(f"per call: {sequential} sequential calls per mode from one caller, alternating call by call:")
    print(f"  static token: median {statistics.median(static_ms):.2f} ms, p95 {p95(static_ms):.2f} ms")
    print(f"  OAuth:        median {statistics.median(oauth_ms):.2f} ms, p95 {p95(oauth_ms):.2f} ms")
    print(f"  ratio of medians {ratio:.2f} (allowed {MAX_RATIO})   {verdict(overhead_ok)}")
    loaded_ratio = statistics.median(loaded["oauth"]) / statistics.median(loaded["static"])
    print(
        f"under load, {LOADED_BURSTS} alternating bursts of {total} concurrent calls per mode "
        f"(shown, not judged): median static {statistics.median(loaded['static']):.0f} ms, OAuth "
        f"{statistics.median(loaded['oauth']):.0f} ms, ratio {loaded_ratio:.2f}"
    )
    for error in [*errors, *compare_errors, *problems][:5]:
        print(f"  error: {error}")
    ok = calls_ok and audit_ok and introspection_ok and overhead_ok
    print(verdict(ok))
    return 0 if ok else 1
