"""The runnable example in examples/ works over stdio and over HTTP, as the README says."""

from __future__ import annotations

import importlib.util
import io
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest

from tests.http.conftest import ALICE_TOKEN, ENTRY_POINT, TOKENS, entry_point_over_http
from tools import tool_definitions
from tools.catalog import DEFAULT_TOOLSETS

EXAMPLE = Path(__file__).parents[2] / "examples" / "agent_client.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("agent_client", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check(summary: dict[str, Any]) -> None:
    # The example starts the server without --toolsets: the default surface.
    assert summary["tools_offered"] == sum(d.toolset in DEFAULT_TOOLSETS for d in tool_definitions())
    assert "delete_user" in summary["destructive_tools"]
    assert summary["answer"] == "ada@example.com is not locked"
    # The gated step: a preview that names Grace (an answer, not an error), then the confirmed call.
    assert summary["preview"]["email"] == "grace.hopper@example.com"
    assert summary["sessions_ended"] is True
    assert not any(step["is_error"] for step in summary["transcript"])


@pytest.mark.anyio
async def test_the_example_agent_runs_over_stdio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with open(tmp_path / "stderr", "w") as errlog:
        monkeypatch.setattr(sys, "stderr", errlog)
        with anyio.fail_after(60):
            check(await load_example().run(["stdio"]))


@pytest.mark.anyio
@pytest.mark.parametrize(("typed", "ended"), [("y\n", True), ("n\n", False)])
async def test_with_ask_the_example_puts_the_servers_question_to_the_person_on_its_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, typed: str, ended: bool
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    with open(tmp_path / "stderr", "w") as errlog:
        monkeypatch.setattr(sys, "stderr", errlog)
        with anyio.fail_after(60):
            summary = await load_example().run(["stdio", "--ask"])
    question = (tmp_path / "stderr").read_text()
    assert "grace.hopper@example.com" in question and "[y/N]" in question
    assert summary["sessions_ended"] is ended
    final = summary["transcript"][-1]
    assert not final["is_error"] and (final["result"].get("declined") is True) is (not ended)


@pytest.mark.anyio
async def test_the_example_agent_runs_over_http_with_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path), "PROPELAUTH_MCP_TOKENS": TOKENS}
    command = [ENTRY_POINT, "--transport", "http", "--port", "0", "--sandbox", "--sandbox-db", ":memory:"]
    monkeypatch.setenv("PROPELAUTH_MCP_TOKEN", ALICE_TOKEN)
    with anyio.fail_after(60):
        async with entry_point_over_http(command, env) as server:
            check(await load_example().run(["http", server.url]))
    assert '"caller":"alice"' in (tmp_path / "propelauth-mcp" / "audit.jsonl").read_text()
