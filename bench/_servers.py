"""Shared by the per-call and load benchmarks: the standalone sandbox and our HTTP server as subprocesses."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

BIN = Path(sys.executable).parent
INITIALIZE_PARAMS = {  # what the benchmarks' own JSON-RPC clients send to start a session
    "protocolVersion": "2025-11-25",
    "capabilities": {},
    "clientInfo": {"name": "bench", "version": "1"},
}
API_KEY = "bench-" + secrets.token_urlsafe(24)
TOKEN = "bench-" + secrets.token_urlsafe(24)
INTROSPECTION_ID = "bench-introspection"
INTROSPECTION_SECRET = "bench-" + secrets.token_urlsafe(24)
OAUTH_SCOPES = ("read:users", "admin:users")
SCOPE_POLICIES = "read:users=read-only;admin:users=all"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The sandbox's OAuth 2.1 authorization server as --auth propelauth needs it (sign-in by its page).
OAUTH_SANDBOX_ARGS = (
    "--introspection-credentials",
    f"{INTROSPECTION_ID}:{INTROSPECTION_SECRET}",
    "--oauth-scopes",
    ",".join(OAUTH_SCOPES),
)


@contextmanager
def standalone_sandbox(extra_args: Sequence[str] = ()) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            str(BIN / "python"),
            "-m",
            "sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--api-key",
            API_KEY,
            "--db",
            ":memory:",
            "--seed",
            *extra_args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        for line in proc.stderr:
            if "sandbox ready" in line or time.monotonic() > deadline:
                break
        base = f"http://127.0.0.1:{port}"
        httpx2.get(
            f"{base}/api/backend/v1/user/query", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
        )
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def server_env(tmp: Path, sandbox_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PROPELAUTH_AUTH_URL": sandbox_url,
        "PROPELAUTH_API_KEY": API_KEY,
        "PROPELAUTH_MCP_AUDIT_LOG": str(tmp / "audit.jsonl"),
        "XDG_STATE_HOME": str(tmp),
        "PROPELAUTH_MCP_TOKENS": f"bench={TOKEN}",
        "PROPELAUTH_MCP_AUDIT_STDERR": "false",
    }


def oauth_env(port: int) -> dict[str, str]:
    """--auth propelauth on a fixed port: its resource URL must be known before it starts."""
    return {
        "PROPELAUTH_MCP_AUTH": "propelauth",
        "PROPELAUTH_MCP_RESOURCE_URL": f"http://127.0.0.1:{port}/mcp",
        "PROPELAUTH_MCP_SCOPES": SCOPE_POLICIES,
        "PROPELAUTH_MCP_INTROSPECTION_CLIENT_ID": INTROSPECTION_ID,
        "PROPELAUTH_MCP_INTROSPECTION_CLIENT_SECRET": INTROSPECTION_SECRET,
    }


def _without_tokens(env: dict[str, str]) -> dict[str, str]:
    # --auth propelauth refuses static tokens alongside: callers sign in instead.
    if env.get("PROPELAUTH_MCP_AUTH") == "propelauth":
        env.pop("PROPELAUTH_MCP_TOKENS", None)
    return env


@dataclass
class HttpServer:
    url: str
    pid: int


@contextmanager
def http_server(
    tmp: Path, sandbox_url: str, *, port: int = 0, extra_env: dict[str, str] | None = None
) -> Iterator[HttpServer]:
    proc = subprocess.Popen(
        [str(BIN / "propelauth-mcp"), "--transport", "http", "--port", str(port), "--max-in-flight", "64"],
        env=_without_tokens({**server_env(tmp, sandbox_url), **(extra_env or {})}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = None
        said = []
        for line in proc.stderr:
            said.append(line)
            if match := re.search(r"serving MCP over HTTP at (\S+/mcp)", line):
                url = match.group(1)
                break
        assert url, "the HTTP server did not start: " + "".join(said[-5:])
        drain = __import__("threading").Thread(target=lambda: [None for _ in proc.stderr], daemon=True)  # type: ignore[union-attr]
        drain.start()
        yield HttpServer(url, proc.pid)
    finally:
        proc.terminate()
        proc.wait(15)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")
