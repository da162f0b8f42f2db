"""The Dockerfile: linted, and its steps performed outside a container (no container engine here).

Steps exercised: copy the build context, `uv sync --locked --no-dev --no-editable` into a clean
environment, start the entry point over HTTP as a non-root user, answer the image's HEALTHCHECK.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest

from tests.http.conftest import ALICE_TOKEN, TOKENS, entry_point_over_http, http_client

ROOT = Path(__file__).parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    finished = subprocess.run([str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stdout + finished.stderr


def test_the_dockerfile_is_multi_stage_locked_non_root_and_stdio_by_default() -> None:
    text = DOCKERFILE.read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) == 2
    assert "uv sync --locked --no-dev" in text
    assert re.search(r"^USER 10001", text, re.M)
    assert 'ENTRYPOINT ["propelauth-mcp"]' in text and 'CMD ["--transport"' not in text
    assert re.search(r"^HEALTHCHECK .*\n?.*server\.healthcheck", text, re.M)
    final_stage = text.split("\nFROM ")[-1]
    assert (
        "uv" not in re.sub(r"UV_\w+|/app/.venv|\.venv", "", final_stage).split()
    )  # no uv in the final image


def copied_context(into: Path) -> Path:
    """The build context as the Dockerfile's COPY lines take it."""
    text = DOCKERFILE.read_text()
    into.mkdir(parents=True, exist_ok=True)
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        *sources, _ = line.split()
        for source in sources:
            src = ROOT / source
            if src.is_dir():
                shutil.copytree(src, into / source, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, into / source)
    return into


def find_uv() -> list[str]:
    """The uv that runs this test session (`uv run` names it in $UV), else the one on PATH.

    The Dockerfile pins its own uv; any recent uv installs the same lock file the same way.
    """
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to install from the lock file: run the tests with `uv run pytest`"
    return [uv]


def runs_as(user: str | None, python: str) -> bool:
    try:
        check = [python, "-c", "import sys; assert sys.version_info >= (3, 11)"]
        return subprocess.run(check, user=user, cwd="/", capture_output=True, timeout=60).returncode == 0
    except OSError:
        return False


@pytest.fixture(scope="module")
def unprivileged() -> str | None:
    """`nobody` when we are root (the image's USER is non-root), else None (we already are not root)."""
    return "nobody" if os.geteuid() == 0 else None


@pytest.fixture(scope="module")
def clean_install(unprivileged: str | None) -> Iterator[Path]:
    """`uv sync --locked --no-dev --no-editable` of the copied context into a fresh, world-readable venv."""
    top = Path(tempfile.mkdtemp(prefix="propelauth-mcp-image-"))
    try:
        top.chmod(0o755)
        context = copied_context(top / "src")
        venv = top / "venv"
        # An interpreter the unprivileged user can run (a pyenv Python under /root is not one).
        candidates = [
            sys.executable,
            "/usr/local/bin/python3.11",
            "/usr/bin/python3.12",
            "/usr/bin/python3.11",
        ]
        python = next((p for p in candidates if Path(p).exists() and runs_as(unprivileged, p)), None)
        assert python, f"no Python >= 3.11 that user {unprivileged} may run among {candidates}"
        env = {
            **os.environ,
            "UV_PROJECT_ENVIRONMENT": str(venv),
            "UV_LINK_MODE": "copy",
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_COMPILE_BYTECODE": "1",
            "VIRTUAL_ENV": "",
        }
        subprocess.run(
            [*find_uv(), "sync", "--locked", "--no-dev", "--no-editable", "--python", python, "--quiet"],
            cwd=context,
            env=env,
            check=True,
            timeout=600,
            capture_output=True,
        )
        shutil.rmtree(context)  # the final stage has no source tree: only the venv
        yield venv
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_the_locked_install_has_the_runtime_packages_and_no_dev_tools(clean_install: Path) -> None:
    bin_dir = clean_install / "bin"
    assert (bin_dir / "propelauth-mcp").exists()
    for dev_tool in ("pytest", "hadolint", "ruff", "mypy"):
        assert not (bin_dir / dev_tool).exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.anyio
async def test_the_installed_entry_point_serves_http_as_a_non_root_user_and_answers_the_healthcheck(
    clean_install: Path, unprivileged: str | None
) -> None:
    state = Path(tempfile.mkdtemp(prefix="propelauth-mcp-data-"))
    try:
        if unprivileged is not None:
            entry = pwd.getpwnam(unprivileged)
            os.chown(state, entry.pw_uid, entry.pw_gid)
        port = free_port()
        env = {  # what the image's ENV lines set, plus a token
            "PATH": f"{clean_install / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "XDG_STATE_HOME": str(state),
            "PROPELAUTH_MCP_TOKENS": TOKENS,
            "PYTHONDONTWRITEBYTECODE": "1",
            "HOME": str(state),
        }
        command = [
            str(clean_install / "bin" / "propelauth-mcp"),
            "--transport",
            "http",
            "--port",
            str(port),
            "--sandbox",
        ]
        python = str(clean_install / "bin" / "python")
        with anyio.fail_after(120):
            async with entry_point_over_http(command, env, user=unprivileged, cwd=state) as server:
                uid = next(
                    line
                    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines()
                    if line.startswith("Uid:")
                ).split()[1]
                check = await anyio.run_process(
                    [python, "-m", "server.healthcheck", "--pid", str(server.process.pid)],
                    env={**os.environ, **env},
                    check=False,
                )
                async with http_client(server.url, token=ALICE_TOKEN) as client:
                    result = await client.call_tool("fetch_user_by_email", {"email": "ada@example.com"})
                async with httpx2.AsyncClient() as http:
                    ready = await http.get(f"{server.base}/readyz")
                audit_written = (state / "propelauth-mcp" / "audit.jsonl").stat().st_size > 0
            down = await anyio.run_process(
                [python, "-m", "server.healthcheck", "--pid", str(os.getpid())],
                check=False,
            )
    finally:
        shutil.rmtree(state, ignore_errors=True)
    assert uid != "0"
    assert check.returncode == 0, check.stderr
    assert not result.is_error and ready.status_code == 200
    assert audit_written  # the non-root user writes the audit log under XDG_STATE_HOME (the image's /data)
    assert down.returncode == 0  # a process that is not an HTTP server (pytest here) has nothing to probe


@pytest.mark.parametrize(
    ("cmdline", "env", "url"),
    [
        (["/app/.venv/bin/python", "/app/.venv/bin/propelauth-mcp"], {}, None),
        (["/app/.venv/bin/python", "/app/.venv/bin/propelauth-mcp", "--sandbox"], {}, None),
        (
            ["python", "/app/.venv/bin/propelauth-mcp", "--transport", "http"],
            {"PROPELAUTH_MCP_PORT": "9000"},
            "http://127.0.0.1:9000/healthz",
        ),
        (
            ["propelauth-mcp", "--transport=http", "--port=8123"],
            {"PROPELAUTH_MCP_HOST": "0.0.0.0"},
            "http://127.0.0.1:8123/healthz",
        ),
        (["propelauth-mcp"], {"PROPELAUTH_MCP_TRANSPORT": "http"}, "http://127.0.0.1:8000/healthz"),
        (["propelauth-mcp", "sandbox", "--port", "8787"], {"PROPELAUTH_MCP_TRANSPORT": "http"}, None),
        (["bash"], {}, None),
    ],
    ids=[
        "stdio",
        "stdio-sandbox",
        "http-flag",
        "http-flag-equals",
        "http-env",
        "sandbox-subcommand",
        "not-ours",
    ],
)
def test_the_healthcheck_probes_only_an_http_server(
    cmdline: list[str], env: dict[str, str], url: str | None
) -> None:
    from server.healthcheck import probe_target

    assert probe_target(cmdline, env) == url


@pytest.mark.anyio
async def test_the_healthcheck_fails_when_the_http_server_does_not_answer(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    with anyio.fail_after(30):
        async with await anyio.open_process(
            [
                sys.executable,
                "-c",
                "import sys; sys.stdin.read()",
                "propelauth-mcp",
                "--transport",
                "http",
                "--port",
                str(port),
            ],
        ) as sleeper:
            finished = await anyio.run_process(
                [sys.executable, "-m", "server.healthcheck", "--pid", str(sleeper.pid), "--timeout", "2"],
                check=False,
                cwd=Path(__file__).parents[2],
            )
            sleeper.kill()
    assert finished.returncode == 1
