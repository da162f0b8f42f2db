"""Every call leaves an exact, redacted, hash-chained audit record; the chain detects tampering."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import structlog
from mcp import Client
from mcp.shared.exceptions import MCPError
from structlog.testing import capture_logs

from sandbox.demo import demo_user_id
from server.app import create_server
from server.audit import AuditTrail, SecretScrubber, verify
from server.logs import configure_logging
from server.settings import Settings
from tests.conftest import API_KEY, CLIENT_INFO
from tools.secrets import REDACTED, SECRET_ARGUMENTS

pytestmark = pytest.mark.anyio

ADA = demo_user_id("ada@example.com")
CLIENT = {"name": CLIENT_INFO.name, "version": CLIENT_INFO.version}


def audit_events(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == "audit"]


def file_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_a_read_leaves_one_exact_outcome_record(client: Client) -> None:
    with capture_logs() as logs:
        await client.call_tool("fetch_user_by_id", {"user_id": ADA})
    [record] = audit_events(logs)
    assert record == {
        "event": "audit",
        "log_level": "info",
        "time": record["time"],
        "kind": "outcome",
        "call_id": record["call_id"],
        "tool": "fetch_user_by_id",
        "operation": "fetchUserById",
        "arguments": {"user_id": ADA},
        "target": {"user_id": ADA},
        "confirmed": None,
        "outcome": "ok",
        "http_status": 200,
        "duration_ms": record["duration_ms"],
        "client": CLIENT,
        "caller": None,
        "caller_identity": None,
        "details": {"attempts": 1},
    }
    assert len(record["call_id"]) == 32 and record["duration_ms"] >= 0


async def test_a_confirmed_destructive_call_writes_intent_then_outcome(client: Client) -> None:
    with capture_logs() as logs:
        await client.call_tool("disable_user", {"user_id": ADA, "confirm": True})
    intent, outcome = audit_events(logs)
    common = {
        "event": "audit",
        "log_level": "info",
        "call_id": intent["call_id"],
        "tool": "disable_user",
        "operation": "disableUser",
        "arguments": {"user_id": ADA, "confirm": True},
        "target": {"user_id": ADA},
        "confirmed": True,
        "client": CLIENT,
        "caller": None,
        "caller_identity": None,
    }
    assert intent == {
        **common,
        "time": intent["time"],
        "kind": "intent",
        "outcome": None,
        "http_status": None,
        "duration_ms": None,
    }
    assert outcome == {
        **common,
        "time": outcome["time"],
        "kind": "outcome",
        "outcome": "ok",
        "http_status": 200,
        "duration_ms": outcome["duration_ms"],
        "confirmation": {"method": "argument", "answer": None, "message": None},
        "details": outcome["details"],
    }


async def test_an_unconfirmed_destructive_call_is_recorded_as_a_preview(client: Client) -> None:
    with capture_logs() as logs:
        await client.call_tool("delete_user", {"user_id": ADA})
    [record] = audit_events(logs)
    assert (record["kind"], record["outcome"], record["confirmed"], record["target"]) == (
        "outcome",
        "preview",
        False,
        {"user_id": ADA},
    )


async def test_invalid_and_unknown_calls_are_recorded_as_rejected(client: Client) -> None:
    with capture_logs() as logs:
        await client.call_tool("fetch_user_by_id", {"user_id": "not-a-uuid"})
        with pytest.raises(MCPError):
            await client.call_tool("no_such_tool", {})
    invalid, unknown = audit_events(logs)
    assert (invalid["tool"], invalid["outcome"], invalid["http_status"]) == (
        "fetch_user_by_id",
        "rejected",
        None,
    )
    assert (unknown["tool"], unknown["outcome"], unknown["details"]) == (
        "no_such_tool",
        "rejected",
        {"reason": "unknown_tool"},
    )


SECRETS = {
    "password": "Sup3r-Secret-Passw0rd!",
    "new_password": "An0ther-Secret-Passw0rd",
    "hash": "$2b$12$SECRETHASHSECRETHASHSECRETHASHSECRETHASH1234",
    "migrated_hash": "$argon2id$v=19$m=65536,t=3,p=4$SECRETSALT$SECRETDIGEST",
    "mfa": "JBSWY3DPEHPK3PXPSECRETMFA",
}


@pytest.fixture
def captured_stderr() -> Iterator[io.StringIO]:
    """Configure logging as the server does, into a buffer, and restore the defaults afterwards."""
    stream = io.StringIO()
    configure_logging("debug", SecretScrubber([API_KEY]), stream=stream)
    yield stream
    structlog.reset_defaults()
    logging.basicConfig(force=True)


async def test_a_session_leaves_a_record_per_call_and_no_secret_anywhere(
    settings: Settings, audit: AuditTrail, sandbox_app: Any, audit_path: Path, captured_stderr: io.StringIO
) -> None:
    """Checked on what is really written: the audit file's bytes and the rendered stderr lines."""
    server = create_server(settings, audit, transport=httpx2.ASGITransport(app=sandbox_app))
    returned_secrets: list[str] = []
    results_text: list[str] = []
    async with Client(server, mode="legacy", client_info=CLIENT_INFO) as client:
        created = await client.call_tool(
            "create_user", {"email": "s@example.com", "password": SECRETS["password"]}
        )
        assert created.structured_content is not None
        new_id = created.structured_content["user_id"]
        calls: list[tuple[str, dict[str, Any]]] = [
            ("update_user_password", {"user_id": new_id, "password": SECRETS["new_password"]}),
            (
                "migrate_user",
                {
                    "email": "m@example.com",
                    "existing_password_hash": SECRETS["hash"],
                    "existing_mfa_base32_encoded_secret": SECRETS["mfa"],
                },
            ),
            ("migrate_user_password", {"user_id": new_id, "password_hash": SECRETS["migrated_hash"]}),
            ("create_user", {"email": "not-an-email", "password": SECRETS["password"]}),
            ("create_magic_link", {"email": "s@example.com"}),
            ("create_access_token", {"user_id": new_id, "duration_in_minutes": 5}),
            ("delete_user", {"user_id": new_id}),
        ]
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            structured = result.structured_content or {}
            returned_secrets += [structured[k] for k in ("url", "access_token") if k in structured]
            if name not in ("create_magic_link", "create_access_token"):
                results_text.append(result.model_dump_json())
    audit.close()
    assert len(returned_secrets) == 2
    file_bytes = audit_path.read_bytes()
    stderr_text = captured_stderr.getvalue()
    records = file_records(audit_path)
    echoed = [json.loads(line) for line in stderr_text.splitlines() if '"event": "audit"' in line]
    # Every record really went to both places, secret-carrying arguments included (as the marker).
    call_ids = {r["call_id"] for r in records}
    assert len(call_ids) == 1 + len(calls) and {e["call_id"] for e in echoed} == call_ids
    assert {r["call_id"] for r in records if r["kind"] == "outcome"} == call_ids
    assert verify(audit_path) == (len(records), None)
    for where in ([r["arguments"] for r in records], [e["arguments"] for e in echoed]):
        secret_arguments = [a[k] for a in where for k in SECRET_ARGUMENTS if k in a]
        assert len(secret_arguments) >= 6 and set(secret_arguments) == {REDACTED}
    written = {"audit": file_bytes.decode(), "stderr": stderr_text, "results": "".join(results_text)}
    for secret in [API_KEY, *SECRETS.values(), *returned_secrets]:
        for place, text in written.items():
            assert secret not in text, f"a secret leaked into {place}"
            assert json.dumps(secret)[1:-1] not in text, f"a JSON-escaped secret leaked into {place}"


def test_verify_counts_an_intact_chain_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    for run in range(2):
        trail = AuditTrail(path)
        for n in range(3):
            trail.write({"kind": "outcome", "call_id": f"{run}-{n}"})
        trail.close()
    assert verify(path) == (6, None)
    assert [r["seq"] for r in file_records(path)] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("echo", [True, False])
def test_without_the_echo_the_file_keeps_every_record_and_the_log_none(tmp_path: Path, echo: bool) -> None:
    path = tmp_path / "audit.jsonl"
    trail = AuditTrail(path, echo=echo)
    with capture_logs() as logs:
        trail.write({"kind": "outcome", "call_id": "c-1"})
    trail.close()
    assert [r["call_id"] for r in file_records(path)] == ["c-1"]
    assert [e["call_id"] for e in audit_events(logs)] == (["c-1"] if echo else [])


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    trail = AuditTrail(path)
    for n in range(5):
        trail.write({"kind": "outcome", "call_id": f"call-{n}", "outcome": "ok"})
    trail.close()
    return path


def rewrite(path: Path, change: Any) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(change(lines)))


def test_verify_reports_an_edited_record(chain: Path) -> None:
    rewrite(chain, lambda lines: [*lines[:2], lines[2].replace('"ok"', '"error"'), *lines[3:]])
    good, problem = verify(chain)
    assert good == 3 and problem is not None and "line 3" in problem and "edited" in problem


def test_verify_reports_a_removed_record(chain: Path) -> None:
    rewrite(chain, lambda lines: [*lines[:2], *lines[3:]])
    good, problem = verify(chain)
    assert good == 2 and problem is not None and "removed" in problem


def test_verify_reports_reordered_records(chain: Path) -> None:
    rewrite(chain, lambda lines: [lines[0], lines[2], lines[1], *lines[3:]])
    good, problem = verify(chain)
    assert good == 1 and problem is not None and "line 2" in problem


async def test_state_changing_tools_refuse_when_the_audit_file_cannot_be_written(
    tmp_path: Path, sandbox_app: Any, sandbox: Any
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    settings = Settings(
        auth_url="http://sandbox.test",
        api_key=API_KEY,
        audit_log=blocker / "audit.jsonl",
        confirmation="argument",
    )
    trail = AuditTrail(settings.audit_path)
    assert not trail.writable
    server = create_server(settings, trail, transport=httpx2.ASGITransport(app=sandbox_app))
    async with Client(server, mode="legacy") as client:
        read = await client.call_tool("fetch_user_by_id", {"user_id": ADA})
        before = sandbox.store.get_user(ADA)
        write = await client.call_tool("disable_user", {"user_id": ADA, "confirm": True})
    assert not read.is_error
    assert write.is_error and "audit" in write.content[0].text
    assert sandbox.store.get_user(ADA) == before


async def test_a_huge_argument_is_clipped_in_the_audit_record(client: Client, audit_path: Path) -> None:
    huge = "x" * 100_000
    with capture_logs() as logs:
        result = await client.call_tool("fetch_user_by_username", {"username": huge})
    [record] = audit_events(logs)
    assert record["arguments"]["username"] == "x" * 256 + "...[100000 chars]"
    assert result.content  # answered, whatever PropelAuth said
    assert max(len(line) for line in audit_path.read_text().splitlines()) < 2000


def test_the_chain_resumes_after_a_record_longer_than_any_read_buffer(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    trail = AuditTrail(path)
    trail.write(
        {"kind": "outcome", "note": "y" * 200_000}
    )  # records written by older versions were unclipped
    trail.close()
    trail = AuditTrail(path)
    trail.write({"kind": "outcome"})
    trail.close()
    assert verify(path) == (2, None)


def test_a_torn_last_record_stops_state_changing_tools_and_says_how_to_recover(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    trail = AuditTrail(path)
    trail.write({"kind": "outcome"})
    trail.close()
    with open(path, "ab") as file:
        file.write(b'{"seq":2,"prev_hash":"ab')  # a crash mid-write
    trail = AuditTrail(path)
    assert not trail.writable and trail.unavailable_reason is not None
    assert "audit verify" in trail.unavailable_reason
