"""`--sandbox`: the in-process sandbox is built on its first request, and start-up asks it nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import httpx2
import pytest

from server.in_process_sandbox import LazySandboxApp
from server.run import SANDBOX_AUTH_URL, sandbox_transport
from tests.conftest import make_settings
from tests.jsonrpc import HANDSHAKE, as_lines

ENTRY_POINT = str(Path(sys.executable).parent / "propelauth-mcp")
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
KEY = "sandbox-test-key-0123456789"


@pytest.mark.anyio
async def test_the_sandbox_opens_its_database_on_the_first_request_and_answers_it(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    app = LazySandboxApp(api_key=KEY, db_path=str(db), auth_url=SANDBOX_AUTH_URL)
    assert not app.built and not db.exists()
    try:
        with anyio.fail_after(30):
            async with httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=app), base_url=SANDBOX_AUTH_URL
            ) as c:
                response = await c.get(
                    "/api/backend/v1/user/query",
                    params={"email_or_username": "ada@"},
                    headers={"Authorization": f"Bearer {KEY}"},
                )
        assert app.built and db.exists()
        assert response.status_code == 200 and response.json()["users"]  # seeded on first open
    finally:
        app.close()


def test_closing_a_sandbox_that_was_never_asked_creates_no_database(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    app = LazySandboxApp(api_key=KEY, db_path=str(db), auth_url=SANDBOX_AUTH_URL)
    app.close()
    assert not app.built and not db.exists()


def test_wiring_the_sandbox_builds_nothing_yet(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "audit.jsonl", sandbox=True, sandbox_db=str(tmp_path / "s.db"))
    wired, transport = sandbox_transport(settings)
    assert isinstance(transport.app, LazySandboxApp) and not transport.app.built
    assert wired.auth_url == SANDBOX_AUTH_URL and not (tmp_path / "s.db").exists()


def test_a_stdio_server_on_the_sandbox_runs_no_start_up_check(tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "PROPELAUTH_MCP_AUDIT_LOG": str(tmp_path / "a.jsonl")}
    done = subprocess.run(
        [ENTRY_POINT, "--sandbox", "--sandbox-db", str(tmp_path / "s.db")],
        input=as_lines([*HANDSHAKE, TOOLS_LIST]),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0 and [a.get("id") for a in answers] == [1, 2] and answers[1]["result"]["tools"]
    assert "start-up check" not in done.stderr and "in-process sandbox" in done.stderr
    assert not (tmp_path / "s.db").exists()  # tools/list alone never opened it


def test_a_sandbox_database_path_that_cannot_be_opened_stops_the_start_with_a_clear_error(
    tmp_path: Path,
) -> None:
    from server.cli import EXIT_CONFIG, main

    assert main(["--sandbox", "--sandbox-db", str(tmp_path), "--audit-log", str(tmp_path / "a.jsonl")]) == (
        EXIT_CONFIG
    )


def test_usable_database_path_names_the_setting_and_the_problem(tmp_path: Path) -> None:
    from server.run import usable_database_path

    with pytest.raises(ValueError, match=r"PROPELAUTH_MCP_SANDBOX_DB .*: it is a directory"):
        usable_database_path(tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="cannot create its directory"):
        usable_database_path(tmp_path / "file" / "sandbox.db")
    usable_database_path(tmp_path / "new" / "sandbox.db")  # a new file in a new directory is fine
    assert (tmp_path / "new").is_dir()
