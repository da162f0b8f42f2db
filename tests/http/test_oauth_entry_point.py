"""The console script with --auth propelauth, as a subprocess: it announces the sign-in, serves the
metadata, and with PropelAuth's introspection endpoint unreachable refuses every token with a 503,
never letting one through; the introspection secret and the token appear in no output."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import anyio
import httpx2
import pytest

from tests.http.conftest import ENTRY_POINT, entry_point_over_http

SECRET = "introspection-secret-fedcba9876543210"
TOKEN = "oauth-token-from-somewhere-0123456789"


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.anyio
async def test_the_console_script_signs_in_with_propelauth_and_an_unreachable_introspection_is_a_503(
    tmp_path: Path,
) -> None:
    auth_url = f"http://127.0.0.1:{closed_port()}"
    env = {
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PROPELAUTH_MCP_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
        "PROPELAUTH_AUTH_URL": auth_url,
        "PROPELAUTH_API_KEY": "backend-api-key-0123456789abcdef",
        "PROPELAUTH_MCP_AUTH": "propelauth",
        "PROPELAUTH_MCP_RESOURCE_URL": "http://127.0.0.1:8000/mcp",
        "PROPELAUTH_MCP_SCOPES": "read:users=read-only;admin:users=all",
        "PROPELAUTH_MCP_INTROSPECTION_CLIENT_ID": "introspection-id",
        "PROPELAUTH_MCP_INTROSPECTION_CLIENT_SECRET": SECRET,
        "PROPELAUTH_MCP_OPERATORS_ORG": "org-operators",
        "PYTHONWARNINGS": "always",
    }
    command = [ENTRY_POINT, "--transport", "http", "--port", "0"]
    with anyio.fail_after(90):
        async with entry_point_over_http(command, env) as server, httpx2.AsyncClient() as http:
            metadata = await http.get(f"{server.base}/.well-known/oauth-protected-resource/mcp")
            missing = await http.post(server.url, json={})
            unverifiable = await http.post(server.url, json={}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert metadata.json()["authorization_servers"] == [f"{auth_url}/oauth/2.1"]
    assert missing.status_code == 401
    assert unverifiable.status_code == 503 and unverifiable.json()["error"] == "temporarily_unavailable"
    output = "\n".join(server.stderr)
    assert (
        "auth: PropelAuth sign-in (OAuth 2.1) for http://127.0.0.1:8000/mcp, scopes read:users, admin:users"
        in output
    )
    assert "operators: members of org org-operators" in output
    assert "introspection_unavailable" in output
    assert SECRET not in output and TOKEN not in output
    audit = tmp_path / "audit.jsonl"
    assert not audit.exists() or all(TOKEN not in json.dumps(line) for line in audit.read_text().splitlines())
