"""One session over stdio runs every tool with known secret values; none of them turns up in stdout, stderr,
the audit file or any tool result other than the one that legitimately returns a secret (the magic link,
the access token). stdout carries only JSON-RPC messages, even with warnings raised in the server.

Run twice: with the in-process sandbox (`--sandbox`, its API key generated in the server), and against the
standalone sandbox on a loopback port with an API key we know, so the key itself is checked too.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from sandbox.demo import demo_user_id
from tests.demo_arguments import SECRET_DEMO_VALUES, demo_arguments
from tools import get_definition, tool_definitions

ENTRY_POINT = str(Path(sys.executable).parent / "propelauth-mcp")
ADA = demo_user_id("ada@example.com")
KENJI = demo_user_id("kenji.watanabe@example.com")
EMPLOYEE = "3f8a2c1e-6b4d-4e7a-9c2b-5d1e8f0a7b31"
KNOWN_API_KEY = "sk-known-trust-test-4f9d2c7a1b8e6f30"

SECRETS = {
    "password": "Trust-Test-Passw0rd-1xq9",
    "second_password": "Another-Trust-Passw0rd-7kz2",
    "invalid_call_password": "Passw0rd-In-An-Invalid-Call-3mv8",
    "password_hash": "$2b$12$TRUSTTESTHASHtrusttesthashTRUSTTESThash0123456789ab",
    "migrated_hash": "$argon2id$v=19$m=65536,t=3,p=4$TRUSTSALTtrustsalt$TRUSTDIGESTtrustdigest",
    "mfa_secret": "JBSWY3DPEHPK3PXPTRUSTMFASECRET77",
}
WARNING_MARKER = "trust-test-warning-raised-in-the-server"
SITECUSTOMIZE = f"""
import atexit, warnings
warnings.warn({WARNING_MARKER!r} + " at start-up", UserWarning)
atexit.register(lambda: warnings.warn({WARNING_MARKER!r} + " at exit", UserWarning))
"""


class RawSession:
    """A JSON-RPC client over the server's stdin/stdout that keeps every stdout line it reads."""

    def __init__(self, argv: list[str], env: dict[str, str], stderr: IO[str]) -> None:
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
        )
        self.watchdog = threading.Timer(90, self.proc.kill)  # readline has no timeout: bound the session
        self.watchdog.start()
        self.stdout_lines: list[str] = []
        self.next_id = 0

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            assert line, "the server closed stdout"
            self.stdout_lines.append(line)
            message = json.loads(line)
            if message.get("id") == self.next_id:
                return message  # type: ignore[no-any-return]

    def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        reply = self.request("tools/call", {"name": name, "arguments": arguments})
        assert "result" in reply, reply
        return reply["result"]  # type: ignore[no-any-return]

    def close(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        code = self.proc.wait(timeout=60)
        self.stdout_lines += self.proc.stdout.read().splitlines(keepends=True)
        self.proc.stdout.close()
        self.watchdog.cancel()
        return code


def every_tool(session: RawSession, listed: set[str]) -> tuple[list[str], list[str], set[str]]:
    """Call every listed tool, destructive ones confirmed: (ordinary results, returned secrets, called).

    The tools that take or return a secret are called by hand, with the secrets; every other one with
    demo arguments built from its schema (tests/demo_arguments.py), so a new tool is covered unasked.
    """
    ordinary: list[str] = []
    returned: list[str] = []
    called: set[str] = set()

    def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Call a tool; the credential a tool hands its caller (its entry's returned_secret) is kept apart."""
        result = session.call(name, arguments)
        called.add(name)
        definition = get_definition(name)
        field = definition.entry.returned_secret if definition else None
        secret = (result.get("structuredContent") or {}).get(field) if field else None
        if isinstance(secret, str):
            returned.append(secret)
        else:
            ordinary.append(json.dumps(result))
        return result

    created = call(
        "create_user",
        {
            "email": "leak.check@example.com",
            "password": SECRETS["password"],
            "username": "leakcheck",
            "email_confirmed": True,
        },
    )
    assert not created["isError"], created
    user = created["structuredContent"]["user_id"]
    call("create_user", {"email": "not-an-email", "password": SECRETS["invalid_call_password"]})
    call("update_user_password", {"user_id": "../employee/x", "password": SECRETS["invalid_call_password"]})
    call("fetch_user_by_id", {"user_id": user, "include_orgs": True})
    call("fetch_user_by_email", {"email": "leak.check@example.com"})
    call("fetch_user_by_username", {"username": "leakcheck"})
    call("query_users", {"email_or_username": "leak", "page_size": 5})
    call("update_user", {"user_id": user, "first_name": "Leak", "metadata": {"note": "checked"}})
    call(
        "update_user_email",
        {"user_id": user, "new_email": "leak.check2@example.com", "require_email_confirmation": False},
    )
    call("update_user_password", {"user_id": user, "password": SECRETS["second_password"]})
    call("clear_user_password", {"user_id": user, "confirm": True})
    call("disable_user", {"user_id": user, "confirm": True})
    call("enable_user", {"user_id": user})
    call("disable_user_2fa", {"user_id": ADA, "confirm": True})
    call("logout_all_user_sessions", {"user_id": user, "confirm": True})
    call("resend_email_confirmation", {"user_id": KENJI})
    call("create_magic_link", {"email": "leak.check2@example.com"})
    call("create_access_token", {"user_id": user, "duration_in_minutes": 5})
    migrated = call(
        "migrate_user",
        {
            "email": "migrated.leak@example.com",
            "existing_password_hash": SECRETS["password_hash"],
            "existing_mfa_base32_encoded_secret": SECRETS["mfa_secret"],
            "email_confirmed": True,
        },
    )
    assert not migrated["isError"], migrated
    call(
        "migrate_user_password",
        {"user_id": migrated["structuredContent"]["user_id"], "password_hash": SECRETS["migrated_hash"]},
    )
    call("fetch_employee_by_id", {"employee_id": EMPLOYEE})
    for name in sorted(listed - called - {"delete_user"}):
        definition = get_definition(name)
        assert definition is not None, name
        call(name, demo_arguments(definition))
    call("delete_user", {"user_id": user, "confirm": True})
    assert len(returned) >= 2  # at least the magic link and the access token
    return ordinary, returned, called


def initialize(session: RawSession) -> None:
    reply = session.request(
        "initialize",
        {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "leak-check", "version": "0"},
        },
    )
    assert "result" in reply
    session.send({"jsonrpc": "2.0", "method": "notifications/initialized"})


def server_env(tmp_path: Path) -> dict[str, str]:
    customize = tmp_path / "customize"
    customize.mkdir()
    (customize / "sitecustomize.py").write_text(SITECUSTOMIZE)
    base = {k: v for k, v in os.environ.items() if not k.startswith("PROPELAUTH")}
    return {
        **base,
        "PROPELAUTH_MCP_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PROPELAUTH_MCP_LOG_LEVEL": "debug",  # the most the server ever writes
        "PYTHONWARNINGS": "always",
        "PYTHONDEVMODE": "1",  # also ResourceWarnings and asyncio debug output
        "PYTHONPATH": os.pathsep.join(filter(None, [str(customize), os.environ.get("PYTHONPATH")])),
    }


def check_session(tmp_path: Path, argv: list[str], known_secrets: list[str]) -> None:
    stderr_path = tmp_path / "stderr.txt"
    with open(stderr_path, "w") as stderr:
        session = RawSession(argv, server_env(tmp_path), stderr)
        try:
            initialize(session)
            listed = session.request("tools/list", {})["result"]["tools"]
            ordinary, returned, called = every_tool(session, {tool["name"] for tool in listed})
        finally:
            code = session.close()
    assert code == 0
    assert called == {tool["name"] for tool in listed} == {d.name for d in tool_definitions()}

    for line in session.stdout_lines:  # stdout: JSON-RPC messages and nothing else
        message = json.loads(line)
        assert message["jsonrpc"] == "2.0" and ("id" in message or "method" in message)

    stderr_text = stderr_path.read_text()
    assert WARNING_MARKER in stderr_text  # warnings really were raised, and went to stderr
    audit_text = (tmp_path / "audit.jsonl").read_text()
    assert len(audit_text.splitlines()) >= 20
    # The replies that legitimately carry a link or a token are on stdout: check stdout without them.
    secret_replies = [line for line in session.stdout_lines if any(value in line for value in returned)]
    assert len(secret_replies) == len(returned)
    everything = {
        "stdout": "".join(line for line in session.stdout_lines if line not in secret_replies),
        "stderr": stderr_text,
        "audit": audit_text,
        "results": "\n".join(ordinary),
    }
    for secret in [*SECRETS.values(), *SECRET_DEMO_VALUES, *known_secrets, *returned]:
        for place, text in everything.items():
            assert secret not in text, f"a secret leaked into {place}"
            assert json.dumps(secret)[1:-1] not in text, f"a JSON-escaped secret leaked into {place}"


@pytest.fixture
def standalone_sandbox() -> Iterator[str]:
    """`python -m sandbox` on a free loopback port with a known API key; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--port",
            str(port),
            "--api-key",
            KNOWN_API_KEY,
            "--db",
            ":memory:",
            "--seed",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(30, proc.kill)
    watchdog.start()
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # bounded by the watchdog
            if "ready at" in line:
                break
        else:
            pytest.fail("the standalone sandbox did not start")
        watchdog.cancel()
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep draining its log
        yield f"http://127.0.0.1:{port}"
    finally:
        watchdog.cancel()
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def test_no_secret_leaks_from_a_session_with_the_in_process_sandbox(tmp_path: Path) -> None:
    check_session(tmp_path, [ENTRY_POINT, "--sandbox", "--sandbox-db", ":memory:", "--toolsets", "all"], [])


def test_no_secret_leaks_from_a_session_against_propelauth_with_a_known_api_key(
    tmp_path: Path, standalone_sandbox: str
) -> None:
    check_session(
        tmp_path,
        [ENTRY_POINT, "--auth-url", standalone_sandbox, "--api-key", KNOWN_API_KEY, "--toolsets", "all"],
        [KNOWN_API_KEY],
    )
