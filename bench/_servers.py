"""Shared by the per-call and load benchmarks: the standalone sandbox and our HTTP server as subprocesses."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def standalone_sandbox() -> Iterator[str]:
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


@dataclass
class HttpServer:
    url: str
    pid: int


@contextmanager
def http_server(tmp: Path, sandbox_url: str) -> Iterator[HttpServer]:
    proc = subprocess.Popen(
        [str(BIN / "propelauth-mcp"), "--transport", "http", "--port", "0", "--max-in-flight", "64"],
        env=server_env(tmp, sandbox_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = None
        for line in proc.stderr:
            if match := re.search(r"serving MCP over HTTP at (\S+/mcp)", line):
                url = match.group(1)
                break
        assert url, "the HTTP server did not start"
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
