"""The notice on stderr when the stdio server is started in a terminal: a client config to paste."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from server import __version__
from server.console import client_config, running_command, tty_notice

ENTRY_POINT = str(Path(sys.executable).parent / "propelauth-mcp")
SECRETS = ("sk-key-0123456789abcdef", "alice=tok-0123456789abcdef", "r" * 40)


def test_the_console_script_is_named_by_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert running_command(ENTRY_POINT, None, sys.executable) == [ENTRY_POINT]
    monkeypatch.chdir(Path(ENTRY_POINT).parent.parent)
    assert running_command("bin/propelauth-mcp", None, sys.executable) == [ENTRY_POINT]
    script = tmp_path / "propelauth-mcp"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert running_command("propelauth-mcp", None, sys.executable) == [str(script)]


def test_python_dash_m_is_named_as_the_interpreter_and_the_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(sys.executable).parent)
    command = running_command("/checkout/server/cli.py", "server.cli", "./" + Path(sys.executable).name)
    assert command == [os.path.abspath(sys.executable), "-m", "server.cli"]


@pytest.mark.parametrize(
    "command", [[ENTRY_POINT], [sys.executable, "-m", "server.cli"]], ids=["console-script", "python-m"]
)
def test_the_suggested_command_starts_this_server_from_any_directory(
    command: list[str], tmp_path: Path
) -> None:
    entry = client_config(command, ["--version"], {})["mcpServers"]["propelauth"]
    proc = subprocess.run(
        [entry["command"], *entry["args"]], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and __version__ in proc.stdout


def test_the_config_keeps_the_flags_but_never_a_secret() -> None:
    args = ["--sandbox", "--api-key", SECRETS[0], f"--tokens={SECRETS[1]}", "--read-only"]
    args += ["--request-state-k", SECRETS[2], "--toolsets", "users"]  # argparse takes abbreviations
    config = client_config([ENTRY_POINT], args, {})
    entry = config["mcpServers"]["propelauth"]
    assert entry["args"] == ["--sandbox", "--read-only", "--toolsets", "users"]
    assert set(entry["env"]) == {
        "PROPELAUTH_API_KEY",
        "PROPELAUTH_MCP_TOKENS",
        "PROPELAUTH_MCP_REQUEST_STATE_KEYS",
    }
    assert not any(secret in json.dumps(config) for secret in SECRETS)


def test_settings_from_the_environment_come_along_with_secrets_as_placeholders() -> None:
    environ = {"PROPELAUTH_AUTH_URL": "https://auth.acme.com", "PROPELAUTH_API_KEY": SECRETS[0], "HOME": "/h"}
    entry = client_config([ENTRY_POINT], [], environ)["mcpServers"]["propelauth"]
    assert entry["env"]["PROPELAUTH_AUTH_URL"] == "https://auth.acme.com"
    assert entry["env"]["PROPELAUTH_API_KEY"] != SECRETS[0] and "HOME" not in entry["env"]


def test_the_notice_holds_the_json_of_the_running_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [ENTRY_POINT, "--sandbox", "--api-key", SECRETS[0]])
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))  # a script, not -m
    monkeypatch.delenv("PROPELAUTH_AUTH_URL", raising=False)
    monkeypatch.delenv("PROPELAUTH_API_KEY", raising=False)
    notice = tty_notice()
    assert "waiting for an MCP client" in notice and "Ctrl-C to stop" in notice
    config = json.loads(notice[notice.index("{") : notice.rindex("}") + 1])
    entry = config["mcpServers"]["propelauth"]
    assert Path(entry["command"]).is_absolute() and entry["args"] == ["--sandbox"]
    assert SECRETS[0] not in notice
