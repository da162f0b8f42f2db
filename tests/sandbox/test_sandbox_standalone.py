"""The standalone server on a real loopback port, and what the package may import."""

from __future__ import annotations

import ast
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from sandbox.standalone import apply_project_switches, build_parser, default_db_path
from sandbox.state import Sandbox

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "sandbox"
START_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def standalone_server(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    """Start `python -m sandbox` with a generated key; yield (base URL, key, process)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--db", str(tmp_path / "s.db"), "--seed"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    stderr = process.stderr

    def pump() -> None:
        for line in stderr:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    key = None
    try:
        while "ready at" not in "".join(seen) or key is None:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"the sandbox did not start: {''.join(seen)}"
            try:
                seen.append(lines.get(timeout=remaining))
            except queue.Empty:
                continue
            match = re.search(r"generated API key: (\S+)", seen[-1])
            key = match.group(1) if match else key
        assert f"http://127.0.0.1:{port}" in "".join(seen)
        yield f"http://127.0.0.1:{port}", key, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_standalone_server_serves_the_api_on_a_loopback_port(
    standalone_server: tuple[str, str, subprocess.Popen[str]],
) -> None:
    base_url, key, process = standalone_server
    with httpx2.Client(base_url=base_url, timeout=5) as http:
        allowed = http.get(
            "/api/backend/v1/user/email",
            params={"email": "ada@example.com"},
            headers={"Authorization": f"Bearer {key}"},
        )
        refused = http.get("/api/backend/v1/user/query", headers={"Authorization": "Bearer wrong"})
    assert allowed.status_code == 200
    assert allowed.json()["first_name"] == "Ada"
    assert refused.status_code == 401
    process.terminate()
    stdout, _ = process.communicate(timeout=10)
    assert stdout == ""  # everything goes to stderr


def test_standalone_flags_and_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.api_key, args.db, args.seed) == ("127.0.0.1", 8787, None, None, False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_db_path() == str(tmp_path / "propelauth-mcp" / "sandbox.db")
    args = build_parser().parse_args(
        [
            "--host",
            "0.0.0.0",
            "--port",
            "9000",
            "--api-key",
            "k",
            "--db",
            ":memory:",
            "--seed",
            "--auth-url",
            "https://auth.acme.com",
            "--rate-limit",
            "5/1",
        ]
    )
    assert (args.port, args.api_key, args.db, args.auth_url, args.rate_limit) == (
        9000,
        "k",
        ":memory:",
        "https://auth.acme.com",
        "5/1",
    )


def test_no_orgs_turns_the_projects_organizations_off(sandbox: Sandbox) -> None:
    assert build_parser().parse_args([]).no_orgs is False
    apply_project_switches(sandbox, build_parser().parse_args([]))
    assert sandbox.orgs_enabled is True
    apply_project_switches(sandbox, build_parser().parse_args(["--no-orgs"]))
    assert sandbox.orgs_enabled is False


def test_a_bad_rate_limit_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from sandbox.standalone import main

    assert main(["--rate-limit", "fast"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "--rate-limit" in captured.err


def test_the_sandbox_imports_nothing_from_server_or_tools() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("server", "tools")]
    assert offenders == []


def test_building_the_app_does_not_import_cryptography() -> None:
    code = (
        "import sys, sandbox; app = sandbox.create_app(api_key='k', seed=True); "
        "assert 'cryptography' not in sys.modules, 'cryptography imported eagerly'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
