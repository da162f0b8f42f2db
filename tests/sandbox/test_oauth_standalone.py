"""`propelauth-mcp sandbox`'s OAuth flags, its start-up lines, and the whole flow over a real port."""

from __future__ import annotations

import base64
import hashlib
import os
import queue
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from sandbox.oauth_config import OAuthSettings
from sandbox.standalone import build_parser, main, oauth_announcement, oauth_options

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0


def test_the_oauth_flags_become_the_apps_oauth_options() -> None:
    args = build_parser().parse_args(
        [
            "--introspection-credentials",
            "intro:s3cr:et",
            "--oauth-auto-approve",
            "ada@example.com",
            "--oauth-scopes",
            "read:users, support",
            "--oauth-token-ttl",
            "5",
        ]
    )
    assert oauth_options(args) == {
        "oauth_introspection_credentials": ("intro", "s3cr:et"),  # split at the first colon
        "oauth_auto_approve": "ada@example.com",
        "oauth_scopes": ["read:users", "support"],
        "oauth_token_ttl_s": 5,
    }


def test_the_oauth_defaults_generate_credentials_and_grant_read_and_admin_scopes() -> None:
    options = oauth_options(build_parser().parse_args([]))
    assert options["oauth_introspection_credentials"] is None
    assert options["oauth_auto_approve"] is None
    assert options["oauth_scopes"] == ["read:users", "admin:users"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--introspection-credentials", "no-colon"],
        ["--introspection-credentials", ":secret"],
        ["--oauth-scopes", ","],
    ],
)
def test_a_bad_oauth_flag_is_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "propelauth-mcp sandbox:" in capsys.readouterr().err


def test_the_start_up_lines_show_the_secret_only_when_it_was_generated() -> None:
    settings = OAuthSettings(introspection_client_id="intro", introspection_client_secret="hush")
    generated = oauth_announcement("http://127.0.0.1:8787", settings, generated=True)
    given = oauth_announcement("http://127.0.0.1:8787", settings, generated=False)
    assert "issuer: http://127.0.0.1:8787/oauth/2.1" in generated and "client id: intro" in generated
    assert "hush" in generated
    assert "hush" not in given and "client id: intro" in given


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_ready(process: subprocess.Popen[str], lines: queue.Queue[str]) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    while "authorize signs in" not in "".join(seen):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"the sandbox did not start: {''.join(seen)}"
        try:
            seen.append(lines.get(timeout=remaining))
        except queue.Empty:
            continue
    return "".join(seen)


def test_a_client_signs_in_and_a_resource_server_introspects_over_a_real_port() -> None:
    port = _free_port()
    command = [sys.executable, "-m", "sandbox", "--port", str(port), "--db", ":memory:", "--seed"]
    command += ["--oauth-auto-approve", "ada@example.com", "--introspection-credentials", "intro:hush"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None and process.stdout is not None
    stderr = process.stderr

    def copy_lines() -> None:
        for line in stderr:
            lines.put(line)

    pump = threading.Thread(target=copy_lines, daemon=True)
    pump.start()
    try:
        started = _wait_until_ready(process, lines)
        base = f"http://127.0.0.1:{port}"
        assert f"issuer: {base}/oauth/2.1" in started and "client id: intro" in started
        assert "hush" not in started
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        redirect_uri = "http://127.0.0.1:9/callback"
        with httpx2.Client(base_url=base, timeout=5) as http:
            metadata = http.get("/.well-known/oauth-authorization-server/oauth/2.1").json()
            client_id = http.post(
                metadata["registration_endpoint"],
                json={"redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none"},
            ).json()["client_id"]
            params = {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "state": "s",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "resource": "http://127.0.0.1:8000/mcp",
            }
            location = http.get(metadata["authorization_endpoint"], params=params).headers["location"]
            code = parse_qs(urlsplit(location).query)["code"][0]
            tokens = http.post(
                metadata["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "client_id": client_id,
                    "code_verifier": verifier,
                },
            ).json()
            introspected = http.post(
                metadata["introspection_endpoint"],
                data={"token": tokens["access_token"]},
                auth=("intro", "hush"),
            ).json()
        assert introspected["active"] is True
        assert introspected["email"] == "ada@example.com"
        assert introspected["aud"] == "http://127.0.0.1:8000/mcp"
        assert re.fullmatch(r"[0-9a-f-]{36}", introspected["sub"])
    finally:
        process.terminate()
        process.wait(timeout=10)
        pump.join(timeout=10)  # the pipe ends with the process
        process.stdout.close()
        stderr.close()
