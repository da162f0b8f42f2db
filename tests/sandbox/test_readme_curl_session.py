"""The README's curl session against the standalone sandbox works as written."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import read_until

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_block(after: str) -> str:
    text = README.read_text()
    start = text.index(after)
    return re.search(r"```sh\n(.*?)```", text[start:], re.S).group(1)  # type: ignore[union-attr]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_curl_session_works_as_written(tmp_path: Path) -> None:
    start_command = readme_block("It also\nruns standalone")
    session = readme_block("A session with curl")
    assert "propelauth-mcp sandbox --port 8787 --api-key demo-key --seed" in start_command
    port = str(free_port())
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "sandbox",
            "--port",
            port,
            "--api-key",
            "demo-key",
            "--seed",
            "--db",
            str(tmp_path / "sandbox.db"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert server.stderr is not None
        read_until(server.stderr, b"sandbox ready at")
        script = "set -e\n" + session.replace("8787", port)
        run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stderr.close()  # type: ignore[union-attr]
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert '"total_users":36' in out and '"email":"ada@example.com"' in out
    assert re.search(r'\{"user_id":"[0-9a-f-]{36}"\}', out)
    assert '"verifier_key_pem":"-----BEGIN PUBLIC KEY-----' in out
    assert "HTTP/1.1 401 Unauthorized" in out
